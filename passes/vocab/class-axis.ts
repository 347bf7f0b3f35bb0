// The class axis: where the vocabulary size K lives in a tensor. Retargeting to K' rows
// follows it forward from the text: every value it reaches carries K, possibly next to
// fixed channels (Ultralytics concatenates 64 box channels in front: segments [64][K]).
// A constant that meets the class axis with K entries is per-class and cannot follow; a
// reshape that merges or splits the class axis cannot be proven. Both are refusals,
// found here before anything is edited.
import type { Node } from "../io/onnx-types.ts";
import { attr, attrString, nodeReads, type GraphIR } from "../ir/graph.ts";
import { toNumber } from "../ir/tensor.ts";
import { normAxis } from "../fold/kernels.ts";
import { parseEquation } from "../rules/einsum-equation.ts";

export type Segment = { k: true } | { n: number };
export interface ClassAxis { axis: number; segs: Segment[] }

/** Concrete shapes and constant values of the original graph (one probe shape). */
export interface Probe {
  shape(v: string): number[];
  values(v: string): number[];
}

export const segSize = (segs: readonly Segment[], k: number): number => segs.reduce((s, g) => s + ("k" in g ? k : g.n), 0);
const sameSegs = (a: Segment[], b: Segment[]) => a.length === b.length && a.every((s, i) => ("k" in s ? "k" in b[i] : !("k" in b[i]) && b[i] && (b[i] as { n: number }).n === s.n));

function mergeFixed(segs: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segs) {
    const last = out[out.length - 1];
    if ("n" in s && last && "n" in last) out[out.length - 1] = { n: last.n + s.n };
    else if (!("n" in s && s.n === 0)) out.push(s);
  }
  return out;
}

/** The segments covering [start, end) of a class axis laid out as `segs`, or null if a boundary falls inside a K segment. */
export function sliceSegs(segs: Segment[], k: number, start: number, end: number): Segment[] | null {
  const out: Segment[] = [];
  let at = 0;
  for (const s of segs) {
    const size = "k" in s ? k : s.n;
    const lo = Math.max(start, at), hi = Math.min(end, at + size);
    if (hi > lo) {
      if ("k" in s) {
        if (lo !== at || hi !== at + size) return null;
        out.push(s);
      } else out.push({ n: hi - lo });
    }
    at += size;
  }
  return mergeFixed(out);
}

export interface Propagation {
  /** Every value the class axis reaches. */
  axes: Map<string, ClassAxis>;
  /** Nodes whose shape arguments may encode the class size (checked and patched after the swap). */
  shapeNodes: Node[];
}

const SAME = new Set([
  "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Neg", "Abs", "Identity", "Cast", "Softplus", "LeakyRelu", "HardSigmoid",
  "HardSwish", "Erf", "Dropout", "LpNormalization", "Softmax", "LogSoftmax", "Hardmax", "Mish", "Elu", "Selu", "Reciprocal",
  "Floor", "Ceil", "Round", "Not", "Sign", "Gelu", "Clip", "IsNaN", "IsInf", "Sin", "Cos", "CastLike",
]);
const BROADCAST = new Set(["Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Where", "And", "Or", "Xor", "Mod", "Sum", "Mean", "PRelu"]);
const REDUCE = new Set(["ReduceMax", "ReduceMin", "ReduceSum", "ReduceMean", "ReduceL1", "ReduceL2", "ReduceLogSumExp", "ReduceProd", "ReduceSumSquare"]);
const POOL = new Set(["MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool"]);
// Reading a shape is not reading classes: the value it gives is recomputed from the new shapes.
const SHAPE_ONLY = new Set(["Shape", "Size"]);

const label = (n: Node) => `${n.op_type} '${n.name || n.output?.[0]}'`;
const ints = (n: Node, a: string) => attr(n, a)?.ints?.map(toNumber);
const int = (n: Node, a: string, d: number) => { const v = attr(n, a)?.i; return v === undefined || v === null ? d : toNumber(v); };

/**
 * Follows the class axis of the text (K rows; `sources` are it and constants derived from it) through the graph.
 * Returns the values it reaches, or the first reason it cannot follow.
 */
export function propagateClassAxis(g: GraphIR, probe: Probe, sources: ReadonlyArray<{ name: string; axis: number }>, k: number): Propagation | { refusal: string } {
  const axes = new Map<string, ClassAxis>(sources.map((s) => [s.name, { axis: s.axis, segs: [{ k: true }] }]));
  const shapeNodes: Node[] = [];
  for (const n of g.nodes) {
    const reads = nodeReads(n);
    if (!reads.some((v) => axes.has(v))) continue;
    if (SHAPE_ONLY.has(n.op_type ?? "") && !n.domain) continue;
    // A subgraph reading a class-carrying value: its ops are not followed.
    if ((n.input ?? []).every((v) => !axes.has(v))) return { refusal: `${label(n)} reads the text inside a subgraph: its class axis cannot be followed` };
    try {
      const out = classAxisThrough(n, (v) => axes.get(v) ?? null, probe, k);
      if (typeof out === "string") return { refusal: `${label(n)}: ${out}` };
      out.states.forEach((s, i) => { if (s && n.output?.[i]) axes.set(n.output[i], s); });
      if (out.checkShapes) shapeNodes.push(n);
    } catch (e) {
      return { refusal: `${label(n)}: cannot follow the class axis (${typeof e === "string" ? e : (e as Error).message})` };
    }
  }
  return { axes, shapeNodes };
}

