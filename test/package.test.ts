// The package as a dependent project gets it: `npm pack`, install the tarball into a fresh
// project (registry deps from npm's cache when it has them; onnxruntime-node's CUDA
// download skipped as the README tells consumers), then use it the three ways a user would:
// the README's Library example as a plain .mjs, a TypeScript consumer type-checked against
// the shipped .d.ts, and the CLI through npx (--version, demo).
import { afterAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO } from "./helpers/fixtures.ts";
import { checkReadmeExampleRun, readmeLibraryExample } from "./helpers/readme-example.ts";

const exec = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), "pkg-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// A test run under `npm test` inherits npm_* variables (npm_config_*, npm_package_json) that
// would reconfigure the npm calls below: start them from a clean environment.
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== "INIT_CWD"));
Object.assign(env, { ONNXRUNTIME_NODE_INSTALL: "skip", NODE_NO_WARNINGS: "1", NO_COLOR: "1" });

const run = async (cmd: string, args: string[], cwd: string) => {
  try {
    return await exec(cmd, args, { cwd, env, encoding: "utf8", maxBuffer: 64 << 20, timeout: 300_000 });
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed: ${x.message}\n${x.stdout ?? ""}\n${x.stderr ?? ""}`);
  }
};
const npm = (args: string[], cwd: string) => run("npm", [...args, "--prefer-offline", "--no-audit", "--no-fund"], cwd);

describe("the npm package", () => {
  it("packs small, installs into a fresh project, and works from .mjs, TypeScript and npx", async () => {
    // pack (prepare builds dist/ from the current sources first)
    // prepare's own output may precede the JSON on stdout: it starts at the line that is "["
    const packOut = (await npm(["pack", "--json", "--pack-destination", root], REPO)).stdout;
    const packed = JSON.parse(packOut.slice(packOut.search(/^\[$/m)))[0];
    const files: string[] = packed.files.map((f: { path: string }) => f.path);
    expect(packed.size, "tarball bytes").toBeLessThan(2 * 2 ** 20);
    for (const f of ["dist/passes/index.js", "dist/passes/index.d.ts", "dist/passes/io/onnx.proto", "dist/cli/main.js", "models/fixtures/full-bn-einsum-op17-static.onnx", "README.md", "package.json"]) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => !/^(dist\/.*\.(js|d\.ts|proto)|models\/fixtures\/full-bn-einsum-op17-static\.onnx|README\.md|package\.json)$/.test(f))).toEqual([]);

    // a fresh consumer project, set up as the README's "Using onnx-reparam from another project" says
    const app = join(root, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module", allowScripts: { "onnxruntime-node": false } }));
    const install = await npm(["install", join(root, packed.filename)], app);
    // npm 11 lists a local tarball's own `prepare` as an install script (it does not run it,
    // and does not list it for registry installs); nothing about onnxruntime-node or config.
    expect(install.stderr).not.toMatch(/onnxruntime|Unknown .*config/);
    const pkg = join(app, "node_modules", "onnx-reparam");
    expect(existsSync(join(pkg, "test"))).toBe(false);
    expect(existsSync(join(app, "node_modules", "tsx"))).toBe(false); // no TypeScript runner at run time

    // plain .mjs: the README's Library example, on the demo model shipped in the package
    const out = join(app, "out");
    mkdirSync(out);
    writeFileSync(join(app, "example.mjs"), readmeLibraryExample(join(pkg, "models/fixtures/full-bn-einsum-op17-static.onnx"), out));
    checkReadmeExampleRun((await run(process.execPath, ["example.mjs"], app)).stdout, out);

    // TypeScript: types come from the shipped .d.ts (a wrong call must be a type error, so they are not `any`)
    writeFileSync(join(app, "consumer.ts"), [
      'import { loadModel, encodeModel, saveModel, reparamFile, validateFiles, benchModels, EXIT, type LoadedModel, type ReparamFileResult, type ValidateFilesResult } from "onnx-reparam";',
      'const m: LoadedModel = loadModel("model.onnx");',
      "const bytes: Uint8Array = encodeModel(m);",
      "const again: Uint8Array = encodeModel(m.proto);",
      'const r: Promise<ReparamFileResult> = reparamFile({ input: "a.onnx", output: "b.onnx", onProgress: (p) => void p.message.length });',
      'const v: Promise<ValidateFilesResult> = validateFiles("a.onnx", "b.onnx", { runs: 2 });',
      'const t: Promise<number | null> = benchModels({ path: "a.onnx" }, null, { runs: 5 }).then((x) => x.ratio);',
      "const ok: 0 = EXIT.OK;",
      "// @ts-expect-error a GraphProto is not a LoadedModel",
      'saveModel(m.proto.graph, "x.onnx");',
      "// @ts-expect-error source is a string",
      "const n: number = m.source;",
      "export { bytes, again, r, v, t, ok, n };",
    ].join("\n"));
    writeFileSync(join(app, "tsconfig.json"), JSON.stringify({ compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, types: [] }, files: ["consumer.ts"] }));
    await run(process.execPath, [join(REPO, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], app);

    // the CLI through npx: compiled, no tsx
    expect((await run("npx", ["onnx-reparam", "--version"], app)).stdout.trim()).toBe(JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version);
    const demo = await run("npx", ["onnx-reparam", "demo", "-o", join(out, "demo.onnx")], app);
    expect(demo.stdout).toMatch(/validation .*PASSED/);
    expect(demo.stdout).toMatch(/rewrote 7 sites/);
    expect(demo.stdout).toMatch(/speed-up: \d+\.\d\dx \(original [\d.]+ ms, rewritten [\d.]+ ms/);
    expect(demo.stderr.split("\n").filter((l) => l && !/onnxruntime:/.test(l))).toEqual([]); // not a TTY: no progress
  }, 900_000);
});
