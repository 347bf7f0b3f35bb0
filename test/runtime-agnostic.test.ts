// The core runs from bytes with any onnxruntime (docs/design.md "Where the code runs"): the same job
// on bytes gives the CLI's bytes and report, and the browser bundle holds nothing of Node
// (`onnx-reparam web` itself: test/web-cli.test.ts and test/web-server.test.ts).
import { describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { ONNX_PROTO_TEXT } from "../passes/io/onnx-proto-text.ts";
import { reparamBytes } from "../passes/job/reparam-bytes.ts";
import { reparamFile } from "../passes/job/reparam-file.ts";
import { nodeRuntime } from "../passes/runtime/node-runtime.ts";
import { EXIT, ModelFormatError } from "../passes/errors.ts";
import { buildWeb, nodeFree } from "../web/build.ts";
import { fixturePath, REPO } from "./helpers/fixtures.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "agnostic-"));
const VOCAB = "models/fixtures/vocab";

it("the schema module holds exactly onnx.proto (node scripts/gen-proto-text.mjs after a schema update)", () => {
  expect(ONNX_PROTO_TEXT).toBe(readFileSync(join(REPO, "passes/io/onnx.proto"), "utf8"));
});

describe("reparamBytes", () => {
  const cases = [
    { name: "static", model: "full-bn-einsum-op17-static.onnx" },
    { name: "retarget to K' = 20 with names", model: "ultralytics-world-op20-static-meta.onnx", text: `${VOCAB}/texts-k20.npy`, names: `${VOCAB}/names-k20.txt` },
  ];
  for (const c of cases) {
    it(`${c.name}: the bytes and the report reparamFile writes`, async () => {
      const input = fixturePath(c.model), dir = tmp();
      const stages: string[] = [];
      const r = await reparamBytes({
        model: readFileSync(input), modelName: input, outputName: join(dir, "out.onnx"),
        textEmbed: c.text ? readFileSync(c.text) : undefined, textEmbedName: c.text, names: c.names ? readFileSync(c.names, "utf8") : undefined, namesName: c.names,
        onProgress: (stage) => stages.push(stage),
      }, nodeRuntime);
      const f = await reparamFile({ input, output: join(dir, "out.onnx"), report: join(dir, "r.json"), textEmbed: c.text, names: c.names });
      expect(r.exitCode, r.message).toBe(EXIT.OK);
      expect(f.exitCode).toBe(EXIT.OK);
      expect(Buffer.compare(Buffer.from(r.bytes!), readFileSync(join(dir, "out.onnx")))).toBe(0);
      // Same report, field for field, but for the numbers two runs of onnxruntime may differ in the last bits.
      const strip = (x: unknown) => JSON.parse(JSON.stringify(x, (k, v) => (["maxAbsDiff", "maxRelDiff", "meanAbsDiff", "cosine", "minPassingAtol"].includes(k) ? typeof v : v)));
      expect(strip(r.report)).toEqual(strip(JSON.parse(readFileSync(join(dir, "r.json"), "utf8"))));
      expect(r.message).toBe(f.message);
      expect([...new Set(stages)]).toEqual(["decode", "rewrite", "proof", "encode"]);
    });
  }

  it("bad bytes are a ModelFormatError naming the file; nothing to rewrite returns exit 3 and no bytes", async () => {
    await expect(reparamBytes({ model: new TextEncoder().encode("not a model at all"), modelName: "x.onnx" }, nodeRuntime)).rejects.toThrow(ModelFormatError);
    await expect(reparamBytes({ model: new Uint8Array(), modelName: "x.onnx" }, nodeRuntime)).rejects.toThrow(/x\.onnx: not a valid ONNX model: file is empty/);
    const r = await reparamBytes({ model: readFileSync(fixturePath("full-bn-einsum-op17-static.onnx")), validate: false }, nodeRuntime);
    expect(r.exitCode).toBe(EXIT.OK);
    const none = await reparamBytes({ model: r.bytes! }, nodeRuntime);
    expect(none.exitCode).toBe(EXIT.NOTHING_TO_DO);
    expect(none.bytes).toBeNull();
    expect(none.report.output).toBeNull();
  });
});

describe("the browser bundle", () => {
  it("holds no Node module and no onnxruntime-node; the WASM binary is local", async () => {
    const dir = join(tmp(), "page");
    const { inputs } = await buildWeb(dir);
    const node = new Set(builtinModules);
    const offending = inputs.filter((p) => p.startsWith("node:") || node.has(p) || /onnxruntime-node|node_modules\/(esbuild|tsx|yargs)\//.test(p));
    expect(offending).toEqual([]);
    expect(inputs.some((p) => p.endsWith("passes/pipeline/reparam-model.ts"))).toBe(true);
    expect(inputs.some((p) => p.includes("node_modules/onnxruntime-web/"))).toBe(true);
    for (const file of ["main.js", "worker.js"]) {
      const js = readFileSync(join(dir, file), "utf8");
      expect(js).not.toMatch(/onnxruntime-node/);
      // A static or dynamic import, or a plain require, of a Node module.
      expect(js).not.toMatch(/(\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["'](node:[\w/]+|fs|path|os|child_process|worker_threads)["']/);
      expect(js).not.toMatch(/https?:\/\/(cdn|unpkg|jsdelivr)/);
    }
    expect(existsSync(join(dir, "ort", "ort-wasm-simd-threaded.wasm"))).toBe(true);
  });

  it("the build fails when shared code imports fs, path, os or onnxruntime-node", async () => {
    for (const mod of ["node:fs", "fs", "path", "os", "onnxruntime-node"]) {
      const build = esbuild.build({ stdin: { contents: `import * as m from "${mod}"; console.log(m);`, resolveDir: REPO, sourcefile: "shared.ts" }, bundle: true, write: false, platform: "browser", format: "esm", logLevel: "silent", plugins: [nodeFree] });
      await expect(build, mod).rejects.toThrow(/is Node-only and must not reach the browser bundle/);
    }
  });
});
