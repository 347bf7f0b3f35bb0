// Reference kernels for constant folding, on float64 values with ONNX broadcasting.
// Results are rounded back to the op's element type so a folded constant equals what a
// runtime computing in that type would produce (to within its own rounding).
import { DT } from "../io/onnx-types.ts";
import { f16BitsToF32, f32ToF16Bits, bf16BitsToF32, f32ToBf16Bits } from "../io/half.ts";
import { numel, type ConstTensor } from "../ir/tensor.ts";
import { gemm } from "./gemm.ts";
import { SizeCapError } from "../io/size-cap.ts";

export function roundTo(dtype: number, data: Float64Array): Float64Array {
  switch (dtype) {
    case DT.FLOAT: for (let i = 0; i < data.length; i++) data[i] = Math.fround(data[i]); break;
    case DT.FLOAT16: for (let i = 0; i < data.length; i++) data[i] = f16BitsToF32(f32ToF16Bits(data[i])); break;
    case DT.BFLOAT16: for (let i = 0; i < data.length; i++) data[i] = bf16BitsToF32(f32ToBf16Bits(data[i])); break;
    case DT.DOUBLE: break;
    case DT.BOOL: for (let i = 0; i < data.length; i++) data[i] = data[i] ? 1 : 0; break;
    default: for (let i = 0; i < data.length; i++) data[i] = Math.trunc(data[i]);
  }
  return data;
}

export const strides = (dims: readonly number[]): number[] => {
  const s = new Array(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
};

export function broadcastShape(...shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v === 1) continue;
      if (d !== 1 && d !== v) throw new Error(`shapes ${shapes.map((x) => `[${x}]`).join(" ")} do not broadcast`);
      d = v;
    }
    out.push(d);
  }
  return out;
}

/** For each flat index of `out`, the flat index into a tensor of `dims` broadcast to `out`. */
function broadcastIndex(dims: number[], out: number[]): Int32Array {
  const off = out.length - dims.length;
  const inStr = strides(dims);
  // Stride per output axis: 0 where the input is broadcast (or absent).
  const str = out.map((_, a) => (a - off >= 0 && dims[a - off] !== 1 ? inStr[a - off] : 0));
  return stridedIndex(out, str);
}

/**
 * Flat source index for every element of an output of `dims`, where moving one step along
 * axis a moves `str[a]` in the source. An odometer over the axes, no division per element.
 */
function stridedIndex(dims: number[], str: number[]): Int32Array {
  const n = numel(dims), idx = new Int32Array(n), rank = dims.length;
  if (n === 0) return idx;
  if (rank === 0) return idx;
  const inner = dims[rank - 1], innerStr = str[rank - 1];
  const ctr = new Array(rank).fill(0);
  let base = 0;
  for (let o = 0; o < n; o += inner) {
    for (let j = 0; j < inner; j++) idx[o + j] = base + j * innerStr;
    for (let a = rank - 2; a >= 0; a--) {
      base += str[a];
      if (++ctr[a] < dims[a]) break;
      base -= str[a] * dims[a];
      ctr[a] = 0;
    }
  }
  return idx;
}

export function elementwise(dtype: number, inputs: ConstTensor[], f: (...v: number[]) => number): ConstTensor {
  const dims = broadcastShape(...inputs.map((t) => t.dims));
  const n = numel(dims);
  const data = new Float64Array(n);
  // Unary and binary ops (nearly all of them) without an index map or a spread call per element.
  if (inputs.length === 1 && inputs[0].data.length === n) {
    const x = inputs[0].data, g = f as (v: number) => number;
    for (let i = 0; i < n; i++) data[i] = g(x[i]);
  } else if (inputs.length === 2) {
    const [x, y] = inputs, g = f as (p: number, q: number) => number;
    const [mx, px] = access(x.dims, dims), [my, py] = access(y.dims, dims);
    const ix = mx === MAP ? broadcastIndex(x.dims, dims) : null, iy = my === MAP ? broadcastIndex(y.dims, dims) : null;
    const xd = x.data, yd = y.data;
    for (let i = 0; i < n; i++) {
      const a = mx === SAME ? i : mx === DIV ? (i / px) | 0 : mx === MOD ? i % px : ix![i];
      const b = my === SAME ? i : my === DIV ? (i / py) | 0 : my === MOD ? i % py : iy![i];
      data[i] = g(xd[a], yd[b]);
    }
  } else {
    const maps = inputs.map((t) => (t.dims.length === dims.length && numel(t.dims) === n ? null : broadcastIndex(t.dims, dims)));
    const args = new Array(inputs.length);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < inputs.length; k++) args[k] = inputs[k].data[maps[k] ? maps[k]![i] : i];
      data[i] = f(...args);
    }
  }
  return { dtype, dims, data: roundTo(dtype, data) };
}

