// The documentation is executable: every `onnx-reparam` / `npx onnx-reparam` line in a shell
// block of README.md or docs/*.md runs here, as written, through the CLI's sources, in a
// folder that holds fixtures under the file names the docs use (STAGE). A command that names
// an unknown flag, a file the docs never introduce, or fails in any way fails this test with
// the file and line. The synopsis blocks of the reference are checked against each
// command's --help, the README's quick start against CI, and every relative link resolves.
import { afterAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fixturePath, REPO } from "./helpers/fixtures.ts";
import { codeLines, DOC_FILES, docCommands, helpFlags, relativeLinks, synopsis, type DocCommand } from "./helpers/doc-commands.ts";

/** The file names the docs use, and the fixture that stands in for each. */
const STAGE: Record<string, string> = {
  "yolov8s-worldv2.onnx": "ultralytics-world-op20-static-meta.onnx", // an Ultralytics-style YOLOWorld export, COCO names in its metadata
  "names.txt": "vocab/names-k20.txt",
  "texts.npy": "vocab/texts-k20.npy",
  "clip-vit-base-patch32": "clip-tiny", // the Hugging Face layout: tokenizer.json + onnx/text_model.onnx
};
const CLASSES_TXT = "person\ncar\nbus\n";

/**
 * Flags the docs show for features other branches are adding: a command using one is skipped,
 * saying so, while the command's --help does not list it, and runs like any other once it does.
 * A flag missing from both --help and this list fails.
 */
const PENDING: Record<string, string> = {
};

