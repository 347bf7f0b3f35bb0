// Concrete shapes of non-constant values, for the Shape ops that reshape targets and
// batch expansions are built from. Covers the ops between graph inputs and those Shape
// ops in detector exports; anything else reports why its shape is unknown.
import type { Node } from "../io/onnx-types.ts";
import { attr, attrString } from "../ir/graph.ts";
import { toNumber } from "../ir/tensor.ts";
import { SizeCapError } from "../io/size-cap.ts";
import * as K from "./kernels.ts";
import { parseEquation } from "../ir/einsum-equation.ts";
import type { ValueSource } from "./folded.ts";

const SAME_SHAPE = new Set([
  "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Neg", "Abs", "Identity", "Cast", "Clip", "Softplus", "LeakyRelu",
  "HardSigmoid", "HardSwish", "Erf", "Dropout", "BatchNormalization", "LpNormalization", "InstanceNormalization",
  "Softmax", "LogSoftmax", "LayerNormalization", "Mish", "Elu", "Selu", "Reciprocal", "Floor", "Ceil", "Round", "Not", "Sign", "Gelu", "CastLike",
]);
const BROADCAST = new Set(["Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Equal", "Less", "Greater", "Where", "And", "Or", "Mod", "PRelu", "Sum"]);

export function inferShape(f: ValueSource, name: string): number[] | string {
  const g = f.graph;
  if (g.isGraphInput(name)) {
    const s = f.opts.inputShapes?.get(name);
    return s ?? `shape of graph input '${name}' is not known`;
  }
  const init = g.initializer(name);
  if (init) return (init.dims ?? []).map(toNumber);
  const n = g.producer(name);
  if (!n) return `'${name}' has no producer`;
  if (n.op_type === "Constant") { const c = g.constant(name); if (c) return c.dims; }
  try {
    return shapeOfNode(f, n, n.output!.indexOf(name));
  } catch (e) {
    if (e instanceof SizeCapError) throw e;
    // Values computed from constants and shapes (anchor grids: Range, ConstantOfShape...) fold.
    const folded = f.fold(name);
    if (folded.ok) return folded.value.dims;
    return typeof e === "string" ? e : `${n.op_type} '${n.name}': ${(e as Error).message}`;
  }
}

function need(f: ValueSource, name: string): number[] {
  const s = f.shape(name);
  if (typeof s === "string") throw s;
  return s;
}

function needConst(f: ValueSource, name: string): number[] {
  const r = f.fold(name);
  if (!r.ok) throw r.reason;
  return Array.from(r.value.data);
}

const ints = (n: Node, a: string) => attr(n, a)?.ints?.map(toNumber);
const int = (n: Node, a: string, d: number) => { const v = attr(n, a)?.i; return v === undefined || v === null ? d : toNumber(v); };
const opt = (n: Node, i: number) => (n.input?.[i] ? n.input[i] : null);