interface Through { states: Array<ClassAxis | null>; checkShapes?: boolean }

function classAxisThrough(n: Node, state: (v: string) => ClassAxis | null, p: Probe, k: number): Through | string {
  const op = n.op_type ?? "";
  if (n.domain && n.domain !== "ai.onnx") return `custom op ${n.domain}.${op} reads the class axis`;
  const ins = n.input ?? [];
  const s0 = ins[0] ? state(ins[0]) : null;
  const size = (s: ClassAxis) => segSize(s.segs, k);
  const one = (s: ClassAxis | null): Through => ({ states: [s] });

  if (SAME.has(op)) {
    if (!s0 || ins.slice(1).some((v) => v && state(v))) return "the class axis reaches a parameter input";
    return one(s0);
  }
  if (op === "LayerNormalization") {
    // Scale and bias cover the normalized axes: per-class only if the classes are among them.
    if (!s0 || ins.slice(1).some((v) => v && state(v))) return "the class axis reaches a parameter input";
    if (s0.axis >= normAxis(int(n, "axis", -1), p.shape(ins[0]).length)) return "normalizes over the class axis with per-class scale";
    return { states: (n.output ?? []).map((_, i) => (i === 0 ? s0 : null)) };
  }
  if (op === "BatchNormalization" || op === "InstanceNormalization") {
    if (!s0 || s0.axis === 1 || ins.slice(1).some((v) => v && state(v))) return "per-channel parameters would be per-class";
    return one(s0);
  }
  if (BROADCAST.has(op)) return broadcastThrough(ins, state, p, k);
  if (POOL.has(op)) {
    if (!s0 || s0.axis !== 1) return "pooling over the class axis";
    return one(s0);
  }
  switch (op) {
    case "Reshape": case "Flatten": case "Squeeze": case "Unsqueeze": {
      if (!s0 || ins.slice(1).some((v) => v && state(v))) return "the class axis reaches a shape argument";
      const inS = p.shape(ins[0]), outS = p.shape(n.output![0]);
      const j = alignedAxis(inS, outS, s0.axis);
      if (j < 0) return `merges or splits the class axis ([${inS}] -> [${outS}])`;
      return { states: [{ axis: j, segs: s0.segs }], checkShapes: op === "Reshape" };
    }
    case "Transpose": {
      if (!s0) return "unexpected";
      const rank = p.shape(ins[0]).length;
      const perm = ints(n, "perm") ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
      return one({ axis: perm.indexOf(s0.axis), segs: s0.segs });
    }
    case "Concat": {
      const rank = p.shape(ins[0]).length;
      const ax = normAxis(int(n, "axis", 0), rank);
      const st = ins.map((v) => state(v));
      const carried = st.filter((s): s is ClassAxis => s !== null);
      if (carried.some((s) => s.axis !== carried[0].axis)) return "joins tensors whose class axes differ";
      if (carried[0].axis === ax) {
        const segs = mergeFixed(ins.flatMap((v, i) => (st[i] ? st[i]!.segs : [{ n: p.shape(v)[ax] }])));
        return one({ axis: ax, segs });
      }
      if (st.some((s) => !s) || carried.some((s) => !sameSegs(s.segs, carried[0].segs))) return "joins the class scores with a tensor not derived from the text";
      return one(carried[0]);
    }
    case "Split": {
      if (!s0 || ins.slice(1).some((v) => v && state(v))) return "the class axis reaches a shape argument";
      const inS = p.shape(ins[0]);
      const ax = normAxis(int(n, "axis", 0), inS.length);
      const outs = n.output ?? [];
      if (ax !== s0.axis) return { states: outs.map(() => s0) };
      const sizes = ins[1] ? p.values(ins[1]) : ints(n, "split");
      if (!sizes) return "splits the class axis into equal parts: the parts cannot follow a new vocabulary";
      let at = 0;
      const states: Array<ClassAxis | null> = [];
      for (const sz of sizes) {
        const segs = sliceSegs(s0.segs, k, at, at + sz);
        if (!segs) return `a split boundary falls inside the classes (sizes ${sizes.join(", ")})`;
        states.push(segs.some((s) => "k" in s) ? { axis: ax, segs } : null);
        at += sz;
      }
      return { states, checkShapes: true };
    }
    case "Slice": {
      if (!s0 || ins.slice(1).some((v) => v && state(v))) return "the class axis reaches a shape argument";
      const inS = p.shape(ins[0]);
      const arg = (i: number, a: string) => (ins[i] ? p.values(ins[i]) : ints(n, a));
      const starts = arg(1, "starts") ?? [], ends = arg(2, "ends") ?? [];
      const axesArg = (arg(3, "axes") ?? starts.map((_, i) => i)).map((a) => normAxis(a, inS.length));
      const steps = ins[4] ? p.values(ins[4]) : starts.map(() => 1);
      const i = axesArg.indexOf(s0.axis);
      if (i < 0) return one(s0);
      if (steps[i] !== 1) return "slices the class axis with a step";
      const len = size(s0);
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + len : v, 0), len);
      const segs = sliceSegs(s0.segs, k, clamp(starts[i]), clamp(ends[i]));
      if (!segs) return `the slice [${starts[i]}, ${ends[i]}) cuts into the classes`;
      return { states: [segs.some((s) => "k" in s) ? { axis: s0.axis, segs } : null], checkShapes: true };
    }
    case "Gather": {
      if (!s0 || state(ins[1])) return "indexes with class-carrying values";
      const rank = p.shape(ins[0]).length;
      const ax = normAxis(int(n, "axis", 0), rank);
      if (ax === s0.axis) return "selects classes by index";
      const r = p.shape(ins[1]).length;
      return one({ axis: s0.axis < ax ? s0.axis : s0.axis + r - 1, segs: s0.segs });
    }
    case "Expand": {
      if (!s0 || state(ins[1])) return "the class axis reaches a shape argument";
      const rank = p.shape(ins[0]).length, out = p.shape(n.output![0]).length;
      return { states: [{ axis: s0.axis + out - rank, segs: s0.segs }], checkShapes: true };
    }
    case "Tile": {
      if (!s0 || state(ins[1])) return "the class axis reaches a shape argument";
      const reps = p.values(ins[1]);
      if (reps[s0.axis] !== 1) return "repeats the classes";
      return one(s0);
    }
    case "MatMul": return matmulThrough(n, state, p, k);
    case "Gemm": return gemmThrough(n, state, p, k);
    case "Einsum": return einsumThrough(n, state, p, k);
    case "ArgMax": case "ArgMin": {
      if (!s0) return "unexpected";
      const rank = p.shape(ins[0]).length, ax = normAxis(int(n, "axis", 0), rank), keep = int(n, "keepdims", 1) === 1;
      return one(reduced(s0, [ax], keep));
    }
    case "TopK": {
      if (!s0 || state(ins[1])) return "unexpected";
      const rank = p.shape(ins[0]).length;
      if (normAxis(int(n, "axis", -1), rank) === s0.axis) return "takes the top classes: k cannot follow a new vocabulary";
      return { states: [s0, s0] };
    }
  }
  if (REDUCE.has(op)) {
    if (!s0 || (ins[1] && state(ins[1]))) return "unexpected";
    const rank = p.shape(ins[0]).length;
    const given = ins[1] ? p.values(ins[1]) : ints(n, "axes");
    if (given && given.length === 0 && int(n, "noop_with_empty_axes", 0) === 1) return one(s0);
    const ax = given && given.length ? given.map((a) => normAxis(a, rank)) : Array.from({ length: rank }, (_, i) => i);
    return one(reduced(s0, ax, int(n, "keepdims", 1) === 1));
  }
  return `${op} is not known to keep the class axis`;
}

