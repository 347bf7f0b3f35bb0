// The fast folding kernels against the straightforward float64 loops they replaced: the
// WebAssembly GEMM must be bit-identical to the in-order reference, and the odometer-indexed
// transpose / broadcast / reduce / expand must give exactly what per-element index
// arithmetic gives. A wrong stride or a reordered sum shows up as a differing element.
import { describe, expect, it } from "vitest";
import { gemm, gemmReference } from "../passes/fold/gemm.ts";
import * as K from "../passes/fold/kernels.ts";
import { numel, type ConstTensor } from "../passes/ir/tensor.ts";
import { DT } from "../passes/io/onnx-types.ts";

function rng(seed: number) {
  let a = seed >>> 0;
  return () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}
const randn = (r: () => number, n: number) => Float64Array.from({ length: n }, () => Math.fround((r() - 0.5) * 4));
const tensor = (r: () => number, dims: number[]): ConstTensor => ({ dtype: DT.FLOAT, dims, data: randn(r, numel(dims)) });

function sameBits(a: Float64Array, b: Float64Array): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) diff++;
  return diff;
}

// The kernels as they were (per-element index arithmetic with divisions), kept here as the oracle.
const strides = (d: number[]) => { const s = d.map(() => 1); for (let i = d.length - 2; i >= 0; i--) s[i] = s[i + 1] * d[i + 1]; return s; };
function oldBroadcastIndex(dims: number[], out: number[]): Int32Array {
  const n = numel(out), idx = new Int32Array(n), inStr = strides(dims), outStr = strides(out), off = out.length - dims.length;
  for (let i = 0; i < n; i++) {
    let rem = i, j = 0;
    for (let a = 0; a < out.length; a++) { const c = Math.floor(rem / outStr[a]); rem -= c * outStr[a]; if (a - off >= 0 && dims[a - off] !== 1) j += c * inStr[a - off]; }
    idx[i] = j;
  }
  return idx;
}
function oldTranspose(t: ConstTensor, perm: number[]): Float64Array {
  const dims = perm.map((p) => t.dims[p]), inStr = strides(t.dims), outStr = strides(dims), data = new Float64Array(numel(dims));
  for (let i = 0; i < data.length; i++) {
    let rem = i, j = 0;
    for (let a = 0; a < dims.length; a++) { const c = Math.floor(rem / outStr[a]); rem -= c * outStr[a]; j += c * inStr[perm[a]]; }
    data[i] = t.data[j];
  }
  return data;
}
function oldReduceSum(t: ConstTensor, axes: number[]): Float64Array {
  const set = new Set(axes), outFull = t.dims.map((d, i) => (set.has(i) ? 1 : d)), outStr = strides(outFull), inStr = strides(t.dims);
  const acc = new Float64Array(numel(outFull));
  for (let i = 0; i < t.data.length; i++) {
    let rem = i, j = 0;
    for (let a = 0; a < t.dims.length; a++) { const c = Math.floor(rem / inStr[a]); rem -= c * inStr[a]; if (!set.has(a)) j += c * outStr[a]; }
    acc[j] += t.data[i];
  }
  return acc.map(Math.fround);
}

describe("WebAssembly GEMM", () => {
  const r = rng(1);
  // Shapes below and above the size where the kernel is used, with row and column tails.
  const shapes: Array<[number, number, number]> = [[1, 1, 1], [3, 5, 7], [4, 4, 4], [64, 32, 64], [37, 53, 61], [130, 17, 99], [65, 512, 9], [8, 1, 8200], [1203, 64, 36]];
  for (const [m, k, n] of shapes) {
    it(`${m}x${k} . ${k}x${n} equals the in-order float64 loop bit for bit`, () => {
      const A = randn(r, m * k), B = randn(r, k * n);
      expect(sameBits(gemm(A, B, m, k, n), gemmReference(A, B, m, k, n))).toBe(0);
      // The writer form fills the same operand in place.
      expect(sameBits(gemm((dst, off) => dst.set(A, off), B, m, k, n), gemmReference(A, B, m, k, n))).toBe(0);
    });
  }

  it("the reference really is the old i-q-j float64 order (a reordered sum differs)", () => {
    // 1e16 + 1 - 1e16 is 0 in float64 when summed in order, 1 when the ones come first.
    const A = Float64Array.from([1, 1, 1]), B = Float64Array.from([1e16, 1, -1e16]);
    expect(gemmReference(A, B, 1, 3, 1)[0]).toBe(0);
    const m = 8, k = 3, n = 8;
    const big = new Float64Array(m * k).fill(1), Bb = new Float64Array(k * n);
    for (let j = 0; j < n; j++) { Bb[j] = 1e16; Bb[n + j] = 1; Bb[2 * n + j] = -1e16; }
    expect(Array.from(gemm(big, Bb, m, k, n))).toEqual(new Array(m * n).fill(0));
  });

  it("MatMul folding (batched, broadcast) matches per-batch reference GEMMs", () => {
    const a = tensor(r, [2, 3, 20, 48]), b = tensor(r, [3, 48, 36]);
    const got = K.matmul(a, b);
    expect(got.dims).toEqual([2, 3, 20, 36]);
    for (let p = 0; p < 6; p++) {
      const ref = gemmReference(a.data.subarray(p * 960, (p + 1) * 960), b.data.subarray((p % 3) * 1728, (p % 3 + 1) * 1728), 20, 48, 36).map(Math.fround);
      expect(sameBits(got.data.subarray(p * 720, (p + 1) * 720), ref)).toBe(0);
    }
  });
});