const SAME = 0, DIV = 1, MOD = 2, MAP = 3;
/**
 * How an operand of `dims` broadcast to `out` is indexed: the same flat index, index / p
 * (its trailing axes are broadcast: a per-row value), index % p (its leading axes are
 * broadcast: a per-column value, a scalar being p = 1), or a full index map.
 */
function access(dims: number[], out: number[]): [number, number] {
  const n = numel(out), size = numel(dims);
  if (size === n) return [SAME, 0];
  const full = [...new Array(out.length - dims.length).fill(1), ...dims];
  // Leading 1s, then exactly the output's trailing dims: index % size.
  let lead = 0;
  while (lead < full.length && full[lead] === 1 && out[lead] !== 1) lead++;
  if (full.slice(lead).every((d, i) => d === out[lead + i])) return [MOD, size];
  // The output's leading dims, then 1s: index / (product of the broadcast trailing dims).
  let end = full.length;
  while (end > 0 && full[end - 1] === 1) end--;
  if (full.slice(0, end).every((d, i) => d === out[i])) return [DIV, numel(out.slice(end))];
  return [MAP, 0];
}

/** ONNX Expand: broadcast `t` against `shape` (the result has the broadcast of both). */
export function expand(t: ConstTensor, shape: number[]): ConstTensor {
  const dims = broadcastShape(t.dims, shape);
  if (numel(dims) === t.data.length && dims.length === t.dims.length) return { dtype: t.dtype, dims, data: t.data };
  const idx = broadcastIndex(t.dims, dims), data = new Float64Array(idx.length);
  for (let i = 0; i < idx.length; i++) data[i] = t.data[idx[i]];
  return { dtype: t.dtype, dims, data };
}

export function transpose(t: ConstTensor, perm: number[]): ConstTensor {
  if (perm.length !== t.dims.length || new Set(perm).size !== perm.length || perm.some((p) => !(p >= 0 && p < perm.length && Number.isInteger(p)))) {
    throw new Error(`perm [${perm.slice(0, 8)}] is not a permutation of rank ${t.dims.length}`);
  }
  const dims = perm.map((p) => t.dims[p]);
  // Moving only size-1 axes keeps memory order: a relabelling of dims, no copy.
  const moved = perm.filter((p) => t.dims[p] !== 1);
  if (moved.every((p, i) => i === 0 || p > moved[i - 1])) return { dtype: t.dtype, dims, data: t.data };
  const inStr = strides(t.dims);
  const idx = stridedIndex(dims, perm.map((p) => inStr[p]));
  const data = new Float64Array(idx.length);
  for (let i = 0; i < idx.length; i++) data[i] = t.data[idx[i]];
  return { dtype: t.dtype, dims, data };
}

export const normAxis = (axis: number, rank: number): number => {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= Math.max(rank, 1)) throw new Error(`axis ${axis} out of range for rank ${rank}`);
  return a;
};

export function reduce(t: ConstTensor, axes: number[] | null, keepdims: boolean, init: number, step: (acc: number, v: number) => number, finish: (acc: number, count: number) => number = (a) => a): ConstTensor {
  const rank = t.dims.length;
  const set = new Set((axes ?? t.dims.map((_, i) => i)).map((a) => normAxis(a, rank)));
  const outFull = t.dims.map((d, i) => (set.has(i) ? 1 : d));
  const outStr = strides(outFull);
  const acc = new Float64Array(numel(outFull)).fill(init);
  const count = numel(t.dims) / Math.max(numel(outFull), 1);
  // Output slot of every input element, in input order (so each slot accumulates in order).
  const slot = stridedIndex(t.dims, t.dims.map((_, a) => (set.has(a) ? 0 : outStr[a])));
  for (let i = 0; i < t.data.length; i++) acc[slot[i]] = step(acc[slot[i]], t.data[i]);
  for (let j = 0; j < acc.length; j++) acc[j] = finish(acc[j], count);
  const dims = keepdims ? outFull : t.dims.filter((_, i) => !set.has(i));
  return { dtype: t.dtype, dims, data: roundTo(t.dtype, acc) };
}

