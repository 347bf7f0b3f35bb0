// The CLI's job as a library call (no subprocess): external data, models onnxruntime
// cannot run, unmatched Einsums, and the inspect command's listing.
import { describe, expect, it } from "vitest";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { reparamFile } from "../passes/job/reparam-file.ts";
import { loadModel, saveModel } from "../passes/io/model-io.ts";
import { encodeModel } from "../passes/io/codec.ts";
import { reparamModel } from "../passes/pipeline/reparam-model.ts";
import { EXIT, ReparamError } from "../passes/errors.ts";
import { fixtureByName, fixturePath } from "./helpers/fixtures.ts";
import { buildModel, node, seeded, tensor } from "./helpers/graph-builder.ts";
import { runCli } from "./helpers/cli.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "reparam-file-"));
const HEAD = fixtureByName("full-bn-einsum-op17-static");

describe("reparamFile", () => {
  it.skipIf(!HEAD)("rewrites and validates a model whose weights live in external data", async () => {
    const dir = tmp();
    const src = join(dir, "model.onnx");
    saveModel(loadModel(fixturePath(HEAD!.file)), src, { externalData: { location: "model.weights" } });
    expect(readdirSync(dir).sort()).toEqual(["model.onnx", "model.weights"]);
    const out = join(dir, "out", "rep.onnx");
    const r = await reparamFile({ input: src, output: out, externalData: "rep.weights" });
    expect(r.exitCode, r.message).toBe(EXIT.OK);
    expect(r.validation?.passed).toBe(true);
    expect(readdirSync(join(dir, "out")).sort()).toEqual(["rep.onnx", "rep.weights"]);
    expect(reparamModel(loadModel(out)).sites.filter((s) => s.status === "rewritten")).toEqual([]);
  });

  const C = 4, K = 3, rnd = seeded(9);
  const T = tensor([1, K, C], () => rnd());
  const M = tensor([C, C], () => rnd());
  const write = (nodes: ReturnType<typeof node>[], extraOut: Array<{ name: string; dims: number[] }> = []) => {
    const dir = tmp(), p = join(dir, "m.onnx");
    writeFileSync(p, encodeModel(buildModel({
      inputs: [{ name: "x", dims: [1, C, 2, 2] }], outputs: [{ name: "y", dims: [1, K, 2, 2] }, ...extraOut], initializers: { t: T, m: M }, nodes,
    }).proto));
    return { dir, p };
  };

  it("names an Einsum no rule claimed, and still rewrites the site", async () => {
    const { dir, p } = write([
      node("Einsum", ["x", "t"], ["y"], { equation: "bchw,bkc->bkhw" }),
      node("Einsum", ["m", "m"], ["mm"], { equation: "ij,jk->ik" }, "other_einsum"),
    ], [{ name: "mm", dims: [C, C] }]);
    const r = await reparamFile({ input: p, output: join(dir, "o.onnx") });
    expect(r.exitCode, r.message).toBe(EXIT.OK);
    expect(r.unmatched).toEqual([{ node: "other_einsum", reason: expect.stringContaining("'ij,jk->ik' is neither a head contrast") }]);
  });

  it("an original onnxruntime cannot load is a usage error, and nothing is written", async () => {
    const { dir, p } = write([
      node("Einsum", ["x", "t"], ["e"], { equation: "bchw,bkc->bkhw" }),
      { ...node("Frobnicate", ["e"], ["y"]), domain: "com.example" },
    ]);
    const err = await reparamFile({ input: p, output: join(dir, "o.onnx") }).catch((e) => e);
    expect(err).toBeInstanceOf(ReparamError);
    expect((err as ReparamError).exitCode).toBe(EXIT.USAGE);
    expect((err as Error).message).toMatch(/^onnxruntime cannot load the original model: .*--no-validate/);
    expect(existsSync(join(dir, "o.onnx"))).toBe(false);
    // Without validation the rewrite itself goes through (the custom op is left alone).
    const r = await reparamFile({ input: p, output: join(dir, "o.onnx"), validate: false });
    expect(r.exitCode).toBe(EXIT.OK);
    expect(loadModel(join(dir, "o.onnx")).proto.graph!.node!.map((n) => n.op_type)).toEqual(["Conv", "Frobnicate"]);
  });

  it.skipIf(!HEAD)("inspect lists every site and writes nothing", async () => {
    const dir = tmp(), p = join(dir, "m.onnx");
    copyFileSync(fixturePath(fixtureByName("v1-dualpafpn-l2-einsum-op17-static")?.file ?? HEAD!.file), p);
    const r = await runCli(["inspect", p]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split("\n").filter((l) => /^\s+(head|neck)\s/.test(l));
    expect(lines.length).toBe(7);
    expect(lines.filter((l) => /skipped: text operand depends on the values of graph input 'images'/.test(l)).length).toBe(5);
    expect(readdirSync(dir)).toEqual(["m.onnx"]);
  });

  describe("refuses, before writing anything, paths that can only end badly", () => {
    it.skipIf(!HEAD)("each case: a one-line usage error, the input untouched, no file added", async () => {
      const dir = tmp();
      const input = join(dir, "in.onnx");
      copyFileSync(fixturePath(HEAD!.file), input);
      const before = readFileSync(input);
      mkdirSync(join(dir, "adir"));
      const cases: Array<[Partial<Parameters<typeof reparamFile>[0]>, RegExp]> = [
        [{ output: join(dir, "o.onnx"), report: input }, /--report .*would overwrite the input model/],
        [{ output: join(dir, "o.onnx"), externalData: "in.onnx" }, /--external-data .*would overwrite the input model/],
        [{ output: join(dir, "o.onnx"), report: join(dir, "o.onnx") }, /-o and --report name the same file/],
        [{ output: join(dir, "o.onnx"), externalData: "sub/w.data" }, /--external-data 'sub\/w.data': give a file name/],
        [{ output: join(dir, "adir") }, /-o .*adir: is a directory/],
        [{ output: "" }, /^-o: give the path/],
        [{ output: join(dir, "o.onnx"), textInput: "texts" }, /--text-input .* give --text-embed too/],
      ];
      for (const [opts, message] of cases) {
        const err = await reparamFile({ input, output: join(dir, "o.onnx"), ...opts }).catch((e) => e);
        expect(err, JSON.stringify(opts)).toBeInstanceOf(ReparamError);
        expect((err as ReparamError).exitCode).toBe(EXIT.USAGE);
        expect((err as Error).message).toMatch(message);
      }
      expect(readFileSync(input).equals(before)).toBe(true);
      expect(readdirSync(dir).sort()).toEqual(["adir", "in.onnx"]);
    });
  });
});