describe("odometer-indexed kernels", () => {
  const r = rng(2);
  it("transpose equals per-element index arithmetic for every permutation of a 4-D tensor", () => {
    const t = tensor(r, [2, 3, 4, 5]);
    const perms: number[][] = [];
    const permute = (p: number[], rest: number[]) => { if (!rest.length) perms.push(p); rest.forEach((x, i) => permute([...p, x], rest.filter((_, j) => j !== i))); };
    permute([], [0, 1, 2, 3]);
    for (const p of perms) expect(sameBits(K.transpose(t, p).data, oldTranspose(t, p))).toBe(0);
    // Size-1 axes moved around: a relabelling, same values.
    const u = tensor(r, [1, 6, 1, 7]);
    for (const p of [[1, 0, 3, 2], [0, 2, 1, 3], [2, 1, 0, 3]]) expect(sameBits(K.transpose(u, p).data, oldTranspose(u, p))).toBe(0);
  });

  it("binary broadcasting (per-row, per-column, scalar, mixed) equals index maps", () => {
    const cases: Array<[number[], number[]]> = [[[2, 3, 4], [2, 3, 1]], [[2, 3, 4], [4]], [[2, 3, 4], []], [[2, 3, 4], [3, 1]], [[1, 3, 1], [2, 1, 4]], [[5, 1, 4], [1, 3, 1]], [[2, 3, 4], [1, 1, 1]], [[1, 80, 1], [1, 80, 512]]];
    for (const [da, db] of cases) {
      const a = tensor(r, da), b = tensor(r, db);
      const out = K.broadcastShape(da, db);
      const ia = oldBroadcastIndex(da, out), ib = oldBroadcastIndex(db, out);
      const ref = Float64Array.from({ length: numel(out) }, (_, i) => Math.fround(a.data[ia[i]] - b.data[ib[i]]));
      const got = K.elementwise(DT.FLOAT, [a, b], (p, q) => p - q);
      expect(got.dims).toEqual(out);
      expect(sameBits(got.data, ref)).toBe(0);
      const ex = K.expand(a, out);
      expect(sameBits(ex.data, Float64Array.from({ length: numel(out) }, (_, i) => a.data[ia[i]]))).toBe(0);
    }
  });

  it("reduce over any axis set sums in the old order", () => {
    const t = tensor(r, [3, 4, 5, 6]);
    for (const axes of [[0], [1], [3], [0, 2], [1, 3], [0, 1, 2, 3], [2]]) {
      const got = K.reduce(t, axes, true, 0, (s, v) => s + v);
      expect(sameBits(got.data, oldReduceSum(t, axes))).toBe(0);
    }
  });
});

describe("second probe shape", () => {
  it("takes shape-independent values from the first folder and refolds what a Shape reaches", async () => {
    const { buildModel, node, tensor: t } = await import("./helpers/graph-builder.ts");
    const { ConstantFolder } = await import("../passes/fold/fold-constants.ts");
    const { GraphIR } = await import("../passes/ir/graph.ts");
    const m = buildModel({
      inputs: [{ name: "x", dims: ["b", 3] }], outputs: [{ name: "y", dims: ["b", 2, 3] }],
      nodes: [
        node("Mul", ["w", "w"], ["sq"]), node("Shape", ["x"], ["sx"]), node("Gather", ["sx", "zero"], ["b"], { axis: 0 }),
        node("Concat", ["b", "one", "one"], ["reps"], { axis: 0 }), node("Tile", ["sq", "reps"], ["y"]),
      ],
      initializers: { w: t([1, 2, 3], (i) => i - 2), zero: t([1], () => 0, DT.INT64), one: t([1], () => 1, DT.INT64) },
    });
    const g = new GraphIR(m.proto.graph!);
    const a = new ConstantFolder(g, { inputShapes: new Map([["x", [1, 3]]]) });
    const b = new ConstantFolder(g, { inputShapes: new Map([["x", [2, 3]]]), shapeIndependentFrom: a });
    const sqA = a.fold("sq"), sqB = b.fold("sq");
    expect(sqA.ok && sqB.ok).toBe(true);
    expect(sqB).toBe(sqA); // the very same folded value: not computed twice
    const yA = a.fold("y"), yB = b.fold("y");
    if (!yA.ok || !yB.ok) throw new Error("y must fold");
    expect(yA.value.dims).toEqual([1, 2, 3]);
    expect(yB.value.dims).toEqual([2, 2, 3]); // the batch-keyed Tile is refolded under its own shape
    expect(Array.from(yB.value.data)).toEqual([4, 1, 0, 1, 4, 9, 4, 1, 0, 1, 4, 9]);
  });
});