/** numpy matmul: batched, broadcasting, 1-D operands promoted and squeezed. */
export function matmul(a: ConstTensor, b: ConstTensor): ConstTensor {
  const ad = a.dims.length === 1 ? [1, a.dims[0]] : a.dims;
  const bd = b.dims.length === 1 ? [b.dims[0], 1] : b.dims;
  const [m, k] = ad.slice(-2), [k2, n] = bd.slice(-2);
  if (k !== k2) throw new Error(`MatMul inner dims ${k} and ${k2} differ`);
  const batch = broadcastShape(ad.slice(0, -2), bd.slice(0, -2));
  const nb = numel(batch);
  const ai = broadcastIndex(ad.slice(0, -2), batch), bi = broadcastIndex(bd.slice(0, -2), batch);
  const part = (p: number) => gemm(a.data.subarray(ai[p] * m * k, (ai[p] + 1) * m * k), b.data.subarray(bi[p] * k * n, (bi[p] + 1) * k * n), m, k, n);
  let data: Float64Array;
  if (nb === 1) data = part(0);
  else {
    data = new Float64Array(nb * m * n);
    for (let p = 0; p < nb; p++) data.set(part(p), p * m * n);
  }
  let dims = [...batch, m, n];
  if (a.dims.length === 1) dims = [...batch, n];
  if (b.dims.length === 1) dims = a.dims.length === 1 ? [...batch] : [...batch, m];
  return { dtype: a.dtype, dims, data: roundTo(a.dtype, data) };
}

/** Output dims of numpy matmul (batched, broadcasting, 1-D operands promoted and squeezed). */
export function matmulDims(a: number[], b: number[]): number[] {
  const ad = a.length === 1 ? [1, a[0]] : a, bd = b.length === 1 ? [b[0], 1] : b;
  if (ad.length < 2 || bd.length < 2) throw new Error(`MatMul of [${a}] and [${b}]`);
  if (ad[ad.length - 1] !== bd[bd.length - 2]) throw new Error(`MatMul inner dims of [${a}] and [${b}] differ`);
  const batch = broadcastShape(ad.slice(0, -2), bd.slice(0, -2));
  return [...batch, ...(a.length === 1 ? [] : [ad[ad.length - 2]]), ...(b.length === 1 ? [] : [bd[bd.length - 1]])];
}

/** Output dims of ONNX Concat; every operand must have the first one's rank and dims off the axis. */
export function concatDims(shapes: readonly number[][], axis: number): number[] {
  if (shapes.length === 0) throw new Error("Concat of nothing");
  const rank = shapes[0].length, ax = normAxis(axis, rank);
  const bad = shapes.find((s) => s.length !== rank || s.some((d, i) => i !== ax && d !== shapes[0][i]));
  if (bad) throw new Error(`cannot concatenate [${shapes[0]}] and [${bad}] on axis ${axis}`);
  const dims = [...shapes[0]];
  dims[ax] = shapes.reduce((s, d) => s + d[ax], 0);
  return dims;
}

export function concat(ts: ConstTensor[], axis: number): ConstTensor {
  const dims = concatDims(ts.map((t) => t.dims), axis), ax = normAxis(axis, dims.length);
  const outer = numel(dims.slice(0, ax)), data = new Float64Array(numel(dims));
  let o = 0;
  for (let i = 0; i < outer; i++) for (const t of ts) {
    const block = numel(t.dims.slice(ax));
    data.set(t.data.subarray(i * block, (i + 1) * block), o); o += block;
  }
  return { dtype: ts[0].dtype, dims, data };
}

export function gatherDims(data: readonly number[], indices: readonly number[], axis: number): number[] {
  const ax = normAxis(axis, data.length);
  return [...data.slice(0, ax), ...indices, ...data.slice(ax + 1)];
}

export function gather(t: ConstTensor, indices: ConstTensor, axis: number): ConstTensor {
  const ax = normAxis(axis, t.dims.length);
  const outer = numel(t.dims.slice(0, ax)), inner = numel(t.dims.slice(ax + 1)), size = t.dims[ax];
  const dims = gatherDims(t.dims, indices.dims, axis);
  const data = new Float64Array(numel(dims));
  let o = 0;
  for (let i = 0; i < outer; i++) for (const raw of indices.data) {
    const j = raw < 0 ? raw + size : raw;
    if (j < 0 || j >= size) throw new Error(`Gather index ${raw} out of range ${size}`);
    data.set(t.data.subarray((i * size + j) * inner, (i * size + j + 1) * inner), o); o += inner;
  }
  return { dtype: t.dtype, dims, data };
}

