// An initializer that is also a graph input is only a default (a caller may feed another
// value), so, as in onnxruntime, it is not a constant: the site is skipped with a reason,
// unless the user binds it explicitly, which freezes it.
import { describe, expect, it } from "vitest";
import { reparamModel } from "../passes/pipeline/reparam-model.ts";
import { encodeModel } from "../passes/io/codec.ts";
import { validateModels } from "../passes/validate/validate.ts";
import { DT } from "../passes/io/onnx-types.ts";
import { buildModel, node, seeded, tensor } from "./helpers/graph-builder.ts";

const C = 4, K = 3, H = 2, W = 3, rnd = seeded(5);
const T = tensor([1, K, C], () => rnd());
const build = (t = T) => buildModel({
  inputs: [{ name: "x", dims: [1, C, H, W] }, { name: "t", dims: [1, K, C] }], outputs: [{ name: "y", dims: [1, K, H, W] }],
  initializers: { t }, nodes: [node("Einsum", ["x", "t"], ["y"], { equation: "bchw,bkc->bkhw" })],
});

describe("initializers that are also graph inputs", () => {
  it("are not constants: the site is skipped and says how to freeze it", () => {
    const model = build();
    const r = reparamModel(model);
    expect(r.sites).toMatchObject([{ status: "skipped", reason: expect.stringMatching(/'t' is an initializer that is also a graph input.*--text-embed/) }]);
    expect(model.proto.graph!.node!.map((n) => n.op_type)).toEqual(["Einsum"]);
  });

  it("binding one freezes it: one initializer of that name, no input, same numbers as feeding it", async () => {
    const model = build();
    const other = tensor([1, K, C], () => rnd());
    const r = reparamModel(model, { textEmbed: { value: other, source: "t.npy" }, textInput: "t" });
    expect(r.sites.map((s) => s.status)).toEqual(["rewritten"]);
    const g = model.proto.graph!;
    expect((g.input ?? []).map((i) => i.name)).toEqual(["x"]);
    expect((g.initializer ?? []).filter((t) => t.name === "t")).toHaveLength(0); // folded away, not duplicated
    // onnxruntime-node cannot feed an overridable initializer (it is not in inputNames), so
    // the reference is the original with the bound value as its default.
    const v = await validateModels({ bytes: encodeModel(build(other).proto) }, { bytes: encodeModel(model.proto) },
      [[{ name: "x", dtype: DT.FLOAT, shape: [1, C, H, W] }]], { tolerance: { atol: 1e-5, rtol: 1e-5 } });
    expect(v.passed).toBe(true);
  });
});
