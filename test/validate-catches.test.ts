// The numeric proof must catch wrong rewrites: a correct head rewrite passes with the
// default tolerance; one level's weight off by 1% or transposed fails exactly that
// level's output. Plus compareOutput's arithmetic and non-finite handling.
import { beforeAll, describe, expect, it } from "vitest";
import { reparamModel } from "../passes/pipeline/reparam-model.ts";
import { encodeModel } from "../passes/io/codec.ts";
import { loadModel } from "../passes/io/model-io.ts";
import { readTensor, toTensorProto } from "../passes/ir/tensor.ts";
import { validateModels, DEFAULT_TOLERANCE, type ValidationInput } from "../passes/validate/validate.ts";
import { compareOutput } from "../passes/validate/compare.ts";
import type { Graph } from "../passes/io/onnx-types.ts";
import type { SiteReport } from "../passes/rules/site.ts";
import { fixtureByName, loadFixture } from "./helpers/fixtures.ts";

const FIXTURE = "full-bn-einsum-op17-static";
const fixture = fixtureByName(FIXTURE);
if (!fixture) console.warn(`[validate-catches] SKIP model cases: fixture ${FIXTURE} not present`);

/** Graph outputs reachable from `value`. */
function reachableOutputs(g: Graph, value: string): string[] {
  const outs = new Set((g.output ?? []).map((o) => o.name));
  const seen = new Set<string>([value]);
  const stack = [value];
  const found = new Set<string>();
  while (stack.length) {
    const v = stack.pop()!;
    if (outs.has(v)) found.add(v);
    for (const n of g.node ?? []) {
      if (!(n.input ?? []).includes(v)) continue;
      for (const o of n.output ?? []) if (!seen.has(o)) { seen.add(o); stack.push(o); }
    }
  }
  return [...found].sort();
}

describe.skipIf(!fixture)(`validateModels on ${FIXTURE}`, () => {
  let original: Uint8Array;
  let rewritten: Uint8Array;
  let sites: SiteReport[];
  let inputs: ValidationInput[];
  const tolerance = DEFAULT_TOLERANCE.float32;

  beforeAll(() => {
    const m = loadFixture(fixture!);
    original = encodeModel(m.proto);
    inputs = (m.proto.graph!.input ?? []).map((v) => ({
      name: v.name!, dtype: v.type!.tensor_type!.elem_type!,
      shape: v.type!.tensor_type!.shape!.dim!.map((d) => Number(d.dim_value)),
    }));
    sites = reparamModel(m, { sites: "head" }).sites;
    expect(sites.filter((s) => s.status === "rewritten").length).toBe(3);
    rewritten = encodeModel(m.proto);
  });

  /** A decoded copy of the rewritten model with one level's weight replaced by f(weight). */
  function mutateWeight(level: number, f: (data: Float64Array, dims: number[]) => Float64Array): { bytes: Uint8Array; affected: string[] } {
    const m = loadModel(rewritten);
    const g = m.proto.graph!;
    const convName = sites[level].replacement![0];
    const conv = g.node!.find((n) => n.name === convName)!;
    expect(conv.op_type).toBe("Conv");
    const idx = g.initializer!.findIndex((t) => t.name === conv.input![1]);
    const w = readTensor(g.initializer![idx])!;
    expect(w.dims).toEqual([fixture!.k, w.dims[1], 1, 1]);
    g.initializer![idx] = toTensorProto(conv.input![1], { ...w, data: f(w.data, w.dims) });
    return { bytes: encodeModel(m.proto), affected: reachableOutputs(g, conv.output![0]) };
  }

  it("passes a correct rewrite at the default tolerance", async () => {
    const r = await validateModels({ bytes: original }, { bytes: rewritten }, [inputs], { tolerance });
    expect(r.passed).toBe(true);
    expect(r.outputs.map((o) => o.name).sort()).toEqual(["box0", "box1", "box2", "cls0", "cls1", "cls2"]);
    for (const o of r.outputs) {
      expect(o.minPassingAtol).toBeLessThanOrEqual(r.atol);
      expect(o.cosine).toBeGreaterThan(0.999999);
    }
  });

  it("fails exactly the output of a level whose weight is scaled by 1.01", async () => {
    for (const level of [0, 2]) {
      const { bytes, affected } = mutateWeight(level, (d) => d.map((v) => v * 1.01));
      expect(affected).toHaveLength(1);
      const r = await validateModels({ bytes: original }, { bytes }, [inputs], { tolerance });
      expect(r.passed).toBe(false);
      expect(r.outputs.filter((o) => !o.passed).map((o) => o.name)).toEqual(affected);
      for (const o of r.outputs) {
        if (o.passed) expect(o.minPassingAtol).toBeLessThanOrEqual(r.atol);
        else expect(o.minPassingAtol).toBeGreaterThan(r.atol);
      }
    }
  });

  // Forgetting to transpose the MatMul operand. Two readings of that bug, both must fail:
  // the brief's W'[k,c] = Wflat[c*K+k], and the transpose's buffer read as row-major [K,C]
  // (W'flat[c*K+k] = W[k,c]). They differ unless K == C.
  it.each([
    ["W'[k,c] = Wflat[c*K+k]", (d: Float64Array, K: number, C: number) => {
      const out = new Float64Array(K * C);
      for (let k = 0; k < K; k++) for (let c = 0; c < C; c++) out[k * C + c] = d[c * K + k];
      return out;
    }],
    ["transpose buffer read as [K,C]", (d: Float64Array, K: number, C: number) => {
      const out = new Float64Array(K * C);
      for (let k = 0; k < K; k++) for (let c = 0; c < C; c++) out[c * K + k] = d[k * C + c];
      return out;
    }],
  ] as const)("fails a weight that was not transposed: %s", async (_label, bug) => {
    const { bytes, affected } = mutateWeight(1, (d, dims) => {
      const out = bug(d, dims[0], dims[1]);
      expect(out).not.toEqual(d);
      return out;
    });
    expect(affected).toHaveLength(1);
    const r = await validateModels({ bytes: original }, { bytes }, [inputs], { tolerance });
    expect(r.passed).toBe(false);
    expect(r.outputs.filter((o) => !o.passed).map((o) => o.name)).toEqual(affected);
  });
});

