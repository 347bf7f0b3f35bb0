// Hand-built models for rule tests: the exact variations exporters could produce
// (operand order, letters, BatchNorm, affine tails), small enough to reason about.
import Long from "long";
import type { Attribute, Model, Node } from "../../passes/io/onnx-types.ts";
import { DT } from "../../passes/io/onnx-types.ts";
import { toTensorProto, type ConstTensor } from "../../passes/ir/tensor.ts";
import { encodeModel } from "../../passes/io/codec.ts";
import { loadModel, type LoadedModel } from "../../passes/io/model-io.ts";

export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296 - 0.5; };
}

export const tensor = (dims: number[], f: (i: number) => number, dtype: number = DT.FLOAT): ConstTensor =>
  ({ dtype, dims, data: Float64Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => f(i)) });

type AttrValue = number | number[] | string | ConstTensor;
export function node(op_type: string, input: string[], output: string[], attrs: Record<string, AttrValue> = {}, name = output[0]): Node {
  const attribute: Attribute[] = Object.entries(attrs).map(([k, v]) => {
    if (typeof v === "string") return { name: k, type: 3, s: new TextEncoder().encode(v) };
    if (Array.isArray(v)) return { name: k, type: 7, ints: v.map((x) => Long.fromNumber(x)) };
    if (typeof v === "number") return Number.isInteger(v) && k !== "epsilon" ? { name: k, type: 2, i: Long.fromNumber(v) } : { name: k, type: 1, f: v };
    return { name: k, type: 4, t: toTensorProto(k, v) };
  });
  return { name, op_type, input, output, attribute };
}

export interface IO { name: string; dims: Array<number | string>; dtype?: number }
const vi = (io: IO) => ({
  name: io.name,
  type: { tensor_type: { elem_type: io.dtype ?? DT.FLOAT, shape: { dim: io.dims.map((d) => (typeof d === "number" ? { dim_value: Long.fromNumber(d) } : { dim_param: d })) } } },
});

export function buildModel(spec: { inputs: IO[]; outputs: IO[]; nodes: Node[]; initializers: Record<string, ConstTensor>; opset?: number }): LoadedModel {
  const model: Model = {
    ir_version: Long.fromNumber(8),
    producer_name: "onnx-reparam-tests",
    opset_import: [{ domain: "", version: Long.fromNumber(spec.opset ?? 17) }],
    graph: {
      name: "g", node: spec.nodes,
      initializer: Object.entries(spec.initializers).map(([n, t]) => toTensorProto(n, t)),
      input: spec.inputs.map(vi), output: spec.outputs.map(vi),
    },
  };
  // Round-trip through the codec so the test sees exactly what a file would give.
  return loadModel(encodeModel(model));
}
