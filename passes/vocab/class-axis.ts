// Retargeting to K' rows follows the class axis forward from the text: every value it
// reaches carries K, possibly next to fixed channels (segments.ts).
// A constant that meets the class axis with K entries is per-class and cannot follow; a
// reshape that merges or splits the class axis cannot be proven. Both are refusals,
// found here before anything is edited.
import type { Node } from "../io/onnx-types.ts";
import { attr, nodeReads, type GraphIR } from "../ir/graph.ts";
import { toNumber } from "../ir/tensor.ts";
import { normAxis } from "../fold/kernels.ts";
import { mergeFixed, sameSegs, segSize, sliceSegs, type ClassAxis, type Probe, type Through } from "./segments.ts";
import { broadcastThrough, einsumThrough, gemmThrough, matmulThrough } from "./class-axis-contractions.ts";
import { SizeCapError } from "../io/size-cap.ts";

export interface Propagation {
  /** Every value the class axis reaches. */
  axes: Map<string, ClassAxis>;
  /** Nodes whose shape arguments may encode the class size (checked and patched after the swap). */
  shapeNodes: Node[];
  /** The first op whose values depend on how many times a class occurs (see Through.mixes). */
  mixes: string | null;
}

const SAME = new Set([
  "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Neg", "Abs", "Identity", "Cast", "Softplus", "LeakyRelu", "HardSigmoid",
  "HardSwish", "Erf", "Dropout", "LpNormalization", "Softmax", "LogSoftmax", "Hardmax", "Mish", "Elu", "Selu", "Reciprocal",
  "Floor", "Ceil", "Round", "Not", "Sign", "Gelu", "Clip", "IsNaN", "IsInf", "Sin", "Cos", "CastLike",
]);
const BROADCAST = new Set(["Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Where", "And", "Or", "Xor", "Mod", "Sum", "Mean", "PRelu"]);
const REDUCE = new Set(["ReduceMax", "ReduceMin", "ReduceSum", "ReduceMean", "ReduceL1", "ReduceL2", "ReduceLogSumExp", "ReduceProd", "ReduceSumSquare"]);
const POOL = new Set(["MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool"]);
const NORMALIZING = new Set(["Softmax", "LogSoftmax", "Hardmax", "LpNormalization"]);
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
  let mixes: string | null = null;
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
      if (out.mixes && !mixes) mixes = `${label(n)} ${out.mixes}`;
    } catch (e) {
      if (e instanceof SizeCapError) throw e;
      return { refusal: `${label(n)}: cannot follow the class axis (${typeof e === "string" ? e : (e as Error).message})` };
    }
  }
  return { axes, shapeNodes, mixes };
}

function classAxisThrough(n: Node, state: (v: string) => ClassAxis | null, p: Probe, k: number): Through | string {
  const op = n.op_type ?? "";
  if (n.domain && n.domain !== "ai.onnx") return `custom op ${n.domain}.${op} reads the class axis`;
  const ins = n.input ?? [];
  const s0 = ins[0] ? state(ins[0]) : null;
  const size = (s: ClassAxis) => segSize(s.segs, k);
  const one = (s: ClassAxis | null): Through => ({ states: [s] });

  if (SAME.has(op)) {
    if (!s0 || ins.slice(1).some((v) => v && state(v))) return "the class axis reaches a parameter input";
    // Before opset 13 a softmax flattens from its axis on: any class axis at or after it is mixed.
    if (NORMALIZING.has(op) && s0.axis >= normAxis(int(n, "axis", op === "LpNormalization" ? -1 : 1), p.shape(ins[0]).length)) return { states: [s0], mixes: "normalizes over the classes" };
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
    case "MatMul": return matmulThrough(n, state, p);
    case "Gemm": return gemmThrough(n, state, p);
    case "Einsum": return einsumThrough(n, state, p);
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
    const out = one(reduced(s0, ax, int(n, "keepdims", 1) === 1));
    // A max or min over the classes does not change when a class is repeated; a sum does.
    return ax.includes(s0.axis) && op !== "ReduceMax" && op !== "ReduceMin" ? { ...out, mixes: "reduces over the classes" } : out;
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