/** After a reduction: gone (or a kept axis of 1) when it reduced over the classes, moved otherwise. */
function reduced(s: ClassAxis, axes: number[], keep: boolean): ClassAxis | null {
  if (axes.includes(s.axis)) return null;
  return keep ? s : { axis: s.axis - axes.filter((a) => a < s.axis).length, segs: s.segs };
}

/**
 * The output axis the class axis `ax` of `inS` maps to through a reshape: the one axis with
 * the same size and the same number of elements in front. -1 when it is merged or split.
 */
export function alignedAxis(inS: number[], outS: number[], ax: number): number {
  const before = inS.slice(0, ax).reduce((a, b) => a * b, 1);
  let prod = 1;
  for (let j = 0; j < outS.length; j++) {
    if (prod === before && outS[j] === inS[ax]) return j;
    prod *= outS[j];
  }
  return -1;
}

function broadcastThrough(ins: string[], state: (v: string) => ClassAxis | null, p: Probe, k: number): Through | string {
  const present = ins.filter(Boolean);
  const shapes = present.map((v) => p.shape(v));
  const rank = Math.max(...shapes.map((s) => s.length));
  let out: ClassAxis | null = null;
  present.forEach((v, i) => {
    const s = state(v);
    if (!s) return;
    const aligned = { axis: s.axis + rank - shapes[i].length, segs: s.segs };
    if (out && (out.axis !== aligned.axis || !sameSegs(out.segs, aligned.segs))) out = { axis: -1, segs: [] };
    else out ??= aligned;
  });
  if (!out || (out as ClassAxis).axis < 0) return "combines class axes that differ";
  const o: ClassAxis = out;
  for (let i = 0; i < present.length; i++) {
    if (state(present[i])) continue;
    const pos = o.axis - (rank - shapes[i].length);
    if (pos >= 0 && shapes[i][pos] !== 1) return `per-class values: '${present[i]}' has ${shapes[i][pos]} entries along the class axis (only a new text could supply them for ${segSize(o.segs, k)} classes)`;
  }
  return { states: [o] };
}

