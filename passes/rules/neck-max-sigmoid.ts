// Neck max-sigmoid attention: a[b,m,h,w] = max_n sum_j x[b, m*c+j, h, w] * g[n, m, j]
// (then / sqrt(c), + bias[m], sigmoid, ...). With a constant guide g this is a grouped
// 1x1 Conv (M groups, K outputs each) followed by a max over K. Exporter forms:
//   einsum:  Einsum('bmchw,bnmc->bmhwn', Reshape(X, B,M,c,H,W), g) -> ReduceMax(n)
//   matmul:  Transpose(x5, 01342) -> Reshape(B,M,HW,c) -> MatMul(., g^T) -> Reshape(B,M,H,W,K) -> ReduceMax(-1)
// A positive constant scale right after the max commutes with it and folds into the weights.
import type { Node } from "../io/onnx-types.ts";
import { attr, attrString } from "../ir/graph.ts";
import { toNumber, type ConstTensor } from "../ir/tensor.ts";
import { matmulDims, reshapeDims } from "../fold/kernels.ts";
import { parseEquation } from "../ir/einsum-equation.ts";
import { foldText } from "./text-operand.ts";
import {
  allowzero, contractionOf, defineRule, fixedConstants, nodeLabel, onlyFeeds, op, permOf, shapeProof, soleUser, textBatchProblem,
  type Rule, type RuleContext, type SiteReport,
} from "./site.ts";
import { emitNeck, type NeckLayout } from "./neck-emit.ts";
import { SizeCapError } from "../io/size-cap.ts";

interface NeckMatch {
  form: "einsum" | "matmul";
  textOperand: string;
  /** The 5-D (B, M, c, H, W) view of the block input and the Reshape that made it. */
  x5: string;
  reshape5: Node;
  nodes: Node[];
  max: Node;
  /** Folds the guide to [K, M, c]. */
  guide: (ctx: RuleContext) => { value: ConstTensor } | { reason: string };
  check?: (ctx: RuleContext, k: number, m: number, c: number) => string | null;
}

const ints = (n: Node, name: string) => attr(n, name)?.ints?.map(toNumber);

/** The single axis a ReduceMax reduces (attribute or input form), with keepdims = 0. */
function maxAxis(ctx: RuleContext, n: Node, rank: number): number | null {
  if (Number(attr(n, "keepdims")?.i ?? 1) !== 0) return null;
  let axes = ints(n, "axes");
  if (n.input![1]) { const f = fixedConstants(ctx.text).fold(n.input![1]); axes = f.ok ? Array.from(f.value.data) : undefined; }
  if (!axes || axes.length !== 1 || axes[0] < -rank || axes[0] >= rank) return null; // out of range: an invalid model, not a site
  return axes[0] < 0 ? axes[0] + rank : axes[0];
}

function matchEinsum(ctx: RuleContext, n: Node): NeckMatch | null {
  const eq = parseEquation(attrString(n, "equation"));
  if (typeof eq === "string" || eq.inputs.length !== 2 || eq.output.length !== 5) return null;
  const xi = eq.inputs.findIndex((t) => t.length === 5);
  if (xi < 0) return null;
  const [b, m, c, h, w] = eq.inputs[xi], gl = eq.inputs[1 - xi];
  const nl = gl.find((l) => !eq.inputs[xi].includes(l));
  if (!nl || gl.length < 3 || !gl.includes(m) || !gl.includes(c) || eq.output.includes(c)) return null;
  if (gl.some((l) => l !== nl && l !== m && l !== c && l !== b)) return null;
  const max = soleUser(ctx.graph, n.output![0]);
  if (!max || max.op_type !== "ReduceMax" || maxAxis(ctx, max, 5) !== eq.output.indexOf(nl)) return null;
  if (eq.output.filter((l) => l !== nl).join("") !== [b, m, h, w].join("")) return null;
  const reshape5 = op(ctx.graph, n.input![xi], "Reshape");
  if (!reshape5) return null;
  return {
    form: "einsum", textOperand: n.input![1 - xi], x5: n.input![xi], reshape5, nodes: [n, max], max,
    guide: (cx) => foldText(cx.text, n.input![1 - xi], gl, gl.includes(b) ? b : null, [nl, m, c]),
    check: (cx) => textBatchProblem(cx.text, n.input![1 - xi], gl.indexOf(b), n.input![xi]),
  };
}