describe("compareOutput", () => {
  it("NaN against a number cannot pass at any tolerance", () => {
    const c = compareOutput("y", [2], [1, 2], [1, NaN], 1e9, 1e9);
    expect(c.passed).toBe(false);
    expect(c.minPassingAtol).toBe(Infinity);
    expect(c.mismatchedNonFinite).toBe(1);
    expect(c.nan).toEqual({ original: 0, rewritten: 1 });
  });

  it("NaN vs NaN and +Inf vs +Inf agree; +Inf vs -Inf does not", () => {
    const ok = compareOutput("y", [3], [NaN, Infinity, 1], [NaN, Infinity, 1], 0, 0);
    expect(ok.passed).toBe(true);
    expect(ok.minPassingAtol).toBe(0);
    expect(ok.nan).toEqual({ original: 1, rewritten: 1 });
    expect(ok.inf).toEqual({ original: 1, rewritten: 1 });
    const bad = compareOutput("y", [1], [Infinity], [-Infinity], 1, 1);
    expect(bad.passed).toBe(false);
    expect(bad.minPassingAtol).toBe(Infinity);
  });

  it("computes cosine", () => {
    expect(compareOutput("y", [2], [1, 0], [1, 0], 0, 0).cosine).toBeCloseTo(1, 12);
    expect(compareOutput("y", [2], [1, 0], [0, 1], 1, 0).cosine).toBeCloseTo(0, 12);
    expect(compareOutput("y", [2], [1, 1], [-1, -1], 2, 0).cosine).toBeCloseTo(-1, 12);
    expect(compareOutput("y", [2], [3, 4], [4, 3], 1, 0).cosine).toBeCloseTo(24 / 25, 12);
    expect(compareOutput("y", [2], [0, 0], [0, 0], 0, 0).cosine).toBe(1);
  });

  it("minPassingAtol is max(|a-b| - rtol*|b|) and decides pass at the boundary", () => {
    // expected b = [10, -2, 0], actual a = [10.5, -2.3, 0.1], rtol 0.01:
    // 0.5 - 0.1 = 0.4; 0.3 - 0.02 = 0.28; 0.1 - 0 = 0.1 -> 0.4
    const c = compareOutput("y", [3], [10, -2, 0], [10.5, -2.3, 0.1], 0.4, 0.01);
    expect(c.minPassingAtol).toBeCloseTo(0.4, 12);
    expect(c.maxAbsDiff).toBeCloseTo(0.5, 12);
    expect(c.maxRelDiff).toBeCloseTo(0.15, 12);
    expect(c.meanAbsDiff).toBeCloseTo(0.3, 12);
    expect(c.passed).toBe(true);
    expect(compareOutput("y", [3], [10, -2, 0], [10.5, -2.3, 0.1], 0.399, 0.01).passed).toBe(false);
    // rtol large enough to cover everything but the zero entry
    expect(compareOutput("y", [3], [10, -2, 0], [10.5, -2.3, 0.1], 0, 0.2).minPassingAtol).toBeCloseTo(0.1, 12);
  });

  it("a length mismatch fails", () => {
    const c = compareOutput("y", [2], [1, 2], [1], 1, 1);
    expect(c.passed).toBe(false);
    expect(c.minPassingAtol).toBe(Infinity);
  });
});
