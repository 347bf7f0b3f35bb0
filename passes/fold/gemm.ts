// Row-major float64 GEMM C = A·B for constant folding (the neck's guide Linear on the text,
// the head's embedding-Conv merge): ~600 M multiply-adds at K = 1203, which plain JavaScript
// loops run at 0.2-0.5 GMAC/s. A small WebAssembly SIMD kernel (assembled below, no build
// step, no native code) does 4x4 blocks in f64x2 registers.
//
// Every C[i, j] is summed in the same order as the reference loop (q = 0, 1, ..., k-1, each
// product rounded to float64 then added): the SIMD lanes run across j, never across q, so
// the result is bit-identical to `gemmReference`, which the tests check.

/** C[i, j] = Σq A[i, q]·B[q, j], summed over q in order, in float64 (the reference kernel). */
export function gemmReference(A: ArrayLike<number>, B: ArrayLike<number>, m: number, k: number, n: number, C = new Float64Array(m * n)): Float64Array {
  for (let i = 0; i < m; i++) {
    const out = i * n;
    for (let q = 0; q < k; q++) {
      const av = A[i * k + q], row = q * n;
      for (let j = 0; j < n; j++) C[out + j] += av * B[row + j];
    }
  }
  return C;
}

/** Fills a row-major (m, k) left operand at `offset` of `dst` (lets callers skip a temporary). */
export type RowsWriter = (dst: Float64Array, offset: number) => void;

/**
 * Same result as gemmReference, bit for bit; WebAssembly SIMD for the 4x4-divisible block.
 * A may be a writer that fills the operand straight into the kernel's memory.
 */
export function gemm(A: Float64Array | RowsWriter, B: Float64Array, m: number, k: number, n: number): Float64Array {
  const m4 = m & ~3, n4 = n & ~3;
  const kernel = m4 && n4 && k && m * k * n >= 1 << 16 ? wasmKernel() : null;
  if (!kernel) {
    let a = A as Float64Array;
    if (typeof A === "function") A((a = new Float64Array(m * k)), 0);
    return gemmReference(a, B, m, k, n);
  }
  const bytes = 8 * (m * k + k * n + m * n);
  const pages = Math.ceil(bytes / 65536);
  const have = kernel.memory.buffer.byteLength / 65536;
  if (pages > have) kernel.memory.grow(pages - have);
  const heap = new Float64Array(kernel.memory.buffer);
  const pA = 0, pB = m * k, pC = pB + k * n;
  if (typeof A === "function") A(heap, pA);
  else heap.set(A.subarray(0, m * k), pA);
  heap.set(B.subarray(0, k * n), pB);
  heap.fill(0, pC, pC + m * n);
  // Many short calls rather than one long one: V8 runs new WebAssembly in its baseline tier
  // and swaps in optimized code between calls, never inside a running one.
  // Blocks of ROWS rows of A stay in cache while every column panel of B passes by.
  for (let i = 0; i < m4; i += ROWS) {
    const rows = Math.min(ROWS, m4 - i);
    for (let j = 0; j < n4; j += PANEL) kernel.gemm((pA + i * k) * 8, (pB + j) * 8, (pC + i * n + j) * 8, rows, k, Math.min(PANEL, n4 - j), n);
  }
  const C = heap.slice(pC, pC + m * n);
  // The rows and columns the 4x4 kernel left: same order of summation, in JavaScript.
  for (let i = 0; i < m; i++) {
    const j0 = i < m4 ? n4 : 0;
    if (j0 >= n) continue;
    for (let q = 0; q < k; q++) {
      const av = heap[pA + i * k + q], row = q * n;
      for (let j = j0; j < n; j++) C[i * n + j] += av * B[row + j];
    }
  }
  return C;
}

// 64 rows of A (256 KiB at k = 512) x 8 columns of B per call: measured best of 16-256 x 8-32.
const PANEL = 8, ROWS = 64;

interface Kernel { gemm(pA: number, pB: number, pC: number, m4: number, k: number, n4: number, n: number): void; memory: WebAssembly.Memory }
let cached: Kernel | null | undefined;

function wasmKernel(): Kernel | null {
  if (cached !== undefined) return cached;
  try {
    const mod = new WebAssembly.Module(assemble());
    const inst = new WebAssembly.Instance(mod, {});
    cached = { gemm: inst.exports.gemm as Kernel["gemm"], memory: inst.exports.mem as WebAssembly.Memory };
  } catch {
    cached = null; // no WebAssembly SIMD: the reference loop gives the same numbers, slower
  }
  return cached;
}

// ---- the kernel, as WebAssembly bytes --------------------------------------------------
// gemm(pA, pB, pC, m4, k, n4, n): for each 4-column panel j0 of B and each 4-row block i0
// of A, 8 f64x2 accumulators (4 rows x 2 vectors of 2 columns) run over q = 0..k-1:
//   acc[r] += splat(A[i0+r, q]) * B[q, j0..j0+3]
// A, B, C are row-major float64 at byte offsets pA, pB, pC; B and C have row length n.

