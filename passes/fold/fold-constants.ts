// Room fold/: constant folding and the shape inference it needs (one way: folded.ts is the
// interface between them), with the numeric kernels. May import ir/ and io/.
//
// Evaluates a value to a constant if it is one: initializers, Constant nodes and bound
// inputs, through the ops exporters put on the text path. Shape(x) of a non-constant x
// folds when x's shape is known under the given input shapes, which is how a text
// `Expand`ed to the image batch becomes a constant: callers fold under two input shapes
// to prove the result does not depend on them beyond the batch.
import type { Node } from "../io/onnx-types.ts";
import { DT } from "../io/onnx-types.ts";
import { attr, attrString, type GraphIR } from "../ir/graph.ts";
import { FLOAT_TYPES, numel, readTensor, toNumber, type ConstTensor } from "../ir/tensor.ts";
import { dimsProblem, MAX_ELEMENTS, MAX_RANK, MAX_WORK, SizeCapError } from "../io/size-cap.ts";
import * as K from "./kernels.ts";
import { inferShape } from "./shape-infer.ts";

import type { Folded, ValueSource } from "./folded.ts";

export type { Folded };

export interface FoldOptions {
  bindings?: Map<string, ConstTensor>;
  /** Concrete shapes for graph inputs (symbolic dims already resolved). */
  inputShapes?: Map<string, number[]>;
  /** Largest tensor (elements) folding will materialize; a node asking for more is refused (SizeCapError, exit 2). */
  maxElements?: number;
  /**
   * A folder of the same graph under other input shapes (and the same bindings): values that
   * cannot depend on input shapes (no graph input, no Shape op upstream) are taken from it
   * instead of being folded again (the second probe shape re-folded the whole text path).
   */
  shapeIndependentFrom?: ConstantFolder;
}

const fail = (reason: string): Folded => ({ ok: false, reason });

export class ConstantFolder implements ValueSource {
  private memo = new Map<string, Folded>();
  private active = new Set<string>();
  private indep = new Map<string, boolean>();
  private shapes = new Map<string, number[] | string>();
  readonly maxElements: number;

  constructor(readonly graph: GraphIR, readonly opts: FoldOptions = {}) {
    this.maxElements = opts.maxElements ?? MAX_ELEMENTS;
  }

  fold(name: string): Folded {
    return this.get(name, true);
  }

  private get(name: string, keep: boolean): Folded {
    const known = this.memo.get(name);
    if (known) return known;
    const other = this.opts.shapeIndependentFrom;
    if (other && this.independent(name)) return other.get(name, keep);
    if (this.active.has(name)) return fail(`cycle at '${name}'`);
    this.active.add(name);
    let r: Folded;
    try {
      r = this.compute(name);
    } finally {
      this.active.delete(name);
    }
    // A value only one node reads is not kept once that node is folded: the text path is a
    // chain of full-size (K, 512) tensors, and keeping every link was most of the pass's memory.
    if (keep || !r.ok || this.graph.uses(name).length !== 1) this.memo.set(name, r);
    return r;
  }

  /** True when no graph input and no Shape op is upstream of `name` (conservative on cycles). */
  private independent(name: string): boolean {
    let r = this.indep.get(name);
    if (r !== undefined) return r;
    this.indep.set(name, false);
    const node = this.graph.producer(name);
    if (this.opts.bindings?.has(name) || (this.graph.initializer(name) && !this.graph.isOverridable(name))) r = true;
    else if (!node || this.graph.isGraphInput(name) || this.graph.isOverridable(name) || node.op_type === "Shape" || (node.attribute ?? []).some((a) => a.g || a.graphs?.length)) r = false;
    else r = (node.input ?? []).every((i) => !i || this.independent(i));
    this.indep.set(name, r);
    return r;
  }

  /** Concrete shape of any value, or a reason why it is unknown. */
  shape(name: string): number[] | string {
    let s = this.shapes.get(name);
    if (s === undefined) {
      const f = this.memo.get(name);
      s = f?.ok ? f.value.dims : inferShape(this, name);
      this.shapes.set(name, s);
    }
    return s;
  }

