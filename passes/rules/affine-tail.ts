// Per-channel Mul/Add/Sub/Div by constants after a contraction (logit scale and bias)
// fold exactly into the Conv that replaces it: y*s + b == Conv(x, W*s, b).
import type { Node } from "../io/onnx-types.ts";
import type { ConstantFolder } from "../fold/fold-constants.ts";
import type { GraphIR } from "../ir/graph.ts";
import { soleUser } from "./site.ts";

export interface AffineTail { scale: Float64Array; bias: Float64Array; out: string; nodes: Node[]; folded: string[] }

/** Per-channel values of a constant broadcast against (N, K, ...rank-2 spatial), or null. */
function perChannel(data: Float64Array, dims: number[], k: number, rank: number): Float64Array | null {
  if (dims.length > rank) return null;
  const full = [...new Array(rank - dims.length).fill(1), ...dims];
  if (full.some((d, i) => d !== 1 && i !== 1)) return null;
  if (full[1] !== 1 && full[1] !== k) return null;
  return Float64Array.from({ length: k }, (_, i) => data[full[1] === 1 ? 0 : i]);
}

export function foldAffineTail(g: GraphIR, folder: Pick<ConstantFolder, "fold">, y: string, k: number, rank: number): AffineTail {
  const scale = new Float64Array(k).fill(1), bias = new Float64Array(k);
  const nodes: Node[] = [], folded = new Set<string>();
  let out = y;
  for (;;) {
    const n = soleUser(g, out);
    if (!n || n.domain || !["Mul", "Add", "Sub", "Div"].includes(n.op_type ?? "")) break;
    const side = n.input![0] === out ? 1 : 0;
    const c = folder.fold(n.input![side]);
    if (!c.ok) break;
    const v = perChannel(c.value.data, c.value.dims, k, rank);
    if (!v) break;
    // The result must keep the contraction's shape: a constant that broadcasts wider would change it.
    const op = n.op_type!;
    if (op === "Div" && side === 0) break; // c / y is not affine in y
    // y / 0 and y * inf are Inf or NaN wherever y is, not (W / 0) . x: such a tail stays.
    if (v.some((f) => !Number.isFinite(f) || (op === "Div" && f === 0))) break;
    for (let i = 0; i < k; i++) {
      if (op === "Mul") { scale[i] *= v[i]; bias[i] *= v[i]; }
      else if (op === "Div") { scale[i] /= v[i]; bias[i] /= v[i]; }
      else if (op === "Add") bias[i] += v[i];
      else if (side === 1) bias[i] -= v[i];
      else { scale[i] = -scale[i]; bias[i] = v[i] - bias[i]; }
    }
    folded.add(op === "Mul" || op === "Div" ? "scale" : "bias");
    nodes.push(n);
    out = n.output![0];
  }
  return { scale, bias, out, nodes, folded: [...folded] };
}
