// A second copy of the vocabulary the text does not reach: an exporter that folded the
// neck's Linear into a constant G = T·W (1, K, M, c) leaves it behind, and if G feeds a
// contraction no rule recognizes, nothing else would notice that it still holds the old
// classes. Such a constant (a K-sized axis anywhere, at least two values per class) that
// reaches, through data movement and elementwise ops only, a contraction none of whose
// operands comes from the text is a refusal, named. A weight applied to the text (the
// Linear W itself) meets the text in its contraction and is not one.
import type { Node } from "../io/onnx-types.ts";
import type { GraphIR } from "../ir/graph.ts";
import { FLOAT_TYPES, numel } from "../ir/tensor.ts";

const PASS = new Set([
  "Reshape", "Transpose", "Unsqueeze", "Squeeze", "Flatten", "Identity", "Cast", "Expand", "Tile", "Split", "Slice", "Gather", "Concat",
  "Add", "Sub", "Mul", "Div", "Neg", "Clip", "Relu", "Sigmoid", "Tanh", "Exp", "Sqrt", "Pow", "ReduceL2", "LpNormalization", "Softmax",
]);
const CONTRACTIONS = new Set(["Einsum", "MatMul", "Gemm"]);

function reachesForeignContraction(g: GraphIR, value: string, reached: ReadonlySet<string>, hops = 12): boolean {
  const seen = new Set<string>();
  let frontier = [value];
  for (let h = 0; h < hops && frontier.length; h++) {
    const next: string[] = [];
    for (const v of frontier) {
      for (const n of g.uses(v) as Node[]) {
        if (n.domain) continue;
        if (CONTRACTIONS.has(n.op_type ?? "")) {
          if (!(n.input ?? []).some((i) => reached.has(i))) return true;
          continue;
        }
        if (!PASS.has(n.op_type ?? "")) continue;
        for (const o of n.output ?? []) if (o && !seen.has(o)) { seen.add(o); next.push(o); }
      }
    }
    frontier = next;
  }
  return false;
}

/** Constants with a K-sized axis that the class axis did not reach and that a contraction without the text reads. */
export function strayVocabularyCopies(g: GraphIR, reached: ReadonlySet<string>, k: number): string[] {
  const names = [...(g.proto.initializer ?? []).map((t) => t.name ?? ""), ...g.nodes.filter((n) => n.op_type === "Constant" && !n.domain).map((n) => n.output![0])];
  return names.filter((name) => {
    if (reached.has(name) || g.isOverridable(name)) return false;
    const init = g.initializer(name);
    const dims = init ? (init.dims ?? []).map(Number) : g.constant(name)?.dims;
    const dtype = init ? init.data_type ?? 0 : g.constant(name)?.dtype ?? 0;
    if (!dims || !FLOAT_TYPES.has(dtype) || numel(dims) < 2 * k || !dims.includes(k)) return false;
    return reachesForeignContraction(g, name, reached);
  });
}
