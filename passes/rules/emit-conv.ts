// Builds the replacement Conv: constant weight/bias initializers in the model's dtype,
// inserted where the removed nodes were, writing the value the site used to write.
import type { Node } from "../io/onnx-types.ts";
import type { GraphIR } from "../ir/graph.ts";
import Long from "long";

export interface ConvSpec {
  x: string; out: string; dtype: number; weight: Float64Array; bias: Float64Array | null;
  outChannels: number; inChannels: number; group: number; name: string; replaces: Node[];
}

export function emitConv1x1(g: GraphIR, s: ConvSpec): Node {
  const base = s.name.replace(/\/reparam_conv$/, "");
  const wName = g.addInitializer(`${base}/reparam_weight`, { dtype: s.dtype, dims: [s.outChannels, s.inChannels / s.group, 1, 1], data: s.weight });
  const inputs = [s.x, wName];
  if (s.bias) inputs.push(g.addInitializer(`${base}/reparam_bias`, { dtype: s.dtype, dims: [s.outChannels], data: s.bias }));
  const conv: Node = {
    name: g.uniqueName(s.name), op_type: "Conv", input: inputs, output: [s.out],
    attribute: [
      { name: "kernel_shape", type: 7, ints: [Long.fromNumber(1), Long.fromNumber(1)] },
      ...(s.group > 1 ? [{ name: "group", type: 2, i: Long.fromNumber(s.group) }] : []),
    ],
  };
  // Inserted where the site was, then the old nodes go (the Conv takes over their output name).
  g.insertNodes([conv], s.replaces[0]);
  g.removeNodes(s.replaces);
  return conv;
}
