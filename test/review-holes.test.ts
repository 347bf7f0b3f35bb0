// Review: graphs that look like a site but compute something else, or that a rule would
// rewrite on an unproven assumption. Each case states the correct behaviour (rewrite
// exactly, or leave it and say why) and, where the model runs, proves it in onnxruntime.
import { describe, expect, it } from "vitest";
import Long from "long";
import { reparamModel, type ReparamOptions } from "../passes/pipeline/reparam-model.ts";
import { encodeModel } from "../passes/io/codec.ts";
import { validateModels, type ValidationInput } from "../passes/validate/validate.ts";
import { DT, type Graph, type Node } from "../passes/io/onnx-types.ts";
import type { ConstTensor } from "../passes/ir/tensor.ts";
import type { LoadedModel } from "../passes/io/model-io.ts";
import { buildModel, node, seeded, tensor, type IO } from "./helpers/graph-builder.ts";

const B = 1, C = 8, H = 5, W = 6, K = 7;
const rnd = seeded(2024);
const T = tensor([1, K, C], () => rnd());
const TKC = tensor([K, C], () => rnd());
const TCK = tensor([C, K], () => rnd());
const X: IO = { name: "x", dims: [B, C, H, W] };
const Y: IO = { name: "y", dims: [B, K, H, W] };
const f32 = (name: string, shape: number[], dtype: number = DT.FLOAT): ValidationInput => ({ name, shape, dtype });
const i64 = (v: number[]) => tensor([v.length], (i) => v[i], DT.INT64);
const scalarI64 = (v: number) => tensor([], () => v, DT.INT64);
const ops = (m: LoadedModel) => m.proto.graph!.node!.map((n) => n.op_type);

/** Rewrites a copy of `build()` and runs original and rewrite on each input set. `build` must be pure. */
async function prove(build: () => LoadedModel, sets: ValidationInput[][], opts: ReparamOptions = {}, tol = { atol: 1e-5, rtol: 1e-5 }) {
  const original = encodeModel(build().proto);
  const model = build();
  const r = reparamModel(model, opts);
  const v = await validateModels({ bytes: original }, { bytes: encodeModel(model.proto) }, sets, { tolerance: tol });
  return { r, v, model };
}

const einsumHead = (eq: string, inputs: string[], t: ConstTensor, out: IO = Y) => () => buildModel({
  inputs: [X], outputs: [out], initializers: { t },
  nodes: [node("Einsum", inputs, [out.name], { equation: eq })],
});