const uleb = (v: number): number[] => { const out: number[] = []; do { let b = v & 0x7f; v >>>= 7; if (v) b |= 0x80; out.push(b); } while (v); return out; };
const sleb = (v: number): number[] => {
  const out: number[] = [];
  for (;;) { const b = v & 0x7f; v >>= 7; if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) { out.push(b); return out; } out.push(b | 0x80); }
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const str = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

// opcodes
const get = (l: number) => [0x20, l], set = (l: number) => [0x21, l];
const i32 = (v: number) => [0x41, ...sleb(v)];
const ADD = 0x6a, SUB = 0x6b, MUL = 0x6c, LT_S = 0x48, END = 0x0b;
const SIMD = 0xfd;
const v128load = (offset: number) => [SIMD, 0x00, 3, ...uleb(offset)];
const v128store = (offset: number) => [SIMD, 0x0b, 3, ...uleb(offset)];
const v128zero = [SIMD, 0x0c, ...new Array(16).fill(0)];
const f64load = [0x2b, 3, 0];
const f64x2splat = [SIMD, 0x14], f64x2add = [SIMD, ...uleb(0xf0)], f64x2mul = [SIMD, ...uleb(0xf2)];

function assemble(): Uint8Array<ArrayBuffer> {
  const [pA, pB, pC, m4, k, n4, n] = [0, 1, 2, 3, 4, 5, 6];
  const [i0, j0, q, pb, nb, kb, pc] = [7, 8, 9, 10, 11, 12, 13];
  const aRow = (r: number) => 14 + r; // 14..17
  const acc = (r: number, h: number) => 18 + r * 2 + h; // v128 18..25
  const [b0, b1, sa] = [26, 27, 28];
  const breakUnless = (cond: number[]) => [...cond, 0x45, 0x0d, 1]; // i32.eqz; br_if 1 (out of the block)
  const qLoop = [
    0x03, 0x40,
    ...get(pb), ...v128load(0), ...set(b0),
    ...get(pb), ...v128load(16), ...set(b1),
    ...[0, 1, 2, 3].flatMap((r) => [
      ...get(aRow(r)), ...f64load, ...f64x2splat, ...set(sa),
      // acc += sa * b  (product rounded first, then added: as `acc += a * b` in JavaScript)
      ...get(acc(r, 0)), ...get(sa), ...get(b0), ...f64x2mul, ...f64x2add, ...set(acc(r, 0)),
      ...get(acc(r, 1)), ...get(sa), ...get(b1), ...f64x2mul, ...f64x2add, ...set(acc(r, 1)),
      ...get(aRow(r)), ...i32(8), ADD, ...set(aRow(r)),
    ]),
    ...get(pb), ...get(nb), ADD, ...set(pb),
    ...get(q), ...i32(1), SUB, 0x22, q, // local.tee q
    0x0d, 0, // br_if 0: loop while q != 0
    END,
  ];
  const iLoop = [
    ...i32(0), ...set(i0),
    0x02, 0x40, 0x03, 0x40,
    ...breakUnless([...get(i0), ...get(m4), LT_S]),
    ...[0, 1, 2, 3].flatMap((r) => [...get(pA), ...get(i0), ...i32(r), ADD, ...get(kb), MUL, ADD, ...set(aRow(r))]),
    ...get(pB), ...get(j0), ...i32(8), MUL, ADD, ...set(pb),
    ...Array.from({ length: 8 }, (_, i) => [...v128zero, ...set(18 + i)]).flat(),
    ...get(k), ...set(q),
    ...qLoop,
    // C rows i0..i0+3, columns j0..j0+3
    ...[0, 1, 2, 3].flatMap((r) => [
      ...get(pC), ...get(i0), ...i32(r), ADD, ...get(nb), MUL, ADD, ...get(j0), ...i32(8), MUL, ADD, ...set(pc),
      ...get(pc), ...get(acc(r, 0)), ...v128store(0),
      ...get(pc), ...get(acc(r, 1)), ...v128store(16),
    ]),
    ...get(i0), ...i32(4), ADD, ...set(i0),
    0x0c, 0, END, END, // br 0 (continue), end loop, end block
  ];
  const code = [
    ...get(n), ...i32(8), MUL, ...set(nb),
    ...get(k), ...i32(8), MUL, ...set(kb),
    ...i32(0), ...set(j0),
    0x02, 0x40, 0x03, 0x40,
    ...breakUnless([...get(j0), ...get(n4), LT_S]),
    ...iLoop,
    ...get(j0), ...i32(4), ADD, ...set(j0),
    0x0c, 0, END, END,
    END,
  ];
  const locals = vec([[...uleb(11), 0x7f], [...uleb(11), 0x7b]]); // i32 x11 (7..17), v128 x11 (18..28)
  const fn = [...locals, ...code];
  const I32 = 0x7f;
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32], [I32]]), 0]])),
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(7, vec([[...str("gemm"), 0x00, 0], [...str("mem"), 0x02, 0]])),
    ...section(10, vec([[...uleb(fn.length), ...fn]])),
  ]);
}