/** Start, step and length per axis of an ONNX Slice (clamped as the spec says). */
export function sliceRanges(inDims: number[], starts: number[], ends: number[], axes: number[], steps: number[]) {
  const rank = inDims.length;
  const ranges = inDims.map((d) => ({ start: 0, step: 1, count: d }));
  axes.forEach((a0, i) => {
    const a = normAxis(a0, rank), d = inDims[a], step = steps[i] ?? 1;
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    let s = starts[i] < 0 ? starts[i] + d : starts[i], e = ends[i] < 0 ? ends[i] + d : ends[i];
    if (step > 0) { s = clamp(s, 0, d); e = clamp(e, 0, d); } else { s = clamp(s, -1, d - 1); e = clamp(e, -1, d - 1); }
    ranges[a] = { start: s, step, count: Math.max(0, Math.ceil((e - s) / step)) };
  });
  return ranges;
}

export function slice(t: ConstTensor, starts: number[], ends: number[], axes: number[], steps: number[]): ConstTensor {
  const rank = t.dims.length;
  const ranges = sliceRanges(t.dims, starts, ends, axes, steps);
  const dims = ranges.map((r) => r.count), inStr = strides(t.dims), outStr = strides(dims);
  const data = new Float64Array(numel(dims));
  for (let i = 0; i < data.length; i++) {
    let rem = i, j = 0;
    for (let a = 0; a < rank; a++) {
      const c = Math.floor(rem / outStr[a]); rem -= c * outStr[a];
      j += (ranges[a].start + c * ranges[a].step) * inStr[a];
    }
    data[i] = t.data[j];
  }
  return { dtype: t.dtype, dims, data };
}

export function reshapeDims(inDims: number[], target: number[], allowzero: boolean): number[] {
  // -1 infers a dim, 0 copies one; anything else below 0 is no shape at all (and -2 x -1 x 256 would still count 512).
  const bad = target.find((d) => !Number.isSafeInteger(d) || d < -1);
  if (bad !== undefined) throw new SizeCapError(`Reshape target [${target.slice(0, 8)}] holds ${bad}`);
  const dims = target.map((d, i) => (d === 0 && !allowzero ? inDims[i] : d));
  const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const n = numel(inDims);
  const out = dims.map((d) => (d === -1 ? n / known : d));
  if (numel(out) !== n || out.some((d) => !Number.isInteger(d) || d < 0) || dims.filter((d) => d === -1).length > 1) throw new Error(`cannot reshape [${inDims}] to [${target}]`);
  return out;
}

export function tileDims(dims: readonly number[], repeats: readonly number[]): number[] {
  if (repeats.length !== dims.length) throw new Error(`Tile repeats [${repeats}] do not match rank ${dims.length}`);
  return dims.map((d, i) => d * repeats[i]);
}

/** ONNX Tile: each axis repeated `repeats[i]` times. */
export function tile(t: ConstTensor, repeats: number[]): ConstTensor {
  const dims = tileDims(t.dims, repeats);
  if (repeats.every((r) => r === 1)) return t;
  const inStr = strides(t.dims), outStr = strides(dims);
  const data = new Float64Array(numel(dims));
  for (let i = 0; i < data.length; i++) {
    let rem = i, j = 0;
    for (let a = 0; a < dims.length; a++) {
      const c = Math.floor(rem / outStr[a]); rem -= c * outStr[a];
      j += (c % t.dims[a]) * inStr[a];
    }
    data[i] = t.data[j];
  }
  return { dtype: t.dtype, dims, data };
}

/** Output dims of ONNX Pad: each axis grows by its begin and end pad (negative pads crop). */
export function padDims(dims: readonly number[], pads: readonly number[]): number[] {
  const rank = dims.length;
  if (pads.length !== 2 * rank) throw new Error(`Pad pads [${pads.slice(0, 8)}] do not match rank ${rank}`);
  return dims.map((d, i) => d + pads[i] + pads[i + rank]);
}

/** ONNX Pad in constant mode. */
export function pad(t: ConstTensor, pads: number[], value: number): ConstTensor {
  const rank = t.dims.length, dims = padDims(t.dims, pads);
  const n = numel(dims), data = new Float64Array(n).fill(value);
  const inStr = strides(t.dims), outStr = strides(dims);
  for (let i = 0; i < n; i++) {
    let rem = i, j = 0, inside = true;
    for (let a = 0; a < rank && inside; a++) {
      const c = Math.floor(rem / outStr[a]); rem -= c * outStr[a];
      const src = c - pads[a];
      inside = src >= 0 && src < t.dims[a];
      j += src * inStr[a];
    }
    if (inside) data[i] = t.data[j];
  }
  return { dtype: t.dtype, dims, data };
}
