// Head contrast: y[b,k,h,w] = sum_c x[b,c,h,w] * T[k,c]  (then * scale + bias)
// with a constant text T is a 1x1 Conv with weight T[k,c,1,1]. Two exporter forms:
//   einsum:  Einsum('bchw,bkc->bkhw', x, T)  (any letters, either operand order)
//   matmul:  Transpose(x,0231) -> Reshape(.., C) -> MatMul(., T^T) -> Reshape(B,H,W,K) -> Transpose(0312)
import type { Node } from "../io/onnx-types.ts";
import { attrString } from "../ir/graph.ts";
import type { ConstTensor } from "../ir/tensor.ts";
import { matmulDims, reshapeDims } from "../fold/kernels.ts";
import { gemm } from "../fold/gemm.ts";
import { parseEquation } from "../ir/einsum-equation.ts";
import { foldText } from "./text-operand.ts";
import { foldAffineTail } from "./affine-tail.ts";
import { foldBatchNormInput } from "./batchnorm-input.ts";
import {
  allowzero, contractionOf, defineRule, fixedConstants, nodeLabel, onlyFeeds, op, permOf, shapeProof, soleUser, textBatchProblem,
  type Rule, type RuleContext, type SiteReport,
} from "./site.ts";
import { emitConv1x1 } from "./emit-conv.ts";
import { foldPointwiseConvInput, type PointwiseConv } from "./pointwise-conv-input.ts";

interface HeadMatch {
  form: "einsum" | "matmul";
  x: string;
  textOperand: string;
  /** Nodes of the contraction itself, in graph order. */
  nodes: Node[];
  /** Value the contraction produces, as (B, K, H, W). */
  y: string;
  /** Folds the text to [K, C] or says why it cannot. */
  text: (ctx: RuleContext) => { value: ConstTensor } | { reason: string };
  /** Extra proof obligations (reshape targets) once K and C are known. */
  check?: (ctx: RuleContext, k: number, c: number) => string | null;
}

function matchEinsum(n: Node): HeadMatch | null {
  const eq = parseEquation(attrString(n, "equation"));
  if (typeof eq === "string" || eq.inputs.length !== 2) return null;
  const xi = eq.inputs.findIndex((t) => t.length === 4);
  if (xi < 0 || eq.output.length !== 4) return null;
  const xl = eq.inputs[xi], tl = eq.inputs[1 - xi], out = eq.output;
  if (tl.length < 2 || tl.length > 3) return null;
  const contracted = xl.filter((l) => tl.includes(l) && !out.includes(l));
  const k = tl.find((l) => !xl.includes(l));
  // Not a head contrast (e.g. the neck's 5-D form): not a head site at all.
  if (contracted.length !== 1 || !k) return null;
  const [b, c, h, w] = xl;
  if (contracted[0] !== c || out.join("") !== [b, k, h, w].join("")) return null;
  if (tl.length === 3 && !tl.includes(b)) return null;
  return {
    form: "einsum", x: n.input![xi], textOperand: n.input![1 - xi], nodes: [n], y: n.output![0],
    text: (ctx) => foldText(ctx.text, n.input![1 - xi], tl, tl.length === 3 ? b : null, [k, c]),
    check: (ctx) => textBatchProblem(ctx.text, n.input![1 - xi], tl.indexOf(b), n.input![xi]),
  };
}

function matchMatMul(ctx: RuleContext, mm: Node): HeadMatch | null {
  const g = ctx.graph;
  const r1 = op(g, mm.input![0], "Reshape");
  const t1 = r1 && op(g, r1.input![0], "Transpose");
  const r2 = soleUser(g, mm.output![0]);
  const t2 = r2 && r2.op_type === "Reshape" ? soleUser(g, r2.output![0]) : null;
  if (!r1 || !t1 || permOf(t1) !== "0,2,3,1" || !r2 || r2.op_type !== "Reshape" || !t2 || t2.op_type !== "Transpose" || permOf(t2) !== "0,3,1,2") return null;
  // The rewrite removes t1 and r1: their outputs must feed nothing else, graph outputs included.
  if (!onlyFeeds(g, t1.output![0], r1) || !onlyFeeds(g, r1.output![0], mm)) return null;
  const tName = mm.input![1];
  const x = t1.input![0];
  return {
    form: "matmul", x, textOperand: tName, nodes: [t1, r1, mm, r2, t2], y: t2.output![0],
    text: (c) => {
      const rank = c.text.a.fold(tName);
      const letters = rank.ok && rank.value.dims.length === 3 ? ["b", "c", "k"] : ["c", "k"];
      return foldText(c.text, tName, letters, letters.length === 3 ? "b" : null, ["k", "c"]);
    },
    check: (c, k, ch) => shapeProof(() => checkMatMulReshapes(c, x, r1, mm, r2, k, ch)),
  };
}