describe("head einsum: equations that look alike", () => {
  it("an output permutation 'bkwh' is not the contraction: untouched", async () => {
    const { r, v, model } = await prove(einsumHead("bchw,bkc->bkwh", ["x", "t"], T, { name: "y", dims: [B, K, W, H] }), [[f32("x", [B, C, H, W])]]);
    expect(r.sites).toEqual([]);
    expect(ops(model)).toEqual(["Einsum"]);
    expect(v.passed).toBe(true);
  });

  it("a repeated letter (a diagonal) is not a site and does not crash", () => {
    const model = buildModel({
      inputs: [{ name: "x", dims: [B, C, C, W] }], outputs: [{ name: "y", dims: [B, K, C, W] }], initializers: { t: T },
      nodes: [node("Einsum", ["x", "t"], ["y"], { equation: "bcch,bkc->bkch" })],
    });
    expect(reparamModel(model).sites).toEqual([]);
    expect(ops(model)).toEqual(["Einsum"]);
  });

  it("a 3-operand einsum is left alone", async () => {
    const { r, v, model } = await prove(() => buildModel({
      inputs: [X], outputs: [Y], initializers: { t: T, s: tensor([K], (i) => 1 + i) },
      nodes: [node("Einsum", ["x", "t", "s"], ["y"], { equation: "bchw,bkc,k->bkhw" })],
    }), [[f32("x", [B, C, H, W])]]);
    expect(r.sites).toEqual([]);
    expect(ops(model)).toEqual(["Einsum"]);
    expect(v.passed).toBe(true);
  });

  it.each([
    ["bchw,kbc->bkhw", tensor([K, 1, C], () => rnd())],
    ["bchw,kc->bkhw", TKC],
    ["bchw,ck->bkhw", TCK],
  ])("'%s' is the contraction: rewritten exactly", async (eq, t) => {
    const { r, v, model } = await prove(einsumHead(eq, ["x", "t"], t), [[f32("x", [B, C, H, W])]]);
    expect(r.sites.map((s) => s.status)).toEqual(["rewritten"]);
    expect(ops(model)).toEqual(["Conv"]);
    expect(v.passed).toBe(true);
  });

  it("a text batch of 2 against an image batch of 1 broadcasts the output to batch 2: skipped", async () => {
    const t2 = tensor([2, K, C], (i) => T.data[i % (K * C)]); // two identical samples
    const { r, v, model } = await prove(einsumHead("bchw,bkc->bkhw", ["x", "t"], t2, { name: "y", dims: [2, K, H, W] }), [[f32("x", [1, C, H, W])]]);
    expect(r.sites).toMatchObject([{ status: "skipped", reason: expect.stringMatching(/batch/) }]);
    expect(ops(model)).toEqual(["Einsum"]);
    expect(v.passed).toBe(true);
  });

  it("a text batch equal to the image batch (identical samples) is rewritten", async () => {
    const t2 = tensor([2, K, C], (i) => T.data[i % (K * C)]);
    const { r, v } = await prove(() => buildModel({
      inputs: [{ name: "x", dims: [2, C, H, W] }], outputs: [{ name: "y", dims: [2, K, H, W] }], initializers: { t: t2 },
      nodes: [node("Einsum", ["x", "t"], ["y"], { equation: "bchw,bkc->bkhw" })],
    }), [[f32("x", [2, C, H, W])]]);
    expect(r.sites.map((s) => s.status)).toEqual(["rewritten"]);
    expect(v.passed).toBe(true);
  });
});

describe("affine tails", () => {
  const tail = (extra: Node[], inits: Record<string, ReturnType<typeof tensor>>, out: IO = Y, inputs: IO[] = [X]) => () => buildModel({
    inputs, outputs: [out], initializers: { t: T, ...inits },
    nodes: [node("Einsum", ["x", "t"], ["e"], { equation: "bchw,bkc->bkhw" }), ...extra],
  });

  it("a constant that broadcasts the output wider is not folded", async () => {
    const { r, v, model } = await prove(tail([node("Mul", ["e", "s"], ["y"])], { s: tensor([2, K, 1, 1], (i) => 1 + i) }, { name: "y", dims: [2, K, H, W] }), [[f32("x", [B, C, H, W])]]);
    expect(r.sites).toMatchObject([{ status: "rewritten", folded: [] }]);
    expect(ops(model)).toEqual(["Conv", "Mul"]);
    expect(v.passed).toBe(true);
  });

  it("c / y is not affine in y: not folded", async () => {
    const { r, v, model } = await prove(tail([node("Div", ["s", "e"], ["y"])], { s: tensor([1, K, 1, 1], (i) => 1 + i) }), [[f32("x", [B, C, H, W])]]);
    expect(r.sites).toMatchObject([{ status: "rewritten", folded: [] }]);
    expect(ops(model)).toEqual(["Conv", "Div"]);
    expect(v.passed).toBe(true);
  });

  it("c - y folds with a negated weight", async () => {
    const { r, v } = await prove(tail([node("Sub", ["s", "e"], ["y"])], { s: tensor([1, K, 1, 1], (i) => i - 3) }), [[f32("x", [B, C, H, W])]]);
    expect(r.sites).toMatchObject([{ status: "rewritten", folded: ["bias"] }]);
    expect(v.passed).toBe(true);
  });

  it("a Div by a zero constant is not folded (the quotient is not W/0 . x)", async () => {
    const { r, v, model } = await prove(tail([node("Div", ["e", "s"], ["y"])], { s: tensor([1, K, 1, 1], (i) => (i === 2 ? 0 : 1 + i)) }), [[f32("x", [B, C, H, W])]]);
    expect(r.sites).toMatchObject([{ status: "rewritten", folded: [] }]);
    expect(ops(model)).toEqual(["Conv", "Div"]);
    expect(v.passed).toBe(true);
  });

  it("a tail 'constant' computed from a dynamic dim is not folded", async () => {
    const dyn: IO = { name: "x", dims: ["N", C, "h", "w"] };
    const { r, v, model } = await prove(tail([
      node("Shape", ["x"], ["shp"]), node("Gather", ["shp", "two"], ["hdim"], { axis: 0 }), node("Cast", ["hdim"], ["hf"], { to: DT.FLOAT }),
      node("Mul", ["e", "hf"], ["y"]),
    ], { two: scalarI64(2) }, { name: "y", dims: ["N", K, "h", "w"] }, [dyn]), [[f32("x", [1, C, 5, 6])], [f32("x", [2, C, 7, 9])]]);
    expect(r.sites).toMatchObject([{ status: "rewritten", folded: [] }]);
    expect(ops(model)).toContain("Mul");
    expect(v.passed).toBe(true);
  });
});

