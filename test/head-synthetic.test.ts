// Head rule on hand-built graphs: each variation an exporter might write, proven in
// onnxruntime against the original, and the refusals that must happen.
import { describe, expect, it } from "vitest";
import { reparamModel } from "../passes/pipeline/reparam-model.ts";
import { encodeModel } from "../passes/io/codec.ts";
import { validateModels } from "../passes/validate/validate.ts";
import { DT } from "../passes/io/onnx-types.ts";
import { buildModel, node, seeded, tensor, type IO } from "./helpers/graph-builder.ts";

const B = 1, C = 8, H = 5, W = 6, K = 7;
const rnd = seeded(7);
const T = tensor([1, K, C], () => rnd());

/** `build` must be pure: it is called twice, for the original and the copy to rewrite. */
async function proveEqual(build: () => ReturnType<typeof buildModel>, inputs: IO[]) {
  const original = encodeModel(build().proto);
  const model = build();
  const r = reparamModel(model);
  const v = await validateModels({ bytes: original }, { bytes: encodeModel(model.proto) },
    [inputs.map((i) => ({ name: i.name, dtype: DT.FLOAT, shape: i.dims.map((d) => (typeof d === "number" ? d : 1)) }))],
    { tolerance: { atol: 1e-5, rtol: 1e-5 } });
  return { r, v, model };
}

const X: IO = { name: "x", dims: [B, C, H, W] };
const Y: IO = { name: "y", dims: [B, K, H, W] };

