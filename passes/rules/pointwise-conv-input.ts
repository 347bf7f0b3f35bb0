// Two 1x1 Convs in a row are one: the head's image embedding Conv (C_in -> 512) followed
// by the contrast Conv (512 -> K) merges into C_in -> K, which removes the 512-channel
// activation entirely (the largest speed-up after the Einsum itself). Only a plain
// pointwise Conv qualifies: 1x1 kernel, stride 1, no padding, no groups, read only by the site.
import type { Node } from "../io/onnx-types.ts";
import type { ConstantFolder } from "../fold/fold-constants.ts";
import { attr, attrString, type GraphIR } from "../ir/graph.ts";
import { toNumber } from "../ir/tensor.ts";
import { op } from "./site.ts";

export interface PointwiseConv { node: Node; input: string; weight: Float64Array; bias: Float64Array | null; inChannels: number; outChannels: number }

const allEqual = (n: Node, name: string, v: number) => (attr(n, name)?.ints ?? []).every((x) => toNumber(x) === v);

export function foldPointwiseConvInput(g: GraphIR, folder: Pick<ConstantFolder, "fold">, x: string, consumer: Node): PointwiseConv | null {
  const conv = op(g, x, "Conv");
  if (!conv || g.isGraphOutput(x) || g.uses(x).some((u) => u !== consumer)) return null;
  if (!allEqual(conv, "strides", 1) || !allEqual(conv, "pads", 0) || !allEqual(conv, "dilations", 1)) return null;
  if (Number(attr(conv, "group")?.i ?? 1) !== 1) return null;
  const autoPad = attrString(conv, "auto_pad");
  if (autoPad && autoPad !== "NOTSET" && autoPad !== "VALID") return null;
  const w = folder.fold(conv.input![1]);
  if (!w.ok || w.value.dims.length !== 4 || w.value.dims[2] !== 1 || w.value.dims[3] !== 1) return null;
  const b = conv.input![2] ? folder.fold(conv.input![2]) : null;
  if (b && !b.ok) return null;
  return {
    node: conv, input: conv.input![0], weight: w.value.data, bias: b?.ok ? b.value.data : null,
    outChannels: w.value.dims[0], inChannels: w.value.dims[1],
  };
}