describe("BatchNormalization and the embedding Conv", () => {
  const r2 = seeded(5);
  const bnInits = { g: tensor([C], () => 1 + r2()), be: tensor([C], () => r2()), mu: tensor([C], () => r2()), var: tensor([C], () => 1 + r2() * 0.5) };

  it("a BatchNormalization in training mode is not folded", () => {
    const model = buildModel({
      inputs: [{ name: "x0", dims: [B, C, H, W] }], outputs: [Y], initializers: { t: T, ...bnInits },
      nodes: [
        node("BatchNormalization", ["x0", "g", "be", "mu", "var"], ["x"], { training_mode: 1 }),
        node("Einsum", ["x", "t"], ["y"], { equation: "bchw,bkc->bkhw" }),
      ],
    });
    const r = reparamModel(model);
    expect(r.sites).toMatchObject([{ status: "rewritten", folded: [] }]);
    expect(ops(model)).toEqual(["BatchNormalization", "Conv"]);
  });

  const CIN = 4, r3 = seeded(9);
  const X0: IO = { name: "x0", dims: [B, CIN, H, W] };
  const embedInits = { t: T, we: tensor([C, CIN, 1, 1], () => r3()), wg: tensor([C, CIN / 2, 1, 1], () => r3()), bb: tensor([C], () => r3()) };
  const embed = (weight: string, attrs: Record<string, number | number[] | string> = {}, inputs: IO[] = [X0]) => () => buildModel({
    inputs, outputs: [Y], initializers: embedInits,
    nodes: [node("Conv", ["x0", weight, "bb"], ["x"], attrs), node("Einsum", ["x", "t"], ["y"], { equation: "bchw,bkc->bkhw" })],
  });

  it.each([
    ["a weight that is a graph input", embed("wx", {}, [X0, { name: "wx", dims: [C, CIN, 1, 1] }]), [f32("x0", [B, CIN, H, W]), f32("wx", [C, CIN, 1, 1])]],
    ["groups", embed("wg", { group: 2 }), [f32("x0", [B, CIN, H, W])]],
    ["dilations", embed("we", { dilations: [2, 2] }), [f32("x0", [B, CIN, H, W])]],
    ["auto_pad SAME_UPPER", embed("we", { auto_pad: "SAME_UPPER" }), [f32("x0", [B, CIN, H, W])]],
  ] as const)("an embedding Conv with %s is not merged", async (_l, build, inputs) => {
    const { r, v, model } = await prove(build, [[...inputs]]);
    expect(r.sites).toMatchObject([{ status: "rewritten", folded: [] }]);
    expect(ops(model)).toEqual(["Conv", "Conv"]);
    expect(v.passed).toBe(true);
  });

  it("auto_pad VALID merges exactly", async () => {
    const { r, v, model } = await prove(embed("we", { auto_pad: "VALID" }), [[f32("x0", [B, CIN, H, W])]]);
    expect(r.sites).toMatchObject([{ status: "rewritten", folded: ["embed conv"] }]);
    expect(ops(model)).toEqual(["Conv"]);
    expect(v.passed).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------
// Neck: x (B, M*c, H, W) -> Reshape (B, M, c, H, W) -> Einsum with g (1, K, M, c) -> ReduceMax(n)
const M = 2, CH = 4;
const G = tensor([1, K, M, CH], () => rnd());
const XN: IO = { name: "x", dims: [B, M * CH, H, W] };
const AW: IO = { name: "aw", dims: [B, M, H, W] };

interface NeckOpts {
  max?: Node; after?: Node[]; inits?: Record<string, ReturnType<typeof tensor>>; guide?: ReturnType<typeof tensor>;
  outputs?: IO[]; inputs?: IO[]; opset?: number; split?: number[]; pre?: Node[]; x4?: string; reshapeAttrs?: Record<string, number>;
}
const neckEinsum = (o: NeckOpts = {}) => () => buildModel({
  inputs: o.inputs ?? [XN], outputs: o.outputs ?? [AW], opset: o.opset ?? 17,
  initializers: { g: o.guide ?? G, shp5: i64(o.split ?? [B, M, CH, H, W]), sc: tensor([], () => Math.sqrt(CH)), ...o.inits },
  nodes: [
    ...(o.pre ?? []),
    node("Reshape", [o.x4 ?? "x", "shp5"], ["x5"], o.reshapeAttrs ?? {}),
    node("Einsum", ["x5", "g"], ["s"], { equation: "bmchw,bnmc->bmhwn" }),
    o.max ?? node("ReduceMax", ["s"], ["mx"], { axes: [4], keepdims: 0 }),
    ...(o.after ?? [node("Div", ["mx", "sc"], ["aw"])]),
  ],
});

describe("neck max-sigmoid", () => {
  it.each(["conv", "per-head", "matmul"] as const)("the plain site is rewritten exactly (%s)", async (form) => {
    const { r, v } = await prove(neckEinsum(), [[f32("x", [B, M * CH, H, W])]], { neckForm: form });
    expect(r.sites).toMatchObject([{ kind: "neck", status: "rewritten", folded: ["positive scale"] }]);
    expect(v.passed).toBe(true);
  });

  it.each([
    ["the max over another axis", node("ReduceMax", ["s"], ["mx"], { axes: [1], keepdims: 0 }), { name: "aw", dims: [B, H, W, K] }],
    ["keepdims=1", node("ReduceMax", ["s"], ["mx"], { axes: [4], keepdims: 1 }), { name: "aw", dims: [B, M, H, W, 1] }],
    ["two axes", node("ReduceMax", ["s"], ["mx"], { axes: [3, 4], keepdims: 0 }), { name: "aw", dims: [B, M, H] }],
  ] as const)("%s is not the site", async (_l, max, out) => {
    const { r, v, model } = await prove(neckEinsum({ max, outputs: [{ name: out.name, dims: [...out.dims] }] }), [[f32("x", [B, M * CH, H, W])]]);
    expect(r.sites).toEqual([]);
    expect(ops(model)).toContain("Einsum");
    expect(v.passed).toBe(true);
  });

  it("noop_with_empty_axes with empty axes (opset 18) is not the site", async () => {
    const { r, v } = await prove(neckEinsum({
      opset: 18, inits: { none: tensor([0], () => 0, DT.INT64) }, outputs: [{ name: "aw", dims: [B, M, H, W, K] }],
      max: node("ReduceMax", ["s", "none"], ["mx"], { keepdims: 0, noop_with_empty_axes: 1 }),
    }), [[f32("x", [B, M * CH, H, W])]]);
    expect(r.sites).toEqual([]);
    expect(v.passed).toBe(true);
  });

  it("an out-of-range ReduceMax axis is not a site and does not crash", () => {
    const model = neckEinsum({ max: node("ReduceMax", ["s"], ["mx"], { axes: [7], keepdims: 0 }) })();
    expect(() => reparamModel(model)).not.toThrow();
  });

  it.each([
    ["a negative Div", tensor([], () => -2)],
    ["a zero Div", tensor([], () => 0)],
    ["a per-head Mul", tensor([1, M, 1, 1], (i) => 1 + i)],
  ])("%s after the max stays outside the weights", async (_l, s) => {
    const op = _l.includes("Mul") ? "Mul" : "Div";
    const { r, v, model } = await prove(neckEinsum({ inits: { s2: s }, after: [node(op, ["mx", "s2"], ["aw"])] }), [[f32("x", [B, M * CH, H, W])]]);
    expect(r.sites).toMatchObject([{ status: "rewritten", folded: [] }]);
    expect(ops(model)).toContain(op);
    expect(v.passed).toBe(true);
  });

  it("a guide batch of 2 against an image batch of 1 broadcasts: skipped", async () => {
    const g2 = tensor([2, K, M, CH], (i) => G.data[i % (K * M * CH)]);
    const { r, v, model } = await prove(neckEinsum({ guide: g2, outputs: [{ name: "aw", dims: [2, M, H, W] }] }), [[f32("x", [B, M * CH, H, W])]]);
    expect(r.sites).toMatchObject([{ status: "skipped", reason: expect.stringMatching(/batch/) }]);
    expect(ops(model)).toContain("Einsum");
    expect(v.passed).toBe(true);
  });

  it("a head split that cannot be checked against the block input's shape is refused", async () => {
    // Softsign is outside shape inference: the split target (B, M, c, W, H) cannot be compared with x.
    const { r, v, model } = await prove(neckEinsum({
      pre: [node("Softsign", ["x"], ["xs"])], x4: "xs", split: [B, M, CH, W, H], outputs: [{ name: "aw", dims: [B, M, W, H] }],
    }), [[f32("x", [B, M * CH, H, W])]]);
    expect(r.sites).toMatchObject([{ status: "skipped", reason: expect.stringMatching(/head split/) }]);
    expect(ops(model)).toContain("Einsum");
    expect(v.passed).toBe(true);
  });

  it("the block input's shape is inferred through an Einsum (dynamic batch, --sites neck)", async () => {
    const P = tensor([M * CH, M * CH], (i) => (i % (M * CH + 1) === 0 ? 1 : 0.1 * rnd()));
    const dyn: IO = { name: "x0", dims: ["N", M * CH, H, W] };
    const build = neckEinsum({
      inputs: [dyn], outputs: [{ name: "aw", dims: ["N", M, H, W] }], split: [-1, M, CH, H, W], inits: { p: P },
      pre: [node("Einsum", ["x0", "p"], ["xs"], { equation: "bchw,kc->bkhw" })], x4: "xs",
    });
    const { r, v } = await prove(build, [[f32("x0", [1, M * CH, H, W])], [f32("x0", [3, M * CH, H, W])]], { sites: "neck" });
    expect(r.sites).toMatchObject([{ kind: "neck", status: "rewritten" }]);
    expect(v.passed).toBe(true);
  });

  it("a split target with 0 and allowzero=1 is refused", () => {
    const model = neckEinsum({ split: [0, M, CH, H, W], reshapeAttrs: { allowzero: 1 } })();
    expect(reparamModel(model).sites).toMatchObject([{ status: "skipped" }]);
    expect(ops(model)).toContain("Einsum");
  });

  // matmul form: Reshape5 -> Transpose(0,1,3,4,2) -> Reshape(B,M,HW,c) -> MatMul(gT (M,c,K)) -> Reshape(B,M,H,W,K) -> ReduceMax(-1)
  const GT = tensor([M, CH, K], (i) => rnd());
  const neckMatMul = (o: { inputs?: IO[]; outputs?: IO[]; r1?: number[]; r2?: number[] } = {}) => () => buildModel({
    inputs: o.inputs ?? [XN], outputs: o.outputs ?? [AW],
    initializers: { g: GT, shp5: i64([-1, M, CH, H, W]), r1: i64(o.r1 ?? [B, M, H * W, CH]), r2: i64(o.r2 ?? [B, M, H, W, K]), sc: tensor([], () => 2) },
    nodes: [
      node("Reshape", ["x", "shp5"], ["x5"]), node("Transpose", ["x5"], ["xt"], { perm: [0, 1, 3, 4, 2] }),
      node("Reshape", ["xt", "r1"], ["xr"]), node("MatMul", ["xr", "g"], ["s"]), node("Reshape", ["s", "r2"], ["s5"]),
      node("ReduceMax", ["s5"], ["mx"], { axes: [-1], keepdims: 0 }), node("Div", ["mx", "sc"], ["aw"]),
    ],
  });

  it("matmul form: the plain site is rewritten exactly", async () => {
    const { r, v } = await prove(neckMatMul(), [[f32("x", [B, M * CH, H, W])]]);
    expect(r.sites).toMatchObject([{ kind: "neck", form: "matmul", status: "rewritten" }]);
    expect(v.passed).toBe(true);
  });

  it("matmul form: a Transpose output that is also a graph output is kept", async () => {
    const { r, v, model } = await prove(neckMatMul({ outputs: [AW, { name: "xt", dims: [B, M, H, W, CH] }] }), [[f32("x", [B, M * CH, H, W])]]);
    expect(r.sites.filter((s) => s.status === "rewritten")).toEqual([]);
    expect(model.proto.graph!.node!.some((n) => n.output!.includes("xt"))).toBe(true);
    expect(v.passed).toBe(true);
  });

  it("matmul form: constant reshape targets under a dynamic batch are reported, not a crash", async () => {
    const dyn: IO = { name: "x", dims: ["N", M * CH, H, W] };
    const model = neckMatMul({ inputs: [dyn], outputs: [{ name: "aw", dims: ["N", M, H, W] }] })();
    const r = reparamModel(model);
    expect(r.sites).toMatchObject([{ status: "skipped", reason: expect.stringMatching(/reshape/) }]);
  });
});

// ---------------------------------------------------------------------------------------
// Head matmul form: Transpose(0,2,3,1) -> Reshape(r1) -> MatMul(T (C,K)) -> Reshape(r2) -> Transpose(0,3,1,2)
describe("head matmul form", () => {
  interface MM { inputs?: IO[]; outputs?: IO[]; r1?: string[]; r1v?: number[]; r2v?: number[]; r2Nodes?: Node[]; text?: ReturnType<typeof tensor>; pre?: Node[]; x?: string; r2Attrs?: Record<string, number>; channels?: number }
  const headMatMul = (o: MM = {}) => () => {
    const ch = o.channels ?? C;
    return buildModel({
      inputs: o.inputs ?? [X], outputs: o.outputs ?? [Y],
      initializers: {
        t: o.text ?? tensor([ch, K], (i) => TCK.data[i % (C * K)]), r1: i64(o.r1v ?? [-1, ch]), ...(o.r2Nodes ? {} : { r2: i64(o.r2v ?? [B, H, W, K]) }),
        i0: i64([0]), i2: i64([2]), i3: i64([3]), kk: i64([K]),
      },
      nodes: [
        ...(o.pre ?? []),
        node("Transpose", [o.x ?? "x"], ["xt"], { perm: [0, 2, 3, 1] }), node("Reshape", ["xt", "r1"], ["xr"]),
        node("MatMul", ["xr", "t"], ["s"]), ...(o.r2Nodes ?? []), node("Reshape", ["s", "r2"], ["s4"], o.r2Attrs ?? {}),
        node("Transpose", ["s4"], ["y"], { perm: [0, 3, 1, 2] }),
      ],
    });
  };
  // (B, W, H, K) built from Shape(x): right only when H == W.
  const swapped = [
    node("Shape", ["x"], ["shp"]), node("Gather", ["shp", "i0"], ["d0"], { axis: 0 }), node("Gather", ["shp", "i3"], ["d3"], { axis: 0 }),
    node("Gather", ["shp", "i2"], ["d2"], { axis: 0 }), node("Concat", ["d0", "d3", "d2", "kk"], ["r2"], { axis: 0 }),
  ];

  it("the plain site is rewritten exactly", async () => {
    const { r, v, model } = await prove(headMatMul(), [[f32("x", [B, C, H, W])]]);
    expect(r.sites).toMatchObject([{ kind: "head", form: "matmul", status: "rewritten" }]);
    expect(ops(model)).toEqual(["Conv"]);
    expect(v.passed).toBe(true);
  });

  it("a Transpose output that is also a graph output is kept", async () => {
    const { r, v, model } = await prove(headMatMul({ outputs: [Y, { name: "xt", dims: [B, H, W, C] }] }), [[f32("x", [B, C, H, W])]]);
    expect(r.sites.filter((s) => s.status === "rewritten")).toEqual([]);
    expect(model.proto.graph!.node!.some((n) => n.output!.includes("xt"))).toBe(true);
    expect(v.passed).toBe(true);
  });

  it("a Shape-built target with H and W swapped is refused (image-like input, square probes agree)", async () => {
    const img: IO = { name: "x", dims: ["N", 3, "h", "w"] };
    const { r, v } = await prove(headMatMul({ channels: 3, inputs: [img], outputs: [{ name: "y", dims: ["N", K, "w", "h"] }], r2Nodes: swapped }),
      [[f32("x", [1, 3, 32, 64])], [f32("x", [2, 3, 64, 96])]]);
    expect(r.sites).toMatchObject([{ status: "skipped", reason: expect.stringMatching(/reshape/) }]);
    expect(v.passed).toBe(true);
  });

  it("a Shape-built target with H and W swapped is refused (feature-map input, symbolic H and W)", async () => {
    const fm: IO = { name: "x", dims: ["N", C, "h", "w"] };
    const { r, v } = await prove(headMatMul({ inputs: [fm], outputs: [{ name: "y", dims: ["N", K, "w", "h"] }], r2Nodes: swapped }),
      [[f32("x", [1, C, 5, 6])], [f32("x", [2, C, 7, 3])]]);
    expect(r.sites).toMatchObject([{ status: "skipped", reason: expect.stringMatching(/reshape/) }]);
    expect(v.passed).toBe(true);
  });

  it("the same Shape-built target in the right order is rewritten and stays dynamic", async () => {
    const fm: IO = { name: "x", dims: ["N", C, "h", "w"] };
    const right = [...swapped.slice(0, 4), node("Concat", ["d0", "d2", "d3", "kk"], ["r2"], { axis: 0 })];
    const { r, v } = await prove(headMatMul({ inputs: [fm], outputs: [{ name: "y", dims: ["N", K, "h", "w"] }], r2Nodes: right }),
      [[f32("x", [1, C, 5, 6])], [f32("x", [2, C, 7, 3])]]);
    expect(r.sites).toMatchObject([{ status: "rewritten" }]);
    expect(v.passed).toBe(true);
  });

  it("constant reshape targets under a dynamic batch are reported, not a crash", () => {
    const model = headMatMul({ inputs: [{ name: "x", dims: ["N", C, H, W] }], outputs: [{ name: "y", dims: ["N", K, H, W] }], r1v: [B * H * W, C] })();
    const r = reparamModel(model);
    expect(r.sites).toMatchObject([{ status: "skipped", reason: expect.stringMatching(/reshape/) }]);
  });

  it("a text batch of 2 makes MatMul broadcast the output to batch 2: skipped", async () => {
    const t2 = tensor([2, C, K], (i) => TCK.data[i % (C * K)]);
    const { r, v, model } = await prove(headMatMul({ text: t2, r2v: [-1, H, W, K], outputs: [{ name: "y", dims: [2, K, H, W] }] }), [[f32("x", [B, C, H, W])]]);
    expect(r.sites).toMatchObject([{ status: "skipped" }]);
    expect(ops(model)).toContain("MatMul");
    expect(v.passed).toBe(true);
  });

  it("an image operand of unknown shape cannot prove a constant (B, H', W', K) target", async () => {
    // H' x W' = 10 x 3 has the pixel count of 5 x 6, but the layout differs.
    const { r, v, model } = await prove(headMatMul({ pre: [node("Softsign", ["x0"], ["xs"])], x: "xs", inputs: [{ name: "x0", dims: [B, C, H, W] }], r2v: [B, 10, 3, K], outputs: [{ name: "y", dims: [B, K, 10, 3] }] }),
      [[f32("x0", [B, C, H, W])]]);
    expect(r.sites).toMatchObject([{ status: "skipped", reason: expect.stringMatching(/reshape/) }]);
    expect(ops(model)).toContain("MatMul");
    expect(v.passed).toBe(true);
  });

  it("a second reshape with 0 and allowzero=1 is refused", () => {
    const model = headMatMul({ r2v: [0, H, W, K], r2Attrs: { allowzero: 1 } })();
    expect(reparamModel(model).sites).toMatchObject([{ status: "skipped" }]);
    expect(ops(model)).toContain("MatMul");
  });
});

describe("misc", () => {
  it("an unbound text input is reported, not a crash", () => {
    const model = buildModel({
      inputs: [X, { name: "txt", dims: [1, K, C] }], outputs: [Y], initializers: {},
      nodes: [node("Einsum", ["x", "txt"], ["y"], { equation: "bchw,bkc->bkhw" })],
    });
    expect(reparamModel(model).sites).toMatchObject([{ status: "skipped", reason: expect.stringMatching(/--text-embed/) }]);
    expect(ops(model)).toEqual(["Einsum"]);
  });

  it("an fp16 head with BatchNorm, scale and bias is rewritten in fp16", async () => {
    const h = (t: ReturnType<typeof tensor>) => ({ ...t, dtype: DT.FLOAT16 });
    const r4 = seeded(13);
    const X16: IO = { name: "x0", dims: [B, C, H, W], dtype: DT.FLOAT16 };
    const initializers = {
      t: h(T), s: h(tensor([], () => 2.5)), b: h(tensor([1, K, 1, 1], (i) => i * 0.1)),
      g: h(tensor([C], () => 1 + r4() * 0.2)), be: h(tensor([C], () => r4())), mu: h(tensor([C], () => r4())), var: h(tensor([C], () => 1 + r4() * 0.5)),
    };
    const { r, v, model } = await prove(() => buildModel({
      inputs: [X16], outputs: [{ ...Y, dtype: DT.FLOAT16 }], initializers,
      nodes: [
        node("BatchNormalization", ["x0", "g", "be", "mu", "var"], ["x"]),
        node("Einsum", ["x", "t"], ["e"], { equation: "bchw,bkc->bkhw" }), node("Mul", ["e", "s"], ["m"]), node("Add", ["m", "b"], ["y"]),
      ],
    }), [[f32("x0", [B, C, H, W], DT.FLOAT16)]], {}, { atol: 5e-2, rtol: 1e-2 });
    expect(r.sites).toMatchObject([{ status: "rewritten" }]);
    expect(r.sites[0].folded?.sort()).toEqual(["batchnorm", "bias", "scale"]);
    expect(ops(model)).toEqual(["Conv"]);
    expect(model.proto.graph!.initializer!.every((t) => t.data_type === DT.FLOAT16)).toBe(true);
    expect(v.passed).toBe(true);
  });

  it("an Einsum inside an If branch is not touched, and the outer values it reads survive DCE", async () => {
    const outIo = (name: string) => ({ name, type: { tensor_type: { elem_type: DT.FLOAT, shape: { dim: [B, K, H, W].map((d) => ({ dim_value: Long.fromNumber(d) })) } } } });
    const thenG: Graph = { name: "then", node: [node("Identity", ["y"], ["z_then"])], output: [outIo("z_then")] };
    // The else branch reads the outer text initializer 't' and the outer value 'x'.
    const elseG: Graph = { name: "else", node: [node("Einsum", ["x", "t"], ["z_else"], { equation: "bchw,bkc->bkhw" }, "inner_einsum")], output: [outIo("z_else")] };
    const build = () => buildModel({
      inputs: [X, { name: "cond", dims: [], dtype: DT.BOOL }], outputs: [Y, { name: "z", dims: [B, K, H, W] }], initializers: { t: T },
      nodes: [
        node("Einsum", ["x", "t"], ["y"], { equation: "bchw,bkc->bkhw" }),
        { name: "if", op_type: "If", input: ["cond"], output: ["z"], attribute: [{ name: "then_branch", type: 5, g: thenG }, { name: "else_branch", type: 5, g: elseG }] },
      ],
    });
    const { r, v, model } = await prove(build, [[f32("x", [B, C, H, W]), f32("cond", [], DT.BOOL)]]);
    expect(r.sites).toMatchObject([{ status: "rewritten", output: "y" }]);
    const g = model.proto.graph!;
    expect(g.node!.map((n) => n.op_type)).toEqual(["Conv", "If"]);
    expect(g.node![1].attribute!.find((a) => a.name === "else_branch")!.g!.node!.map((n) => n.op_type)).toEqual(["Einsum"]);
    expect(g.initializer!.some((t) => t.name === "t")).toBe(true);
    expect(v.passed).toBe(true);
  });
});