// Reshapes keep memory order, so the contraction is per-pixel exactly when the first
// target ends in C, the MatMul adds no batch (a text batch > 1 would broadcast), and the
// second target restores (B, H, W) in front of K. Proven at both probe shapes, from the
// image operand's actual shape: without it a constant (B, H', W', K) cannot be checked.
function checkMatMulReshapes(ctx: RuleContext, x: string, r1: Node, mm: Node, r2: Node, k: number, c: number): string | null {
  for (const folder of [ctx.text.a, ctx.text.b]) {
    if (!folder) continue;
    const s1 = folder.fold(r1.input![1]), s2 = folder.fold(r2.input![1]), tv = folder.fold(mm.input![1]);
    if (!s1.ok || !s2.ok) return `reshape target is not computable: ${!s1.ok ? s1.reason : (s2 as { reason: string }).reason}`;
    if (!tv.ok) return `text operand is not constant: ${tv.reason}`;
    const xs = folder.shape(x);
    if (typeof xs === "string") return `cannot prove the reshapes: ${xs}`;
    if (xs.length !== 4) return `image operand has rank ${xs.length}, expected 4`;
    const t1 = Array.from(s1.value.data), t2 = Array.from(s2.value.data);
    const [B, C, H, W] = xs;
    if (C !== c) return `image operand has ${C} channels, text has ${c}`;
    const d1 = reshapeDims([B, H, W, C], t1, allowzero(r1));
    if (d1[d1.length - 1] !== c) return "first reshape does not keep channels last";
    const d2 = reshapeDims(matmulDims(d1, tv.value.dims), t2, allowzero(r2));
    if (d2.join() !== [B, H, W, k].join()) return `second reshape gives [${d2}], not [${[B, H, W, k]}]`;
  }
  return null;
}

export const headContrast: Rule = defineRule("head",
  (ctx, n) => (n.op_type === "Einsum" ? matchEinsum(n) : n.op_type === "MatMul" ? matchMatMul(ctx, n) : null),
  rewriteHead);

function rewriteHead(ctx: RuleContext, m: HeadMatch): SiteReport {
  const g = ctx.graph;
  const base: SiteReport = { kind: "head", status: "skipped", form: m.form, nodes: [], output: m.y, contraction: contractionOf(m.nodes) };
  const t = m.text(ctx);
  if ("reason" in t) return { ...base, reason: t.reason };
  const [k, c] = t.value.dims;
  const problem = m.check?.(ctx, k, c);
  if (problem) return { ...base, k, channels: c, reason: problem };
  const constants = fixedConstants(ctx.text);
  const tail = foldAffineTail(g, constants, m.y, k, 4);
  const bn = foldBatchNormInput(g, constants, m.x, m.nodes[0]);
  // W[k, c] = scale[k] * T[k, c] * bnScale[c];  b[k] = scale[k] * sum_c T[k, c] * bnShift[c] + bias[k]
  const T = t.value.data;
  const wAt = (i: number, j: number) => tail.scale[i] * T[i * c + j] * (bn ? bn.scale[j] : 1);
  const b = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let shift = 0;
    if (bn) for (let j = 0; j < c; j++) shift += T[i * c + j] * bn.shift[j];
    b[i] = tail.scale[i] * shift + tail.bias[i];
  }
  const xIn = bn ? bn.input : m.x;
  const merged = mergeableEmbed(foldPointwiseConvInput(g, constants, xIn, bn ? bn.node : m.nodes[0]), k, c);
  const hasBias = bn !== null || tail.folded.includes("bias");
  const { weight, bias, inChannels } = merged ? composePointwise(wAt, b, k, c, merged)
    : { weight: fillRows(new Float64Array(k * c), 0, k, c, wAt), bias: hasBias ? b : null, inChannels: c };
  const removed = [...(merged ? [merged.node] : []), ...(bn ? [bn.node] : []), ...m.nodes, ...tail.nodes];
  const conv = emitConv1x1(g, {
    x: merged ? merged.input : xIn, out: tail.out, dtype: t.value.dtype, weight, bias,
    outChannels: k, inChannels, group: 1, name: `${nodeLabel(m.nodes[0])}/reparam_conv`, replaces: removed,
  });
  return {
    ...base, status: "rewritten", k, channels: c, nodes: removed.map(nodeLabel), output: tail.out,
    folded: [...tail.folded, ...(bn ? ["batchnorm"] : []), ...(merged ? ["embed conv"] : [])], replacement: [nodeLabel(conv)],
  };
}

// Merging pays when the merged Conv does fewer multiply-adds than the two it replaces.
function mergeableEmbed(e: PointwiseConv | null, k: number, c: number): PointwiseConv | null {
  if (!e || e.outChannels !== c) return null;
  return k * e.inChannels <= c * e.inChannels + k * c ? e : null;
}

/** y = W.(We.x + be) + b  ==  (W.We).x + (W.be + b). W is written straight into the GEMM's operand. */
function composePointwise(wAt: (i: number, j: number) => number, b: Float64Array, k: number, c: number, e: PointwiseConv) {
  const ci = e.inChannels;
  const weight = gemm((dst, off) => fillRows(dst, off, k, c, wAt), e.weight, k, c, ci), bias = Float64Array.from(b);
  if (e.bias) for (let i = 0; i < k; i++) for (let d = 0; d < c; d++) bias[i] += wAt(i, d) * e.bias[d];
  return { weight, bias, inChannels: ci };
}

function fillRows(dst: Float64Array, off: number, k: number, c: number, at: (i: number, j: number) => number): Float64Array {
  for (let i = 0; i < k; i++) for (let j = 0; j < c; j++) dst[off + i * c + j] = at(i, j);
  return dst;
}