function matchMatMul(ctx: RuleContext, mm: Node): NeckMatch | null {
  const g = ctx.graph;
  const r1 = op(g, mm.input![0], "Reshape");
  const t1 = r1 && op(g, r1.input![0], "Transpose");
  const reshape5 = t1 && op(g, t1.input![0], "Reshape");
  const r2 = soleUser(g, mm.output![0]);
  const max = r2 && r2.op_type === "Reshape" ? soleUser(g, r2.output![0]) : null;
  if (!r1 || !t1 || !reshape5 || permOf(t1) !== "0,1,3,4,2" || !r2 || !max || max.op_type !== "ReduceMax") return null;
  // The rewrite removes t1 and r1: their outputs must feed nothing else, graph outputs included.
  if (maxAxis(ctx, max, 5) !== 4 || !onlyFeeds(g, t1.output![0], r1) || !onlyFeeds(g, r1.output![0], mm)) return null;
  const gName = mm.input![1];
  return {
    form: "matmul", textOperand: gName, x5: t1.input![0], reshape5, nodes: [t1, r1, mm, r2, max], max,
    guide: (cx) => {
      const f = cx.text.a.fold(gName);
      const letters = f.ok && f.value.dims.length === 3 ? ["m", "c", "n"] : ["b", "m", "c", "n"];
      return foldText(cx.text, gName, letters, letters.includes("b") ? "b" : null, ["n", "m", "c"]);
    },
    check: (cx, k, mh, c) => shapeProof(() => {
      for (const folder of [cx.text.a, cx.text.b]) {
        if (!folder) continue;
        const s5 = folder.shape(t1.input![0]);
        const a = folder.fold(r1.input![1]), b = folder.fold(r2.input![1]), gv = folder.fold(gName);
        if (typeof s5 === "string" || !a.ok || !b.ok) return `cannot prove the reshapes: ${typeof s5 === "string" ? s5 : !a.ok ? a.reason : (b as { reason: string }).reason}`;
        if (!gv.ok) return `guide is not constant: ${gv.reason}`;
        const [B, , , H, W] = s5;
        const d1 = reshapeDims([B, mh, H, W, c], Array.from(a.value.data), allowzero(r1));
        if (d1.join() !== [B, mh, H * W, c].join()) return `first reshape gives [${d1}], not [B, M, HW, c]`;
        // A guide batch other than 1 or B would broadcast the MatMul to a larger batch.
        const p = matmulDims(d1, gv.value.dims);
        if (p.join() !== [B, mh, H * W, k].join()) return `MatMul gives [${p}], not [B, M, HW, K]`;
        const d2 = reshapeDims(p, Array.from(b.value.data), allowzero(r2));
        if (d2.join() !== [B, mh, H, W, k].join()) return `second reshape gives [${d2}], not [B, M, H, W, K]`;
      }
      return null;
    }),
  };
}

// The 5-D view must split channels as (M, c) in that order: x5[b,m,j] = X[b, m*c + j],
// and keep (B, H, W): a constant target (B, M, c, H', W') with H'W' = HW cannot be
// checked without the block input's shape, so an unknown shape is a refusal.
function checkSplit(ctx: RuleContext, reshape5: Node, m: number, c: number): string | null {
  const X = reshape5.input![0];
  for (const folder of [ctx.text.a, ctx.text.b]) {
    if (!folder) continue;
    const xs = folder.shape(X), t = folder.fold(reshape5.input![1]);
    if (!t.ok) return `cannot prove the head split: ${t.reason}`;
    const target = Array.from(t.value.data);
    if (typeof xs === "string") return `cannot prove the head split: ${xs}`;
    let d: number[];
    try {
      d = reshapeDims(xs, target, allowzero(reshape5));
    } catch (e) {
      if (e instanceof SizeCapError) throw e;
      return `cannot prove the head split: ${(e as Error).message}`;
    }
    if (xs.length !== 4 || xs[1] !== m * c || d.join() !== [xs[0], m, c, xs[2], xs[3]].join()) return `block input [${xs}] is not split as (B, ${m}, ${c}, H, W)`;
  }
  return null;
}

/** Positive scalar Mul/Div right after the max: max(s*v) = s*max(v) for s > 0. */
function positiveScale(ctx: RuleContext, after: string): { node: Node; factor: number } | null {
  const n = soleUser(ctx.graph, after);
  if (!n || n.domain || (n.op_type !== "Div" && n.op_type !== "Mul") || n.input![0] !== after) return null;
  const f = fixedConstants(ctx.text).fold(n.input![1]);
  if (!f.ok || f.value.data.length !== 1 || !(f.value.data[0] > 0) || !Number.isFinite(f.value.data[0])) return null;
  if (f.value.dims.length > 4) return null;
  return { node: n, factor: n.op_type === "Div" ? 1 / f.value.data[0] : f.value.data[0] };
}

export const neckMaxSigmoid: Rule = defineRule("neck",
  (ctx, n) => (n.op_type === "Einsum" ? matchEinsum(ctx, n) : n.op_type === "MatMul" ? matchMatMul(ctx, n) : null),
  rewriteNeck);

function rewriteNeck(ctx: RuleContext, m: NeckMatch): SiteReport {
  const base: SiteReport = { kind: "neck", status: "skipped", form: m.form, nodes: [], output: m.max.output![0], contraction: contractionOf(m.nodes) };
  const gv = m.guide(ctx);
  if ("reason" in gv) return { ...base, reason: gv.reason };
  const [k, heads, c] = gv.value.dims;
  const problem = checkSplit(ctx, m.reshape5, heads, c) ?? m.check?.(ctx, k, heads, c) ?? null;
  if (problem) return { ...base, k, channels: heads * c, reason: problem };
  const scale = positiveScale(ctx, m.max.output![0]);
  const factor = scale?.factor ?? 1;
  const removed = [...m.nodes, ...(scale ? [scale.node] : [])];
  const layout: NeckLayout = ctx.neckForm;
  const replacement = emitNeck(ctx.graph, {
    layout, x4: m.reshape5.input![0], x5: m.x5, out: scale ? scale.node.output![0] : m.max.output![0],
    guide: gv.value, factor, dtype: gv.value.dtype, name: nodeLabel(m.nodes[0]), replaces: removed, opset: ctx.opset,
  });
  return {
    ...base, status: "rewritten", k, channels: heads * c, nodes: removed.map(nodeLabel), output: scale ? scale.node.output![0] : base.output,
    folded: scale ? ["positive scale"] : [], replacement: replacement.map(nodeLabel),
  };
}