  private compute(name: string): Folded {
    const bound = this.opts.bindings?.get(name);
    if (bound) return { ok: true, value: bound };
    // As in onnxruntime, an initializer that is also a graph input is a default, not a constant.
    if (this.graph.isOverridable(name)) return fail(`'${name}' is an initializer that is also a graph input (a caller may override it): bind it with --text-embed/--text-input, or re-export with keep_initializers_as_inputs=False`);
    const c = this.graph.constant(name);
    if (c) return { ok: true, value: c };
    if (this.graph.isGraphInput(name)) return fail(`depends on the values of graph input '${name}'`);
    const node = this.graph.producer(name);
    if (!node) return fail(`'${name}' has no producer`);
    if (node.op_type === "Shape" && !node.domain) {
      const s = this.shape(node.input![0]);
      if (typeof s === "string") return fail(s);
      const start = Number(attr(node, "start")?.i ?? 0), end = attr(node, "end") ? Number(attr(node, "end")!.i) : s.length;
      const norm = (v: number) => Math.min(Math.max(v < 0 ? v + s.length : v, 0), s.length);
      const dims = s.slice(norm(start), norm(end));
      return { ok: true, value: { dtype: DT.INT64, dims: [dims.length], data: Float64Array.from(dims) } };
    }
    const label = `${node.op_type} '${node.name || name}'`;
    // A value read twice by one node is folded once; and the inputs held at once count
    // against the cap too (a Concat of 80 values of 1 Mi each is refused before the 80th).
    const inputs: ConstTensor[] = [], seen = new Map<string, ConstTensor>();
    let held = 0;
    for (const i of node.input ?? []) {
      if (!i) { inputs.push(EMPTY); continue; }
      let v = seen.get(i);
      if (!v) {
        const f = this.get(i, false);
        if (!f.ok) return f;
        v = f.value;
        seen.set(i, v);
        held += v.data.length;
        if (held > this.maxElements) throw new SizeCapError(`${label}: its inputs hold over ${this.maxElements.toLocaleString("en-US")} elements together, the cap for one tensor`);
      }
      inputs.push(v);
    }
    try {
      const outIndex = node.output!.indexOf(name);
      const value = evalNode(node, inputs, outIndex, (dims, work) => this.admit(dims, work));
      if (!value) return fail(`${label} is not constant-foldable here`);
      return { ok: true, value };
    } catch (e) {
      // Too large or impossible dims are the model's fault, not a reason to skip a site: exit 2.
      if (e instanceof SizeCapError) throw new SizeCapError(`${label}: ${e.message}`);
      return fail(`${label}: ${(e as Error).message}`);
    }
  }

  /**
   * Called by every op with its output dims (and, for products, its multiply-adds) after they
   * are computed and before its kernel allocates anything.
   */
  private admit(dims: number[], work = 0): void {
    const p = dimsProblem(dims, this.maxElements);
    if (p) throw new SizeCapError(p);
    if (!(work <= MAX_WORK)) throw new SizeCapError(`would take ${work.toLocaleString("en-US")} multiply-adds, over the cap of ${MAX_WORK.toLocaleString("en-US")}`);
  }
}

const EMPTY: ConstTensor = { dtype: 0, dims: [0], data: new Float64Array(0) };
const present = (t: ConstTensor | undefined) => t !== undefined && t !== EMPTY;
/** A shape, repeats or axes operand as numbers; never longer than a rank can be. */
const ints = (t: ConstTensor) => {
  if (t.data.length > 2 * MAX_RANK) throw new SizeCapError(`a shape, pads or axes operand of ${t.data.length.toLocaleString("en-US")} entries (rank over ${MAX_RANK})`);
  return Array.from(t.data);
};
const attrInts = (n: Node, name: string) => attr(n, name)?.ints?.map(toNumber);
const attrInt = (n: Node, name: string, dflt: number) => { const a = attr(n, name); return a?.i !== undefined && a.i !== null ? toNumber(a.i) : dflt; };
const attrFloat = (n: Node, name: string, dflt: number) => attr(n, name)?.f ?? dflt;
/** Axes from the input (newer opsets) or the attribute (older ones). */
const axesOf = (n: Node, inputs: ConstTensor[], idx: number) => (present(inputs[idx]) ? ints(inputs[idx]) : attrInts(n, "axes") ?? null);

/** Checks an op's output dims (and a product's multiply-adds) before its kernel allocates. */
type Admit = (dims: number[], work?: number) => void;

const UNARY: Record<string, (x: number) => number> = {
  Sqrt: Math.sqrt, Exp: Math.exp, Neg: (x) => -x, Abs: Math.abs, Reciprocal: (x) => 1 / x, Log: Math.log,
  Floor: Math.floor, Ceil: Math.ceil, Sigmoid: (x) => 1 / (1 + Math.exp(-x)), Relu: (x) => Math.max(x, 0), Not: (x) => (x ? 0 : 1),
};
const BINARY: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b, Sub: (a, b) => a - b, Mul: (a, b) => a * b, Pow: Math.pow,
  Max: Math.max, Min: Math.min, Equal: (a, b) => (a === b ? 1 : 0), Less: (a, b) => (a < b ? 1 : 0), Greater: (a, b) => (a > b ? 1 : 0),
};

