// fp16 / bf16 conversions checked exhaustively where the space is small (65536 patterns)
// and against a slow, independent nearest-value search where it is not (float32 inputs).
import { describe, expect, it } from "vitest";
import {
  bf16BitsToF32, bf16ToF32Array, f16BitsToF32, f16ToF32Array, f32ToBf16Array, f32ToBf16Bits, f32ToF16Array, f32ToF16Bits,
} from "../passes/io/half.ts";

const isF16NaN = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
const isBf16NaN = (h: number) => (h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0;
const hex = (v: number) => `0x${v.toString(16).padStart(4, "0")}`;

// Deterministic so a failure reproduces.
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const bitsToF32 = (() => {
  const dv = new DataView(new ArrayBuffer(4));
  return (bits: number) => { dv.setUint32(0, bits >>> 0); return dv.getFloat32(0); };
})();

// Independent of half.ts: fp16 values computed from the format definition in float64.
function f16Value(h: number): number {
  const e = (h >> 10) & 0x1f, m = h & 0x3ff;
  const mag = e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15);
  return h & 0x8000 ? -mag : mag;
}

// Nearest representable value by binary search over the sorted non-negative patterns,
// ties to the even pattern. The pattern just past the largest finite one stands for the
// value the format would have there (2^16 for fp16, 2^128 for bf16); rounding to it means Inf.
function nearest(table: Float64Array, x: number): number {
  let lo = 0, hi = table.length - 1;
  if (x >= table[hi]) return hi;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (table[mid] <= x) lo = mid; else hi = mid;
  }
  const dl = x - table[lo], dh = table[hi] - x;
  if (dl < dh) return lo;
  if (dh < dl) return hi;
  return lo % 2 === 0 ? lo : hi;
}

const F16_TABLE = Float64Array.from({ length: 0x7c01 }, (_, h) => (h === 0x7c00 ? 2 ** 16 : f16Value(h)));
const BF16_TABLE = Float64Array.from({ length: 0x7f81 }, (_, h) => (h === 0x7f80 ? 2 ** 128 : bitsToF32(h << 16)));

function refF16(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  return sign | nearest(F16_TABLE, Math.abs(x));
}

function refBf16(x: number): number {
  if (Number.isNaN(x)) return 0x7fc0;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  return sign | nearest(BF16_TABLE, Math.abs(x));
}

// Float32 inputs weighted towards where rounding is interesting: fp16's (and bf16's)
// normal and subnormal range, exact halfway points, and anything at all.
function randomFloat32s(n: number, seed: number, lowExp: number, highExp: number): number[] {
  const next = rng(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const kind = i % 4;
    let bits: number;
    if (kind === 3) bits = next();
    else {
      const exp = lowExp + (next() % (highExp - lowExp + 1));
      let mant = next() & 0x7fffff;
      if (kind === 2) mant = (mant & ~0x1fff) | 0x1000; // fp16 halfway pattern for normals
      bits = ((next() & 1) << 31) | (exp << 23) | mant;
    }
    out.push(bitsToF32(bits));
  }
  return out;
}

