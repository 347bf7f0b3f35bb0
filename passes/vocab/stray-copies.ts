// A second copy of the vocabulary the text does not reach: an exporter that folded the
// neck's Linear into a constant G = T·W (1, K, M, c) leaves it behind, and if G feeds a
// contraction no rule recognizes, nothing else would notice that it still holds the old
// classes. Such a constant (K rows in front, read by a contraction through reshapes and
// elementwise ops) is a refusal, named: only a graph that computes it from the text follows.
import type { Node } from "../io/onnx-types.ts";
import type { GraphIR } from "../ir/graph.ts";
import { FLOAT_TYPES, numel } from "../ir/tensor.ts";

const PASS = new Set(["Reshape", "Transpose", "Unsqueeze", "Squeeze", "Flatten", "Identity", "Cast", "Expand", "Tile", "Add", "Sub", "Mul", "Div", "Neg", "Clip", "Relu", "Sigmoid"]);
const CONTRACTIONS = new Set(["Einsum", "MatMul", "Gemm"]);

function reachesContraction(g: GraphIR, value: string, hops = 8): boolean {
  const seen = new Set<string>();
  let frontier = [value];
  for (let h = 0; h < hops && frontier.length; h++) {
    const next: string[] = [];
    for (const v of frontier) {
      for (const n of g.uses(v) as Node[]) {
        if (n.domain) continue;
        if (CONTRACTIONS.has(n.op_type ?? "")) return true;
        if (!PASS.has(n.op_type ?? "")) continue;
        for (const o of n.output ?? []) if (o && !seen.has(o)) { seen.add(o); next.push(o); }
      }
    }
    frontier = next;
  }
  return false;
}

/** Constants shaped like K rows of text that the class axis did not reach and a contraction reads. */
export function strayVocabularyCopies(g: GraphIR, reached: ReadonlySet<string>, k: number): string[] {
  const names = [...(g.proto.initializer ?? []).map((t) => t.name ?? ""), ...g.nodes.filter((n) => n.op_type === "Constant" && !n.domain).map((n) => n.output![0])];
  return names.filter((name) => {
    if (reached.has(name) || g.isOverridable(name)) return false;
    const init = g.initializer(name);
    const dims = init ? (init.dims ?? []).map(Number) : g.constant(name)?.dims;
    const dtype = init ? init.data_type ?? 0 : g.constant(name)?.dtype ?? 0;
    if (!dims || !FLOAT_TYPES.has(dtype) || numel(dims) < 2 * k) return false;
    const rows = dims.length === 2 ? dims[0] : dims.length >= 3 && dims[0] === 1 ? dims[1] : -1;
    return rows === k && reachesContraction(g, name);
  });
}