/**
 * One node's value from its inputs' values. Every case computes its output dims first and
 * passes them to `admit`, which throws when they are over the cap, before the kernel runs:
 * a kernel allocates its output (and at most an index map of the same length) and nothing else.
 */
function evalNode(n: Node, x: ConstTensor[], outIndex: number, admit: Admit): ConstTensor | null {
  if (n.domain && n.domain !== "ai.onnx") return null;
  if (outIndex !== 0) return null;
  const op = n.op_type ?? "";
  const a = x[0];
  const broadcast = (ts: ConstTensor[]) => { admit(K.broadcastShape(...ts.map((t) => t.dims))); return ts; };
  /** A result that shares its input's values under other dims: checked all the same (negative or huge dims). */
  const relabel = (dims: number[]): ConstTensor => { admit(dims); return { ...a, dims }; };
  if (op in UNARY) return K.elementwise(a.dtype, broadcast([a]), UNARY[op]);
  if (op === "Max" || op === "Min" || op === "Sum") {
    // Variadic in ONNX: fold every operand, not just the first two.
    const f = op === "Max" ? Math.max : op === "Min" ? Math.min : (...v: number[]) => v.reduce((p, q) => p + q, 0);
    return K.elementwise(a.dtype, broadcast(x), f);
  }
  if (op in BINARY) {
    const dtype = ["Equal", "Less", "Greater"].includes(op) ? DT.BOOL : a.dtype;
    return K.elementwise(dtype, broadcast([a, x[1]]), BINARY[op]);
  }
  switch (op) {
    case "Identity": return a;
    case "Div": return K.elementwise(a.dtype, broadcast([a, x[1]]), FLOAT_TYPES.has(a.dtype) ? (p, q) => p / q : (p, q) => Math.trunc(p / q));
    case "Cast": { const to = attrInt(n, "to", DT.FLOAT); admit(a.dims); return { dtype: to, dims: a.dims, data: K.roundTo(to, Float64Array.from(a.data)) }; }
    case "Reshape": return relabel(K.reshapeDims(a.dims, ints(x[1]), attrInt(n, "allowzero", 0) === 1));
    case "Flatten": { const ax = K.normAxis(attrInt(n, "axis", 1), a.dims.length + 1); return relabel([numel(a.dims.slice(0, ax)), numel(a.dims.slice(ax))]); }
    // As many elements as its input, which is already within the cap (the kernel checks perm).
    case "Transpose": return K.transpose(a, attrInts(n, "perm") ?? a.dims.map((_, i) => a.dims.length - 1 - i));
    case "Unsqueeze": {
      const axes = axesOf(n, x, 1) ?? [];
      const rank = a.dims.length + axes.length, set = new Set(axes.map((v) => K.normAxis(v, rank)));
      const dims: number[] = []; let j = 0;
      for (let i = 0; i < rank; i++) dims.push(set.has(i) ? 1 : a.dims[j++]);
      return relabel(dims);
    }
    case "Squeeze": {
      const axes = axesOf(n, x, 1);
      const set = new Set((axes ?? a.dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((v) => K.normAxis(v, a.dims.length)));
      return relabel(a.dims.filter((_, i) => !set.has(i)));
    }
    case "Expand": { const dims = K.broadcastShape(a.dims, ints(x[1])); admit(dims); return K.expand(a, dims); }
    case "Tile": { const repeats = ints(x[1]); admit(K.tileDims(a.dims, repeats)); return K.tile(a, repeats); }
    case "Concat": {
      const parts = x.filter((t) => numel(t.dims) > 0 || t.dims.length > 1), axis = attrInt(n, "axis", 0);
      admit(K.concatDims(parts.map((t) => t.dims), axis));
      return K.concat(parts, axis);
    }
    case "Gather": { const axis = attrInt(n, "axis", 0); admit(K.gatherDims(a.dims, x[1].dims, axis)); return K.gather(a, x[1], axis); }
    case "Slice": {
      const starts = present(x[1]) ? ints(x[1]) : attrInts(n, "starts") ?? [];
      const ends = present(x[2]) ? ints(x[2]) : attrInts(n, "ends") ?? [];
      const axes = present(x[3]) ? ints(x[3]) : attrInts(n, "axes") ?? starts.map((_, i) => i);
      const steps = present(x[4]) ? ints(x[4]) : starts.map(() => 1);
      admit(K.sliceRanges(a.dims, starts, ends, axes, steps).map((r) => r.count));
      return K.slice(a, starts, ends, axes, steps);
    }
    case "ConstantOfShape": {
      const v = attr(n, "value")?.t;
      const dims = ints(a);
      admit(dims);
      const fill = v ? readTensor(v, null, "its value")?.data[0] ?? 0 : 0;
      return { dtype: v?.data_type ?? DT.FLOAT, dims, data: new Float64Array(numel(dims)).fill(fill) };
    }
    case "Pad": {
      if ((attrString(n, "mode") || "constant") !== "constant") return null;
      const rank = a.dims.length, given = present(x[1]) ? ints(x[1]) : attrInts(n, "pads") ?? [];
      // Opset 18's axes input: pads name only those axes (begins, then ends).
      const axes = present(x[3]) ? ints(x[3]).map((v) => K.normAxis(v, rank)) : null;
      const pads = axes ? new Array(2 * rank).fill(0) : given;
      if (axes) {
        if (given.length !== 2 * axes.length) throw new Error(`Pad pads [${given}] do not match axes [${axes}]`);
        axes.forEach((ax, i) => { pads[ax] = given[i]; pads[ax + rank] = given[i + axes.length]; });
      }
      const value = present(x[2]) ? x[2].data[0] ?? 0 : attrFloat(n, "value", 0);
      admit(K.padDims(a.dims, pads));
      return K.pad(a, pads, value);
    }
    case "Where": return K.elementwise(x[1].dtype, broadcast([a, x[1], x[2]]), (c, p, q) => (c ? p : q));
    case "Clip": {
      const lo = present(x[1]) ? x[1].data[0] : attrFloat(n, "min", -Infinity);
      const hi = present(x[2]) ? x[2].data[0] : attrFloat(n, "max", Infinity);
      return K.elementwise(a.dtype, broadcast([a]), (v) => Math.min(Math.max(v, lo), hi));
    }
    case "ReduceSum": case "ReduceSumSquare": case "ReduceL2": case "ReduceMean": case "ReduceMax": case "ReduceMin": {
      const axes = axesOf(n, x, 1);
      const keep = attrInt(n, "keepdims", 1) === 1;
      if (axes && axes.length === 0 && attrInt(n, "noop_with_empty_axes", 0) === 1) return a;
      const all = axes && axes.length ? axes : null;
      switch (op) {
        case "ReduceSum": return K.reduce(a, all, keep, 0, (s, v) => s + v);
        case "ReduceSumSquare": return K.reduce(a, all, keep, 0, (s, v) => s + v * v);
        case "ReduceL2": return K.reduce(a, all, keep, 0, (s, v) => s + v * v, Math.sqrt);
        case "ReduceMean": return K.reduce(a, all, keep, 0, (s, v) => s + v, (s, c) => s / c);
        case "ReduceMax": return K.reduce(a, all, keep, -Infinity, Math.max);
        default: return K.reduce(a, all, keep, Infinity, Math.min);
      }
    }
    case "LpNormalization": {
      const axis = attrInt(n, "axis", -1), p = attrInt(n, "p", 2);
      const norm = K.reduce(a, [axis], true, 0, p === 1 ? (s, v) => s + Math.abs(v) : (s, v) => s + v * v, p === 1 ? (s) => s : Math.sqrt);
      return K.elementwise(a.dtype, [a, norm], (v, d) => v / d);
    }
    case "MatMul": admitProduct(admit, a.dims, x[1].dims); return K.matmul(a, x[1]);
    case "Gemm": {
      const A = attrInt(n, "transA", 0) ? K.transpose(a, [1, 0]) : a;
      const B = attrInt(n, "transB", 0) ? K.transpose(x[1], [1, 0]) : x[1];
      admitProduct(admit, A.dims, B.dims);
      const alpha = attrFloat(n, "alpha", 1), beta = attrFloat(n, "beta", 1);
      const ab = K.matmul(A, B);
      return present(x[2]) ? K.elementwise(a.dtype, [ab, x[2]], (p, q) => alpha * p + beta * q) : K.elementwise(a.dtype, [ab], (p) => alpha * p);
    }
    case "Range": {
      const [s, lim, d] = [a.data[0], x[1].data[0], x[2].data[0]];
      const count = Math.max(Math.ceil((lim - s) / d), 0);
      admit([count]);
      return { dtype: a.dtype, dims: [count], data: Float64Array.from({ length: count }, (_, i) => s + i * d) };
    }
    default: return null;
  }
}

/** A MatMul's output dims and its multiply-adds (output elements times the inner dim). */
function admitProduct(admit: Admit, a: number[], b: number[]): void {
  const dims = K.matmulDims(a, b);
  admit(dims, numel(dims) * a[a.length - 1]);
}
