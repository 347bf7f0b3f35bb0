// The package as a dependent project gets it: `npm pack`, install the tarball into a fresh
// project (registry deps from npm's cache when it has them; onnxruntime-node's CUDA
// download skipped as the README tells consumers), then use it the three ways a user would:
// the Library example of docs/library.md as a plain .mjs, a TypeScript consumer type-checked against
// the shipped .d.ts, and the CLI through npx (--version, demo, and `web`: the built page
// ships in the package; onnxruntime-web's WASM is served from the installed dependency).
import { afterAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO } from "./helpers/fixtures.ts";
import { checkReadmeExampleRun, readmeLibraryExample } from "./helpers/readme-example.ts";
import { startWeb } from "./helpers/web-process.ts";

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
    for (const f of ["dist/passes/index.js", "dist/passes/index.d.ts", "dist/passes/io/onnx.proto", "dist/cli/main.js", "dist/web/index.html", "dist/web/main.js", "dist/web/worker.js", "models/fixtures/full-bn-einsum-op17-static.onnx", "README.md", "LICENSE", "docs/library.md", "package.json"]) {
      expect(files, f).toContain(f);
    }
    // no .wasm: the page's onnxruntime-web files come from the installed dependency
    expect(files.filter((f) => !/^(dist\/.*\.(js|d\.ts|proto)|dist\/web\/index\.html|models\/fixtures\/full-bn-einsum-op17-static\.onnx|README\.md|LICENSE|docs\/[\w-]+\.(md|png)|package\.json)$/.test(f))).toEqual([]);

    // a fresh consumer project, set up as docs/library.md's "Installing" says
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

    // plain .mjs: the Library example of docs/library.md, on the demo model shipped in the package
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

    // the page, from the installed package: nothing built here; the WASM is the dependency's own file
    const ortDist = join(app, "node_modules", "onnxruntime-web", "dist");
    const web = await startWeb("npx", ["onnx-reparam", "web", "--port", "0"], { cwd: app, env });
    try {
      const page = await fetch(web.url);
      expect([page.status, page.headers.get("cross-origin-embedder-policy")]).toEqual([200, "require-corp"]);
      expect(await page.text()).toBe(readFileSync(join(pkg, "dist/web/index.html"), "utf8"));
      expect((await fetch(new URL("worker.js", web.url))).status).toBe(200);
      for (const f of ["ort-wasm-simd-threaded.wasm", "ort-wasm-simd-threaded.mjs"]) {
        const r = await fetch(new URL(`ort/${f}`, web.url));
        expect(r.status, f).toBe(200);
        expect(Buffer.from(await r.arrayBuffer()).equals(readFileSync(join(ortDist, f))), f).toBe(true);
      }
    } finally {
      await web.stop();
    }
    expect(existsSync(join(pkg, "web"))).toBe(false); // served from dist/web as shipped, no build

    // the static page for any host
    const site = join(app, "site");
    const written = await run("npx", ["onnx-reparam", "web", "--out", site], app);
    expect(readdirSync(site).sort()).toEqual(["index.html", "main.js", "ort", "worker.js"]);
    expect(readFileSync(join(site, "ort/ort-wasm-simd-threaded.wasm")).equals(readFileSync(join(ortDist, "ort-wasm-simd-threaded.wasm")))).toBe(true);
    expect(written.stdout).toMatch(/^ {2}Cross-Origin-Embedder-Policy: require-corp$/m);

    // what a user downloads and installs (reported, not limited: the registry's packages may change size)
    const du = (await run("du", ["-sk", join(app, "node_modules")], app)).stdout;
    const ortWeb = (await run("du", ["-sk", join(app, "node_modules", "onnxruntime-web")], app)).stdout;
    console.log(`package.test.ts: tarball ${(packed.size / 2 ** 20).toFixed(2)} MB (${packed.entryCount} files, ${(packed.unpackedSize / 2 ** 20).toFixed(2)} MB unpacked); consumer node_modules ${(parseInt(du, 10) / 1024).toFixed(0)} MB, of which onnxruntime-web ${(parseInt(ortWeb, 10) / 1024).toFixed(0)} MB (optional)`);

    // onnxruntime-web is optional (`npm install --omit=optional`): without it `web` says so in one line, the rest works
    rmSync(join(app, "node_modules", "onnxruntime-web"), { recursive: true });
    const missing = await exec("npx", ["onnx-reparam", "web", "--port", "0"], { cwd: app, env, encoding: "utf8" }).then(() => null, (e: { code: number; stderr: string }) => e);
    expect(missing?.code).toBe(2);
    expect(missing?.stderr.trim()).toMatch(/^onnx-reparam: the page needs onnxruntime-web, which is not installed \(.*\): npm install onnxruntime-web@1\.30$/);
    expect((await run("npx", ["onnx-reparam", "--version"], app)).stdout.trim()).toBe(JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version);
  }, 900_000);
});
