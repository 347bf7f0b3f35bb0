// A model with no site left may be one this pass (or upstream's reparameterized export)
// already wrote: the text lives in Conv (or MatMul) weights. The neck is recognizable by
// what no plain detector has, a max over a class-sized axis straight after a constant-weight
// Conv or MatMul (neck-emit.ts's three forms); the head then is a constant-weight Conv with
// that many outputs that reaches a graph output. Recognized by structure, never by names.
import type { Node } from "../io/onnx-types.ts";
import { attr, type GraphIR } from "../ir/graph.ts";
import { toNumber } from "../ir/tensor.ts";
import { ConstantFolder } from "../fold/fold-constants.ts";
import { normAxis } from "../fold/kernels.ts";
import { nodeLabel } from "./site.ts";

export interface RewrittenSites {
  /** Neck contractions in Conv/MatMul form: the node holding the text, and the class count it maxes over. */
  neck: Array<{ node: string; k: number }>;
  /** Constant-weight 1x1 Convs with K outputs that reach a graph output (head contrasts, or a plain detector's class Conv). */
  head: string[];
}

const MOVES = new Set(["Reshape", "Transpose", "Squeeze", "Unsqueeze", "Identity"]);
const TO_OUTPUT = new Set(["Add", "Mul", "Sub", "Div", "Sigmoid", "Reshape", "Transpose", "Concat", "Flatten", "Identity", "Cast", "Split", "Slice", "Squeeze", "Unsqueeze"]);

const constantWeight = (g: GraphIR, n: Node) => !!n.input?.[1] && (!!g.initializer(n.input[1]) || g.producer(n.input[1])?.op_type === "Constant");

/** Reaches a graph output through data movement and elementwise ops only (a few hops). */
function reachesOutput(g: GraphIR, value: string, hops = 8): boolean {
  let frontier = [value];
  const seen = new Set<string>();
  for (let h = 0; h <= hops && frontier.length; h++) {
    const next: string[] = [];
    for (const v of frontier) {
      if (g.isGraphOutput(v)) return true;
      for (const n of g.uses(v)) if (!n.domain && TO_OUTPUT.has(n.op_type ?? "")) for (const o of n.output ?? []) if (o && !seen.has(o)) { seen.add(o); next.push(o); }
    }
    frontier = next;
  }
  return false;
}

export function rewrittenSites(g: GraphIR, inputShapes: Map<string, number[]>, k: number | null): RewrittenSites {
  const folder = new ConstantFolder(g, { inputShapes });
  const shape = (v: string) => { const s = folder.shape(v); return typeof s === "string" ? null : s; };
  const neck: RewrittenSites["neck"] = [];
  const neckConvs = new Set<Node>();
  for (const n of g.nodes) {
    if (n.op_type !== "ReduceMax" || n.domain) continue;
    const s = shape(n.input![0]);
    if (!s) continue;
    const axesIn = n.input?.[1] ? folder.fold(n.input[1]) : null;
    const axes = axesIn?.ok ? Array.from(axesIn.value.data) : attr(n, "axes")?.ints?.map(toNumber);
    if (!axes || axes.length !== 1) continue;
    const size = s[normAxis(axes[0], s.length)];
    let p = g.producer(n.input![0]);
    for (let i = 0; i < 2 && p && !p.domain && MOVES.has(p.op_type ?? ""); i++) p = g.producer(p.input![0]);
    if (!p || p.domain || !(p.op_type === "Conv" || p.op_type === "MatMul") || !constantWeight(g, p) || size < 2) continue;
    if (k !== null && size !== k) continue;
    neck.push({ node: nodeLabel(p), k: size });
    neckConvs.add(p);
  }
  const kk = k ?? (neck.length && neck.every((x) => x.k === neck[0].k) ? neck[0].k : null);
  const head = kk === null ? [] : g.nodes.filter((n) => {
    if (n.op_type !== "Conv" || n.domain || neckConvs.has(n) || !constantWeight(g, n)) return false;
    const w = g.initializer(n.input![1])?.dims?.map(toNumber) ?? g.constant(n.input![1])?.dims;
    return !!w && w.length === 4 && w[0] === kk && w[2] === 1 && w[3] === 1 && reachesOutput(g, n.output![0]);
  }).map(nodeLabel);
  return { neck, head };
}