function matmulThrough(n: Node, state: (v: string) => ClassAxis | null, p: Probe, k: number): Through | string {
  const [a, b] = n.input!;
  const sa = p.shape(a), sb = p.shape(b);
  if (sa.length < 2 || sb.length < 2) return "a 1-D MatMul operand";
  const ra = sa.length, rb = sb.length, ro = Math.max(ra, rb);
  const ca = state(a), cb = state(b);
  // The contracted axis: a's last, b's second to last.
  if ((ca && ca.axis === ra - 1) || (cb && cb.axis === rb - 2)) {
    if (!(ca && ca.axis === ra - 1 && cb && cb.axis === rb - 2 && sameSegs(ca.segs, cb.segs))) return "contracts the classes with per-class values not derived from the text";
    return { states: [null] };
  }
  const outs: ClassAxis[] = [];
  if (ca) outs.push({ axis: ca.axis === ra - 2 ? ro - 2 : ca.axis + ro - ra, segs: ca.segs });
  if (cb) outs.push({ axis: cb.axis === rb - 1 ? ro - 1 : cb.axis + ro - rb, segs: cb.segs });
  if (outs.length === 2 && (outs[0].axis !== outs[1].axis || !sameSegs(outs[0].segs, outs[1].segs))) return "combines class axes that differ";
  const o = outs[0];
  // The operand without classes must broadcast along a batch class axis, not supply per-class values.
  if (o.axis < ro - 2) {
    const other = ca ? sb : sa, r = ca ? rb : ra;
    const pos = o.axis - (ro - r);
    if (!(ca && cb) && pos >= 0 && other[pos] !== 1) return `per-class values: the other operand has ${other[pos]} entries along the class axis`;
  }
  void k;
  return { states: [o] };
}

function gemmThrough(n: Node, state: (v: string) => ClassAxis | null, p: Probe, k: number): Through | string {
  const [a, b, c] = n.input!;
  const ta = int(n, "transA", 0) === 1, tb = int(n, "transB", 0) === 1;
  const ca = state(a), cb = state(b);
  if (c && state(c)) return "the class axis reaches the bias";
  const rowsA = ca ? (ta ? ca.axis === 1 : ca.axis === 0) : false;
  const colsB = cb ? (tb ? cb.axis === 0 : cb.axis === 1) : false;
  if ((ca && !rowsA) || (cb && !colsB)) return "contracts the classes";
  if (ca && cb) return "both operands carry classes";
  const o: ClassAxis = ca ? { axis: 0, segs: ca.segs } : { axis: 1, segs: cb!.segs };
  if (c) {
    const cs = p.shape(c);
    const pos = o.axis - (2 - cs.length);
    if (pos >= 0 && cs[pos] !== 1) return `per-class values: bias '${c}' has ${cs[pos]} entries along the class axis`;
  }
  void k;
  return { states: [o] };
}

function einsumThrough(n: Node, state: (v: string) => ClassAxis | null, p: Probe, k: number): Through | string {
  const eq = parseEquation(attrString(n, "equation"));
  if (typeof eq === "string") return eq;
  const ins = n.input!;
  let letter: string | null = null, segs: Segment[] | null = null;
  for (let i = 0; i < ins.length; i++) {
    const s = state(ins[i]);
    if (!s) continue;
    const l = eq.inputs[i][s.axis];
    if ((letter && letter !== l) || (segs && !sameSegs(segs, s.segs))) return "combines class axes that differ";
    letter = l; segs = s.segs;
  }
  for (let i = 0; i < ins.length; i++) {
    if (state(ins[i])) continue;
    const pos = eq.inputs[i].indexOf(letter!);
    if (pos >= 0 && p.shape(ins[i])[pos] !== 1) return `per-class values: '${ins[i]}' has the class letter '${letter}' with ${p.shape(ins[i])[pos]} entries`;
  }
  const at = eq.output.indexOf(letter!);
  void k;
  return { states: [at < 0 ? null : { axis: at, segs: segs! }] };
}