describe("head contrast variations", () => {
  it.each([
    ["bchw,bkc->bkhw", ["x", "t"]],
    ["bkc,bchw->bkhw", ["t", "x"]],
    ["nqyx, nkq -> nkyx", ["x", "t"]],
  ])("einsum '%s' with inputs %j", async (eq, order) => {
    const { r, v, model } = await proveEqual(() => buildModel({
      inputs: [X], outputs: [Y], initializers: { t: T, s: tensor([], () => 2.5), b: tensor([1], () => -0.75) },
      nodes: [node("Einsum", order, ["e"], { equation: eq }), node("Mul", ["e", "s"], ["m"]), node("Add", ["b", "m"], ["y"])],
    }), [X]);
    expect(r.sites.map((s) => [s.status, s.folded])).toEqual([["rewritten", ["scale", "bias"]]]);
    expect(model.proto.graph!.node!.map((n) => n.op_type)).toEqual(["Conv"]);
    expect(v.passed).toBe(true);
  });

  it("a text held by a Constant node, normalized in the graph (ReduceL2 -> Clip -> Div)", async () => {
    const { r, v, model } = await proveEqual(() => buildModel({
      inputs: [X], outputs: [Y], initializers: { lo: tensor([], () => 1e-12) },
      nodes: [
        node("Constant", [], ["t"], { value: T }),
        node("ReduceL2", ["t"], ["n"], { axes: [-1], keepdims: 1 }),
        node("Clip", ["n", "lo", ""], ["nc"]),
        node("Div", ["t", "nc"], ["tn"]),
        node("Einsum", ["x", "tn"], ["y"], { equation: "bchw,bkc->bkhw" }),
      ],
    }), [X]);
    expect(r.sites.map((s) => s.status)).toEqual(["rewritten"]);
    expect(model.proto.graph!.node!.map((n) => n.op_type)).toEqual(["Conv"]);
    expect(v.passed).toBe(true);
  });

  it("a 2-D text (kc) and an implicit-output equation", async () => {
    const t2 = tensor([K, C], () => rnd());
    const { r, v } = await proveEqual(() => buildModel({
      inputs: [X], outputs: [{ name: "e", dims: [B, H, K, W] }], initializers: { t: t2 },
      // implicit output: letters occurring once, sorted -> 'b','h','k','w'
      nodes: [node("Einsum", ["x", "t"], ["e"], { equation: "bchw,kc" })],
    }), [X]);
    // 'bhkw' is not (B, K, H, W): not a head site, nothing rewritten.
    expect(r.sites).toEqual([]);
    expect(v.passed).toBe(true);
  });

  it("folds an inference BatchNormalization on the image side, Sub and Div tails", async () => {
    const r2 = seeded(3);
    const initializers = {
      t: T, g: tensor([C], () => 1 + r2()), be: tensor([C], () => r2()), mu: tensor([C], () => r2()), var: tensor([C], () => 1 + r2() * 0.5),
      d: tensor([1, K, 1, 1], (i) => 1 + i * 0.1), c: tensor([], () => 3),
    };
    const { r, v, model } = await proveEqual(() => buildModel({
      inputs: [{ name: "x0", dims: [B, C, H, W] }], outputs: [Y], initializers,
      nodes: [
        node("BatchNormalization", ["x0", "g", "be", "mu", "var"], ["x"], { epsilon: 1e-3 }),
        node("Einsum", ["x", "t"], ["e"], { equation: "bchw,bkc->bkhw" }),
        node("Div", ["e", "d"], ["q"]), node("Sub", ["c", "q"], ["y"]),
      ],
    }), [{ name: "x0", dims: [B, C, H, W] }]);
    expect(r.sites[0].status).toBe("rewritten");
    expect(r.sites[0].folded?.sort()).toEqual(["batchnorm", "bias", "scale"]);
    expect(model.proto.graph!.node!.map((n) => n.op_type)).toEqual(["Conv"]);
    expect(v.passed).toBe(true);
  });

  it("keeps a BatchNormalization whose output is also read elsewhere", async () => {
    const { r, v, model } = await proveEqual(() => buildModel({
      inputs: [{ name: "x0", dims: [B, C, H, W] }], outputs: [Y, { name: "x", dims: [B, C, H, W] }],
      initializers: { t: T, g: tensor([C], () => 2), be: tensor([C], () => 1), mu: tensor([C], () => 0), var: tensor([C], () => 1) },
      nodes: [node("BatchNormalization", ["x0", "g", "be", "mu", "var"], ["x"]), node("Einsum", ["x", "t"], ["y"], { equation: "bchw,bkc->bkhw" })],
    }), [{ name: "x0", dims: [B, C, H, W] }]);
    expect(r.sites[0].folded).toEqual([]);
    expect(model.proto.graph!.node!.map((n) => n.op_type)).toEqual(["BatchNormalization", "Conv"]);
    expect(v.passed).toBe(true);
  });

  it("does not fold a Mul whose output is a graph output", async () => {
    const { r, v, model } = await proveEqual(() => buildModel({
      inputs: [X], outputs: [{ name: "e", dims: [B, K, H, W] }, Y], initializers: { t: T, s: tensor([], () => 2) },
      nodes: [node("Einsum", ["x", "t"], ["e"], { equation: "bchw,bkc->bkhw" }), node("Mul", ["e", "s"], ["y"])],
    }), [X]);
    expect(r.sites[0].folded).toEqual([]);
    expect(model.proto.graph!.node!.map((n) => n.op_type)).toEqual(["Conv", "Mul"]);
    expect(v.passed).toBe(true);
  });

  it("refuses a text that differs between batch samples", () => {
    const model = buildModel({
      inputs: [{ name: "x", dims: [2, C, H, W] }], outputs: [{ name: "y", dims: [2, K, H, W] }], initializers: { t: tensor([2, K, C], () => rnd()) },
      nodes: [node("Einsum", ["x", "t"], ["y"], { equation: "bchw,bkc->bkhw" })],
    });
    const r = reparamModel(model);
    expect(r.sites).toMatchObject([{ status: "skipped", reason: expect.stringMatching(/differs between batch samples/) }]);
    expect(model.proto.graph!.node!.map((n) => n.op_type)).toEqual(["Einsum"]);
  });

  it("refuses a text computed from image values, naming the input", () => {
    const model = buildModel({
      inputs: [X], outputs: [Y], initializers: { t: T, ax: tensor([2], (i) => [2, 3][i], DT.INT64), ax0: tensor([1], () => 0, DT.INT64) },
      nodes: [
        node("ReduceMean", ["x", "ax"], ["pooled"], { keepdims: 0 }, "pool"),
        node("Transpose", ["pooled"], ["pt"], { perm: [0, 1] }),
        node("Unsqueeze", ["pt", "ax0"], ["pu"]),
        node("Add", ["t", "pu"], ["t2"]),
        node("Einsum", ["x", "t2"], ["y"], { equation: "bchw,bkc->bkhw" }),
      ],
    });
    const r = reparamModel(model);
    expect(r.sites).toHaveLength(1);
    expect(r.sites[0].status).toBe("skipped");
    expect(r.sites[0].reason).toContain("'x'");
  });

  it("keeps a dynamic batch dynamic", async () => {
    const dyn: IO = { name: "x", dims: ["N", C, "h", "w"] };
    const model = buildModel({
      inputs: [dyn], outputs: [{ name: "y", dims: ["N", K, "h", "w"] }], initializers: { t: T },
      nodes: [node("Einsum", ["x", "t"], ["y"], { equation: "bchw,bkc->bkhw" })],
    });
    const original = encodeModel(model.proto);
    expect(reparamModel(model).sites[0].status).toBe("rewritten");
    const shapes = [[1, C, 4, 4], [3, C, 7, 9]];
    const v = await validateModels({ bytes: original }, { bytes: encodeModel(model.proto) }, shapes.map((s) => [{ name: "x", dtype: DT.FLOAT, shape: s }]), { tolerance: { atol: 1e-5, rtol: 1e-5 } });
    expect(v.runs.map((x) => x.passed)).toEqual([true, true]);
  });

  describe("merging the image embedding Conv", () => {
    const CIN = 3, r3 = seeded(11);
    const inits = { t: T, we: tensor([C, CIN, 1, 1], () => r3()), be: tensor([C], () => r3()), w3: tensor([C, CIN, 3, 3], () => r3()) };
    const X0: IO = { name: "x0", dims: [B, CIN, H, W] };
    const embedThen = (weight: string, extra: Record<string, number[]> = {}, outputs: IO[] = [Y]) => () => buildModel({
      inputs: [X0], outputs, initializers: inits,
      nodes: [node("Conv", ["x0", weight, "be"], ["x"], extra), node("Einsum", ["x", "t"], ["y"], { equation: "bchw,bkc->bkhw" })],
    });

    it("a pointwise Conv before the site becomes part of the Conv", async () => {
      const { r, v, model } = await proveEqual(embedThen("we"), [X0]);
      expect(r.sites[0].folded).toEqual(["embed conv"]);
      const g = model.proto.graph!;
      expect(g.node!.map((n) => n.op_type)).toEqual(["Conv"]);
      expect(g.node![0].input![0]).toBe("x0");
      expect(v.passed).toBe(true);
    });

    it("a 3x3 Conv, a strided Conv or one read elsewhere stays", async () => {
      for (const [build, inputs] of [
        [embedThen("w3", { pads: [1, 1, 1, 1] }), [X0]],
        [embedThen("we", { strides: [2, 2] }, [{ name: "y", dims: [B, K, 3, 3] }]), [X0]],
        [embedThen("we", {}, [Y, { name: "x", dims: [B, C, H, W] }]), [X0]],
      ] as const) {
        const { r, v, model } = await proveEqual(build, [...inputs]);
        expect(r.sites[0].folded).toEqual([]);
        expect(model.proto.graph!.node!.map((n) => n.op_type)).toEqual(["Conv", "Conv"]);
        expect(v.passed).toBe(true);
      }
    });
  });
});
