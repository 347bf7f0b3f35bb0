// What the graph asks of its caller: the dims each input declares, and which inputs could
// hold a text embedding. Rules, vocab, the pipeline and the proofs all read inputs this way.
import { DT, type ValueInfo } from "../io/onnx-types.ts";
import { toNumber } from "./tensor.ts";
import type { GraphIR } from "./graph.ts";

export function declaredDims(v: ValueInfo): Array<number | string> | null {
  const dims = v.type?.tensor_type?.shape?.dim;
  if (!v.type?.tensor_type || !dims) return null;
  return dims.map((d, i) => (d.dim_value !== undefined && d.dim_value !== null && toNumber(d.dim_value) > 0 ? toNumber(d.dim_value) : d.dim_param || `?${i}`));
}

const elemType = (v: ValueInfo) => v.type?.tensor_type?.elem_type ?? 0;

/** Inputs that could hold a text embedding: float tensors of rank 2 or 3. */
export function textInputCandidates(g: GraphIR): ValueInfo[] {
  return g.inputs.filter((v) => [DT.FLOAT, DT.FLOAT16].includes(elemType(v) as 1 | 10) && [2, 3].includes(declaredDims(v)?.length ?? 0));
}
