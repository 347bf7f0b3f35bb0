// Folding kernels on hand-built graphs: variadic ops use every operand, Tile repeats,
// and a value that depends on a graph input does not fold.
import { describe, expect, it } from "vitest";
import { ConstantFolder } from "../passes/fold/fold-constants.ts";
import { GraphIR } from "../passes/ir/graph.ts";
import { DT } from "../passes/io/onnx-types.ts";
import { buildModel, node, tensor } from "./helpers/graph-builder.ts";

const folderFor = (nodes: ReturnType<typeof node>[], initializers: Record<string, ReturnType<typeof tensor>>) => {
  const m = buildModel({ inputs: [{ name: "x", dims: [2, 3] }], outputs: [{ name: "out", dims: [2, 3] }], nodes, initializers });
  return new ConstantFolder(new GraphIR(m.proto.graph!), { inputShapes: new Map([["x", [2, 3]]]) });
};
const values = (f: ConstantFolder, name: string) => { const r = f.fold(name); if (!r.ok) throw new Error(r.reason); return { dims: r.value.dims, data: Array.from(r.value.data) }; };

describe("constant folding", () => {
  it("Max, Min and Sum fold all of their operands", () => {
    const f = folderFor([node("Max", ["a", "b", "c"], ["mx"]), node("Min", ["a", "b", "c"], ["mn"]), node("Sum", ["a", "b", "c"], ["sm"])], {
      a: tensor([3], (i) => [1, 5, 2][i]), b: tensor([3], (i) => [4, 0, 2][i]), c: tensor([1], () => 3),
    });
    expect(values(f, "mx").data).toEqual([4, 5, 3]);
    expect(values(f, "mn").data).toEqual([1, 0, 2]);
    expect(values(f, "sm").data).toEqual([8, 8, 7]);
  });

  it("Tile repeats each axis, including a repeat count read from a Shape", () => {
    const f = folderFor([
      node("Tile", ["t", "r"], ["tiled"]),
      node("Shape", ["x"], ["sx"]), node("Gather", ["sx", "zero"], ["b"], { axis: 0 }), node("Concat", ["b", "one", "one"], ["reps"], { axis: 0 }),
      node("Tile", ["t3", "reps"], ["tb"]),
    ], {
      t: tensor([1, 2], (i) => i + 1), r: tensor([2], (i) => [2, 3][i], DT.INT64),
      t3: tensor([1, 2, 2], (i) => i), zero: tensor([1], () => 0, DT.INT64), one: tensor([1], () => 1, DT.INT64),
    });
    expect(values(f, "tiled")).toEqual({ dims: [2, 6], data: [1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2] });
    expect(values(f, "tb")).toEqual({ dims: [2, 2, 2], data: [0, 1, 2, 3, 0, 1, 2, 3] });
  });

  it("a value computed from graph-input values does not fold, and says why", () => {
    const f = folderFor([node("Add", ["x", "a"], ["y"])], { a: tensor([3], () => 1) });
    expect(f.fold("y")).toEqual({ ok: false, reason: "depends on the values of graph input 'x'" });
  });
});
