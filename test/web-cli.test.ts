// `onnx-reparam web` as a user runs it: --port takes a decimal port only (else exit 2, one
// line); --port 0 prints the URL it serves, and the page, its worker and onnxruntime-web's
// files come back with the headers that make it cross-origin isolated; --out writes the
// page for a static host and prints the headers that host must send.
import { afterAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ownStderrLines, runCli } from "./helpers/cli.ts";
import { startWeb } from "./helpers/web-process.ts";
import { REPO } from "./helpers/fixtures.ts";
import { parsePort } from "../cli/web.ts";

const tmp = mkdtempSync(join(tmpdir(), "web-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const ORT = join(REPO, "node_modules/onnxruntime-web/dist");

describe("onnx-reparam web", () => {
  it("--port takes a decimal integer from 0 to 65535, nothing else: exit 2, one line", async () => {
    const bad = ["", "0x1F90", "1e3", "-1", "65536", "8080.0", " 80", "80 ", "+80", "123456", "port", "٨٠"];
    for (const p of bad) expect(() => parsePort(p), JSON.stringify(p)).toThrow(`--port expects a decimal integer from 0 to 65535, got ${JSON.stringify(p)}`);
    expect(["0", "80", "08080", "65535"].map(parsePort)).toEqual([0, 80, 8080, 65535]);
    // the CLI: exit 2 and that one line (yargs must not turn '' or 0x1F90 into a number first)
    const runs = await Promise.all([...["", "0x1F90", "1e3"].map((p) => runCli(["web", `--port=${p}`])), runCli(["web", "--port", "0", "--port", "1"]), runCli(["web", "--port", "0", "--out", join(tmp, "x")])]);
    for (const [i, p] of ["", "0x1F90", "1e3"].entries()) {
      expect([runs[i].code, ownStderrLines(runs[i].stderr), runs[i].stdout], p).toEqual([2, [`onnx-reparam: --port expects a decimal integer from 0 to 65535, got ${JSON.stringify(p)}`], ""]);
    }
    expect([runs[3].code, ownStderrLines(runs[3].stderr)]).toEqual([2, ["onnx-reparam: --port was given more than once"]]);
    expect([runs[4].code, ownStderrLines(runs[4].stderr)]).toEqual([2, ["onnx-reparam: --out writes the page and serves nothing: give --out or --port, not both"]]);
  });

  it("--port 0 serves the page isolated, onnxruntime-web's files from the dependency", async () => {
    const web = await startWeb(process.execPath, [join(REPO, "cli/bin.js"), "web", "--port", "0"], { cwd: REPO });
    try {
      const page = await fetch(web.url);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/data-testid="model-input"/);
      for (const [k, v] of [["cross-origin-opener-policy", "same-origin"], ["cross-origin-embedder-policy", "require-corp"], ["x-content-type-options", "nosniff"]]) expect(page.headers.get(k), k).toBe(v);
      expect((await fetch(new URL("worker.js", web.url))).status).toBe(200);
      const wasm = await fetch(new URL("ort/ort-wasm-simd-threaded.wasm", web.url));
      expect([wasm.status, wasm.headers.get("content-type")]).toEqual([200, "application/wasm"]);
      expect(Buffer.from(await wasm.arrayBuffer()).equals(readFileSync(join(ORT, "ort-wasm-simd-threaded.wasm")))).toBe(true);
      for (const outside of ["%2e%2e/package.json", "..%2f..%2fpackage.json", "missing.js"]) expect((await fetch(new URL(outside, web.url))).status, outside).toBe(404);
    } finally {
      await web.stop();
    }
  });

  it("--out writes the page for a static host and prints the headers it needs; never over a folder in use", async () => {
    const out = join(tmp, "site");
    const r = await runCli(["web", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["index.html", "main.js", "ort", "worker.js"]);
    for (const f of ["ort-wasm-simd-threaded.wasm", "ort-wasm-simd-threaded.mjs"]) expect(readFileSync(join(out, "ort", f)).equals(readFileSync(join(ORT, f))), f).toBe(true);
    expect(r.stdout).toMatch(/^ {2}Cross-Origin-Opener-Policy: same-origin$/m);
    expect(r.stdout).toMatch(/^ {2}Cross-Origin-Embedder-Policy: require-corp$/m);
    expect(r.stdout).toMatch(/^ {2}Content-Security-Policy: default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; /m);
    expect(r.stdout).toMatch(/^and for \/worker\.js only .*\n {2}Content-Security-Policy: .*'unsafe-eval'/m);
    // an existing folder with files is left alone unless --force
    writeFileSync(join(tmp, "keep.txt"), "x");
    const taken = join(tmp, "taken");
    await runCli(["web", "--out", taken]);
    writeFileSync(join(taken, "mine.txt"), "mine");
    const refused = await runCli(["web", "--out", taken]);
    expect([refused.code, ownStderrLines(refused.stderr)]).toEqual([2, [`onnx-reparam: --out ${taken} is not empty (--force replaces it)`]]);
    expect(readFileSync(join(taken, "mine.txt"), "utf8")).toBe("mine");
    expect((await runCli(["web", "--out", taken, "--force"])).code).toBe(0);
    expect(existsSync(join(taken, "mine.txt"))).toBe(false);
    expect(statSync(join(taken, "index.html")).isFile()).toBe(true);
    expect(readdirSync(tmp).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });
});