const root = mkdtempSync(join(tmpdir(), "docs-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function stage(name: string): string {
  const dir = mkdtempSync(join(root, `${name.replace(/\W/g, "_")}-`));
  for (const [as, from] of Object.entries(STAGE)) {
    if (as.endsWith(".onnx") || as.endsWith(".txt") || as.endsWith(".npy")) copyFileSync(fixturePath(from), join(dir, as));
    else symlinkSync(fixturePath(from), join(dir, as), "dir");
  }
  writeFileSync(join(dir, "classes.txt"), CLASSES_TXT);
  return dir;
}

/** A finished run; or, with `until`, a running one that printed the match (kill ends it). */
interface Run { code: number | null; stdout: string; stderr: string; match?: RegExpExecArray; kill?: () => void }

/** node cli/bin.js ARGS in cwd; `until` ends a long-running command (web) once stdout matches it. */
function run(args: string[], cwd: string, until?: RegExp, timeoutMs = 300_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, "cli", "bin.js"), ...args], {
      cwd, env: { ...process.env, NODE_NO_WARNINGS: "1", NO_COLOR: "1", DEBUG: "" }, stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "", stderr = "";
    let match: RegExpExecArray | undefined;
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      if (until && !match && (match = until.exec(stdout) ?? undefined)) { clearTimeout(timer); resolve({ code: null, stdout, stderr, match, kill: () => child.kill() }); }
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => { stderr += d; });
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`timed out: onnx-reparam ${args.join(" ")}`)); }, timeoutMs);
    child.on("error", (e) => { clearTimeout(timer); reject(e); });
    child.on("close", (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

const helps = new Map<string, Promise<Set<string>>>();
/** The long flags `onnx-reparam CMD --help` lists (the global ones for CMD null). */
function flagsOf(command: string | null): Promise<Set<string>> {
  const key = command ?? "";
  if (!helps.has(key)) {
    helps.set(key, run([...(command ? [command] : []), "--help"], REPO).then((r) => {
      if (r.code !== 0) throw new Error(`onnx-reparam ${key} --help exited ${r.code}: ${r.stderr}`);
      return helpFlags(r.stdout);
    }));
  }
  return helps.get(key)!;
}

/** The pending feature a command waits for, or null when every flag it uses is known. */
async function waitingFor(command: string | null, flags: string[]): Promise<string | null> {
  const known = await flagsOf(command);
  for (const f of flags) {
    const why = PENDING[`${command} ${f}`];
    if (why && !known.has(f)) return why;
  }
  return null;
}

const flagsIn = (args: string[]) => args.filter((a) => a.startsWith("--")).map((a) => a.replace(/^--no-/, "--").split("=")[0]);
const where = (c: { file: string; line: number }) => `${c.file}:${c.line}`;

/** Runs one documented command; returns a failure message, or null. */
async function check(c: DocCommand, cwd: string): Promise<string | null> {
  const command = c.args[0]?.startsWith("-") ? null : c.args[0] ?? null;
  const why = await waitingFor(command, flagsIn(c.args));
  if (why) {
    console.warn(`[docs] SKIP ${where(c)} \`${c.text}\`: waits for ${why}`);
    return null;
  }
  if (command === "web" && c.args.includes("--out")) {
    // The static page: written, then it must hold the page and onnxruntime-web's WASM.
    const r = await run(c.args, cwd);
    if (r.code !== 0) return `${where(c)} \`${c.text}\` exited ${r.code}: ${r.stderr.trim()}`;
    const out = join(cwd, c.args[c.args.indexOf("--out") + 1]);
    for (const f of ["index.html", "worker.js", "ort/ort-wasm-simd-threaded.wasm"]) if (!existsSync(join(out, f))) return `${where(c)} \`${c.text}\` wrote no ${f}`;
    return null;
  }
  if (command === "web") {
    // The page server runs until stopped: on a free port, until it says where, then one request.
    const args = c.args.filter((a, i) => a !== "--port" && c.args[i - 1] !== "--port");
    const r = await run([...args, "--port", "0"], cwd, /serving the page at (\S+)/);
    if (!r.match) return `${where(c)} \`${c.text}\` did not serve (exit ${r.code}): ${r.stderr.trim()}`;
    try {
      const res = await fetch(r.match[1]);
      if (res.status !== 200) return `${where(c)} \`${c.text}\`: GET / answered ${res.status}`;
    } finally {
      r.kill?.();
    }
    return null;
  }
  const expected = Number(/\bexit (\d+)/.exec(c.comment)?.[1] ?? 0);
  const r = await run(c.args, cwd);
  return r.code === expected ? null : `${where(c)} \`${c.text}\` exited ${r.code} (expected ${expected}): ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`;
}

describe("every documented command runs", () => {
  it("the docs hold the commands this test knows they hold", () => {
    const all = DOC_FILES.flatMap(docCommands);
    // the README's walkthrough is there, and the parser sees it (a broken fence would hide commands)
    const readme = all.filter((c) => c.file === "README.md").map((c) => c.args[0]);
    for (const cmd of ["demo", "inspect", "reparam", "embed", "validate", "bench"]) expect(readme, cmd).toContain(cmd);
    expect(all.length).toBeGreaterThanOrEqual(15);
  });

  // One document after another: the commands are CPU-bound, and running them side by side on a
  // small machine only slows the other test files down.
  describe.each(DOC_FILES.filter((f) => docCommands(f).length > 0))("%s", (file) => {
    it("runs every onnx-reparam command, in order, in a folder of stand-in fixtures", async () => {
      const cwd = stage(file);
      const failures: string[] = [];
      for (const c of docCommands(file)) {
        const f = await check(c, cwd);
        if (f) failures.push(f);
      }
      expect(failures).toEqual([]);
    }, 900_000);
  });
});

describe("the command reference", () => {
  const entries = DOC_FILES.flatMap(synopsis);
  it("has a synopsis for every command", () => {
    const commands = new Set(entries.map((e) => e.command));
    for (const cmd of ["reparam", "inspect", "demo", "embed", "validate", "bench", "web", null]) expect(commands, String(cmd)).toContain(cmd);
  });
  it.each(entries.map((e) => [where(e), e] as const))("%s: every flag in the synopsis is one the command takes", async (_w, e) => {
    const known = await flagsOf(e.command);
    const unknown: string[] = [];
    for (const f of new Set(e.flags)) {
      if (known.has(f)) continue;
      const why = PENDING[`${e.command} ${f}`];
      if (why) console.warn(`[docs] SKIP ${where(e)} ${e.command} ${f}: waits for ${why}`);
      else unknown.push(f);
    }
    expect(unknown, `onnx-reparam ${e.command ?? ""} --help does not list these`).toEqual([]);
  });
});

describe("the README", () => {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  it("is short: at most 200 lines, the walkthrough second", () => {
    expect(readme.split("\n").length).toBeLessThanOrEqual(200);
    const sections = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(sections.slice(0, 2)).toEqual(["Install and quick start", "Your own model"]);
  });
  it("gives the install-and-run line and the test command, and CI runs that test command", () => {
    const shell = codeLines("README.md").filter((l) => l.lang === "sh").map((l) => l.text.replace(/\s+#.*$/, "").trim());
    expect(shell).toContain("npm ci && npx onnx-reparam demo");
    expect(shell).toContain("npm test");
    const ci = readFileSync(join(REPO, ".ci", "run"), "utf8").split("\n").map((l) => l.trim());
    expect(ci.some((l) => /^npm test\b/.test(l))).toBe(true);
  });
  it("has a LICENSE, MIT as package.json says", () => {
    expect(JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).license).toBe("MIT");
    expect(readFileSync(join(REPO, "LICENSE"), "utf8")).toMatch(/^MIT License\n\nCopyright \(c\) 2026 onnx-reparam contributors\n/);
  });
});

describe("links", () => {
  it.each(DOC_FILES)("%s: every relative link points at a file of the repository", (file) => {
    const broken = relativeLinks(file).filter((l) => !existsSync(join(REPO, dirname(file), l.target))).map((l) => `${file}:${l.line} ${l.target}`);
    expect(broken).toEqual([]);
  });
});
