// An inference BatchNormalization right before a site (its output read only by the
// site) is a per-channel affine map of x, so it folds into the Conv weights:
// Conv(BN(x)) == Conv(x, W*s, b + W.shift).
import type { Node } from "../io/onnx-types.ts";
import type { ConstantFolder } from "../fold/fold-constants.ts";
import { attr, type GraphIR } from "../ir/graph.ts";
import { op } from "./site.ts";

export interface BatchNormFold { node: Node; input: string; scale: Float64Array; shift: Float64Array }

export function foldBatchNormInput(g: GraphIR, folder: Pick<ConstantFolder, "fold">, x: string, site: Node): BatchNormFold | null {
  const bn = op(g, x, "BatchNormalization");
  if (!bn || (bn.output ?? []).filter(Boolean).length !== 1 || Number(attr(bn, "training_mode")?.i ?? 0) !== 0) return null;
  if (g.isGraphOutput(x) || g.uses(x).some((u) => u !== site)) return null;
  const [gamma, beta, mean, varr] = bn.input!.slice(1).map((i) => folder.fold(i));
  if (!gamma?.ok || !beta?.ok || !mean?.ok || !varr?.ok) return null;
  const eps = attr(bn, "epsilon")?.f ?? 1e-5;
  const c = gamma.value.data.length;
  const scale = new Float64Array(c), shift = new Float64Array(c);
  for (let j = 0; j < c; j++) {
    scale[j] = gamma.value.data[j] / Math.sqrt(varr.value.data[j] + eps);
    shift[j] = beta.value.data[j] - mean.value.data[j] * scale[j];
  }
  return { node: bn, input: bn.input![0], scale, shift };
}