describe("fp16", () => {
  it("every fp16 bit pattern survives f16 -> f32 -> f16 (NaNs stay NaN)", () => {
    const bad: string[] = [];
    for (let h = 0; h < 0x10000; h++) {
      const back = f32ToF16Bits(f16BitsToF32(h));
      const ok = isF16NaN(h) ? isF16NaN(back) : back === h;
      if (!ok && bad.length < 5) bad.push(`${hex(h)} -> ${hex(back)}`);
    }
    expect(bad).toEqual([]);
  });

  it("decodes every pattern to the value the format defines", () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = f16BitsToF32(h);
      if (isF16NaN(h)) expect(v).toBeNaN();
      else if ((h & 0x7fff) === 0x7c00) expect(v).toBe(h & 0x8000 ? -Infinity : Infinity);
      else expect(Object.is(v, f16Value(h))).toBe(true);
    }
  });

  it.each([
    [65504, 0x7bff],
    [65519, 0x7bff], // below the halfway point to 2^16
    [65520, 0x7c00], // halfway: ties to even, and the even neighbour is Inf
    [1e6, 0x7c00],
    [2 ** -24, 0x0001], // min subnormal
    [2 ** -25, 0x0000], // halfway between 0 and min subnormal: ties to even
    [bitsToF32(((127 - 25) << 23) | 1), 0x0001], // just above 2^-25
    [3 * 2 ** -25, 0x0002], // halfway between 1 and 2 ulps: even is 2
    [2 ** -14, 0x0400], // min normal
    [2 ** -14 - 2 ** -25, 0x0400], // halfway between max subnormal (odd) and min normal (even)
    [1, 0x3c00],
    [1 + 2 ** -11, 0x3c00], // tie to even
    [1 + 3 * 2 ** -11, 0x3c02], // tie to even: 1 + 2·2^-10
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above the tie
    [-2, 0xc000],
    [1e-40, 0x0000], // float32 subnormal
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
  ])("f32ToF16Bits(%d) = %i", (value, bits) => {
    expect(hex(f32ToF16Bits(value))).toBe(hex(bits));
  });

  it("keeps the sign of zero", () => {
    expect(f32ToF16Bits(-0)).toBe(0x8000);
    expect(Object.is(f16BitsToF32(0x8000), -0)).toBe(true);
    expect(f32ToF16Bits(-1e-40)).toBe(0x8000);
  });

  it("NaN stays NaN", () => {
    expect(isF16NaN(f32ToF16Bits(NaN))).toBe(true);
    expect(isF16NaN(f32ToF16Bits(bitsToF32(0x7f800001)))).toBe(true); // payload only in low bits
    expect(isF16NaN(f32ToF16Bits(bitsToF32(0xffc00000)))).toBe(true);
    expect(f16BitsToF32(0x7e00)).toBeNaN();
  });

  it("matches a nearest-value reference on 100k float32 values", () => {
    const values = randomFloat32s(100_000, 1, 127 - 27, 127 + 17);
    const bad: string[] = [];
    for (const x of values) {
      const got = f32ToF16Bits(x), want = refF16(x);
      const ok = Number.isNaN(x) ? isF16NaN(got) : got === want;
      if (!ok && bad.length < 5) bad.push(`${x}: got ${hex(got)} want ${hex(want)}`);
    }
    expect(bad).toEqual([]);
  });

  it("array helpers agree with the scalar ones", () => {
    const xs = [0, -0, 1, 65504, 65520, 2 ** -25, 3 * 2 ** -25, NaN, -Infinity];
    const bits = f32ToF16Array(xs);
    expect(Array.from(bits)).toEqual(xs.map(f32ToF16Bits));
    const back = f16ToF32Array(bits);
    expect(Array.from(back)).toEqual(Array.from(bits, f16BitsToF32));
  });
});

describe("bf16", () => {
  it("every bf16 bit pattern survives bf16 -> f32 -> bf16 (NaNs stay NaN)", () => {
    const bad: string[] = [];
    for (let h = 0; h < 0x10000; h++) {
      const back = f32ToBf16Bits(bf16BitsToF32(h));
      const ok = isBf16NaN(h) ? isBf16NaN(back) : back === h;
      if (!ok && bad.length < 5) bad.push(`${hex(h)} -> ${hex(back)}`);
    }
    expect(bad).toEqual([]);
  });

  it.each([
    [1, 0x3f80],
    [1 + 2 ** -8, 0x3f80], // tie to even
    [1 + 3 * 2 ** -8, 0x3f82], // tie to even: 1 + 2·2^-7
    [1 + 2 ** -8 + 2 ** -20, 0x3f81],
    [-2, 0xc000],
    [3.3895313892515355e38, 0x7f7f], // max finite
    [bitsToF32(0x7f7f8000), 0x7f80], // halfway to 2^128, odd neighbour: rounds to Inf
    [bitsToF32(0x7f7f7fff), 0x7f7f],
    [bitsToF32(0x00008000), 0x0000], // halfway in the subnormals: even is 0
    [bitsToF32(0x00018000), 0x0002],
    [Infinity, 0x7f80],
    [-Infinity, 0xff80],
  ])("f32ToBf16Bits(%d) = %i", (value, bits) => {
    expect(hex(f32ToBf16Bits(value))).toBe(hex(bits));
  });

  it("keeps the sign of zero and NaN stays NaN", () => {
    expect(f32ToBf16Bits(-0)).toBe(0x8000);
    expect(Object.is(bf16BitsToF32(0x8000), -0)).toBe(true);
    expect(isBf16NaN(f32ToBf16Bits(NaN))).toBe(true);
    // A NaN whose payload sits only in the bits bf16 drops must not become Inf.
    expect(isBf16NaN(f32ToBf16Bits(bitsToF32(0x7f800001)))).toBe(true);
    expect(isBf16NaN(f32ToBf16Bits(bitsToF32(0xff800001)))).toBe(true);
  });

  it("matches a nearest-value reference on 100k float32 values", () => {
    const values = randomFloat32s(100_000, 2, 0, 254);
    const bad: string[] = [];
    for (const x of values) {
      const got = f32ToBf16Bits(x), want = refBf16(x);
      const ok = Number.isNaN(x) ? isBf16NaN(got) : got === want;
      if (!ok && bad.length < 5) bad.push(`${x}: got ${hex(got)} want ${hex(want)}`);
    }
    expect(bad).toEqual([]);
  });

  it("array helpers agree with the scalar ones", () => {
    const xs = [0, -0, 1, 1 + 2 ** -8, NaN, Infinity];
    const bits = f32ToBf16Array(xs);
    expect(Array.from(bits)).toEqual(xs.map(f32ToBf16Bits));
    expect(Array.from(bf16ToF32Array(bits))).toEqual(Array.from(bits, bf16BitsToF32));
  });
});