function shapeOfNode(f: ValueSource, n: Node, out: number): number[] {
  const op = n.op_type ?? "";
  const x = () => need(f, n.input![0]);
  if (n.domain && n.domain !== "ai.onnx") throw `shape of custom op ${n.domain}.${op} is unknown`;
  if (SAME_SHAPE.has(op) && out === 0) return x();
  if (BROADCAST.has(op)) return K.broadcastShape(...n.input!.filter(Boolean).map((i) => need(f, i)));
  switch (op) {
    case "Conv": case "MaxPool": case "AveragePool": {
      const xs = x();
      const kernel = op === "Conv" ? need(f, n.input![1]).slice(2) : ints(n, "kernel_shape")!;
      const channels = op === "Conv" ? need(f, n.input![1])[0] : xs[1];
      const r = kernel.length;
      const strides = ints(n, "strides") ?? kernel.map(() => 1), dil = ints(n, "dilations") ?? kernel.map(() => 1);
      const pads = ints(n, "pads") ?? new Array(2 * r).fill(0);
      const autoPad = attrString(n, "auto_pad");
      const ceil = int(n, "ceil_mode", 0) === 1;
      const spatial = xs.slice(2).map((d, i) => {
        if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") return Math.ceil(d / strides[i]);
        const eff = dil[i] * (kernel[i] - 1) + 1;
        const p = autoPad === "VALID" ? 0 : pads[i] + pads[i + r];
        const v = (d + p - eff) / strides[i];
        return (ceil ? Math.ceil(v) : Math.floor(v)) + 1;
      });
      return [xs[0], channels, ...spatial];
    }
    case "GlobalAveragePool": case "GlobalMaxPool": { const xs = x(); return [xs[0], xs[1], ...xs.slice(2).map(() => 1)]; }
    case "Shape": return [x().length];
    case "Reshape": return K.reshapeDims(x(), needConst(f, n.input![1]), int(n, "allowzero", 0) === 1);
    case "Flatten": { const xs = x(), ax = K.normAxis(int(n, "axis", 1), xs.length + 1); return [xs.slice(0, ax).reduce((a, b) => a * b, 1), xs.slice(ax).reduce((a, b) => a * b, 1)]; }
    case "Transpose": { const xs = x(); return (ints(n, "perm") ?? xs.map((_, i) => xs.length - 1 - i)).map((p) => xs[p]); }
    case "Unsqueeze": {
      const xs = x(), axes = opt(n, 1) ? needConst(f, n.input![1]) : ints(n, "axes")!;
      const rank = xs.length + axes.length, set = new Set(axes.map((a) => K.normAxis(a, rank)));
      let j = 0; return Array.from({ length: rank }, (_, i) => (set.has(i) ? 1 : xs[j++]));
    }
    case "Squeeze": {
      const xs = x(), axes = opt(n, 1) ? needConst(f, n.input![1]) : ints(n, "axes");
      const set = new Set((axes ?? xs.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => K.normAxis(a, xs.length)));
      return xs.filter((_, i) => !set.has(i));
    }
    case "Concat": {
      const shapes = n.input!.map((i) => need(f, i));
      const ax = K.normAxis(int(n, "axis", 0), shapes[0].length);
      const s = [...shapes[0]]; s[ax] = shapes.reduce((a, b) => a + b[ax], 0); return s;
    }
    case "Split": {
      const xs = x(), ax = K.normAxis(int(n, "axis", 0), xs.length);
      const split = opt(n, 1) ? needConst(f, n.input![1]) : ints(n, "split");
      const parts = split ?? new Array(n.output!.length).fill(Math.ceil(xs[ax] / n.output!.length));
      const s = [...xs]; s[ax] = split ? parts[out] : Math.min(parts[0], xs[ax] - parts[0] * out); return s;
    }
    case "Resize": case "Upsample": {
      const xs = x();
      const sizes = n.input!.length > 3 && n.input![3] ? needConst(f, n.input![3]) : null;
      if (sizes && sizes.length) return sizes;
      const scales = needConst(f, op === "Upsample" ? n.input![1] : n.input![2]);
      return xs.map((d, i) => Math.floor(d * scales[i]));
    }
    case "MatMul": {
      const a = need(f, n.input![0]), b = need(f, n.input![1]);
      const ad = a.length === 1 ? [1, a[0]] : a, bd = b.length === 1 ? [b[0], 1] : b;
      const batch = K.broadcastShape(ad.slice(0, -2), bd.slice(0, -2));
      return [...batch, ...(a.length === 1 ? [] : [ad[ad.length - 2]]), ...(b.length === 1 ? [] : [bd[bd.length - 1]])];
    }
    case "ReduceMax": case "ReduceMin": case "ReduceSum": case "ReduceMean": case "ReduceL2": case "ReduceSumSquare": {
      const xs = x(), axes = opt(n, 1) ? needConst(f, n.input![1]) : ints(n, "axes") ?? xs.map((_, i) => i);
      const set = new Set(axes.map((a) => K.normAxis(a, xs.length))), keep = int(n, "keepdims", 1) === 1;
      return keep ? xs.map((d, i) => (set.has(i) ? 1 : d)) : xs.filter((_, i) => !set.has(i));
    }
    case "Gather": {
      const xs = x(), idx = need(f, n.input![1]), ax = K.normAxis(int(n, "axis", 0), xs.length);
      return [...xs.slice(0, ax), ...idx, ...xs.slice(ax + 1)];
    }
    case "Expand": return K.broadcastShape(x(), needConst(f, n.input![1]));
    case "Tile": { const r = needConst(f, n.input![1]); return x().map((d, i) => d * r[i]); }
    case "Einsum": {
      const eq = parseEquation(attrString(n, "equation"));
      if (typeof eq === "string" || eq.inputs.length !== n.input!.length) throw `shape of Einsum '${n.name}': ${typeof eq === "string" ? eq : "operand count"}`;
      // Each letter's size over all operands (size 1 broadcasts, as onnxruntime does).
      const size = new Map<string, number>();
      eq.inputs.forEach((letters, i) => {
        const s = need(f, n.input![i]);
        if (s.length !== letters.length) throw `shape of Einsum '${n.name}': operand ${i} has rank ${s.length}, equation says ${letters.length}`;
        letters.forEach((l, j) => {
          const prev = size.get(l);
          if (prev !== undefined && prev !== 1 && s[j] !== 1 && prev !== s[j]) throw `shape of Einsum '${n.name}': '${l}' is ${prev} and ${s[j]}`;
          if (prev === undefined || prev === 1) size.set(l, s[j]);
        });
      });
      return eq.output.map((l) => {
        const d = size.get(l);
        if (d === undefined) throw `shape of Einsum '${n.name}': output letter '${l}' is in no operand`;
        return d;
      });
    }
    case "Slice": {
      const xs = x();
      const arg = (i: number, a: string) => (opt(n, i) ? needConst(f, n.input![i]) : ints(n, a));
      const starts = arg(1, "starts") ?? [], ends = arg(2, "ends") ?? [];
      const axes = arg(3, "axes") ?? starts.map((_, i) => i), steps = (opt(n, 4) ? needConst(f, n.input![4]) : null) ?? starts.map(() => 1);
      return K.sliceRanges(xs, starts, ends, axes, steps).map((r) => r.count);
    }
  }
  throw `shape of ${op} '${n.name}' is not inferred`;
}
