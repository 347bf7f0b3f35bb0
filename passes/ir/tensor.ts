// Constant tensors as the folding engine sees them: dims plus values widened to float64
// (exact for every float16/float32 value and every integer a shape computation uses).
// Conversion back to a TensorProto narrows to the requested element type.
import { DT, type Tensor } from "../io/onnx-types.ts";
import { bf16ToF32Array, f16ToF32Array, f32ToBf16Array, f32ToF16Array } from "../io/half.ts";
import { externalBytes, externalRef } from "../io/external-ref.ts";
import { ReparamError } from "../errors.ts";
import { admitDims, int64Dims } from "../io/size-cap.ts";
import Long from "long";

import type { ConstTensor } from "../io/const-tensor.ts";

export type { ConstTensor };

export const FLOAT_TYPES: ReadonlySet<number> = new Set([DT.FLOAT, DT.FLOAT16, DT.DOUBLE, DT.BFLOAT16]);
const DTYPE_NAMES = Object.fromEntries(Object.entries(DT).map(([k, v]) => [v, k.toLowerCase()]));
export const dtypeName = (dt: number): string => DTYPE_NAMES[dt] ?? `dtype${dt}`;

export const numel = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
export const toNumber = (v: unknown): number => (Long.isLong(v) ? (v as Long).toNumber() : Number(v));

function viewOf<T>(Ctor: { new (b: ArrayBuffer, o: number, n: number): T; BYTES_PER_ELEMENT: number }, raw: Uint8Array, n: number): T {
  // raw_data is a view into the file buffer and need not be aligned for the element type.
  // Copy explicitly: protobufjs hands out Buffers, whose slice() is a view, not a copy.
  const copy = raw.byteOffset % Ctor.BYTES_PER_ELEMENT === 0 ? raw : new Uint8Array(raw);
  return new Ctor(copy.buffer as ArrayBuffer, copy.byteOffset, n);
}

/** Bytes per element of the types folding decodes from raw_data (others are not folded). */
const RAW_BYTES: Readonly<Record<number, number>> = {
  [DT.FLOAT]: 4, [DT.DOUBLE]: 8, [DT.FLOAT16]: 2, [DT.BFLOAT16]: 2, [DT.INT32]: 4, [DT.INT64]: 8, [DT.INT8]: 1, [DT.UINT8]: 1, [DT.BOOL]: 1,
};

/**
 * Reads an initializer / Constant value. Returns null for types folding does not handle.
 * The dims are checked against the size cap before any byte is read or decoded: dims that
 * claim 2^40 elements over a few bytes of raw_data never reach an allocation. `what` names
 * the tensor in a refusal (a Constant's tensor usually has no name of its own).
 */
export function readTensor(t: Tensor, baseDir: string | null = null, what = `tensor '${t.name ?? ""}'`): ConstTensor | null {
  const dims = int64Dims(what, t.dims ?? []);
  const n = admitDims(what, dims);
  const dtype = t.data_type ?? 0;
  const bytesPer = RAW_BYTES[dtype];
  let raw = t.raw_data && t.raw_data.length ? t.raw_data : null;
  if (externalRef(t)) {
    if (!bytesPer) return null;
    raw = externalBytes(t, baseDir, n * bytesPer);
  }
  if (raw && bytesPer && raw.length !== n * bytesPer) throw new ReparamError(`${what}: raw_data has ${raw.length} bytes, shape needs ${n * bytesPer}`);
  const fromRaw = (): ArrayLike<number> | null => {
    if (!raw) return null;
    switch (dtype) {
      case DT.FLOAT: return viewOf(Float32Array, raw, n);
      case DT.DOUBLE: return viewOf(Float64Array, raw, n);
      case DT.FLOAT16: return f16ToF32Array(viewOf(Uint16Array, raw, n));
      case DT.BFLOAT16: return bf16ToF32Array(viewOf(Uint16Array, raw, n));
      case DT.INT32: return viewOf(Int32Array, raw, n);
      case DT.INT64: return Array.from(viewOf(BigInt64Array, raw, n), Number);
      case DT.INT8: return viewOf(Int8Array, raw, n);
      case DT.UINT8: case DT.BOOL: return raw;
      default: return undefined as never;
    }
  };
  const fromTyped = (): ArrayLike<number> | undefined => {
    switch (dtype) {
      case DT.FLOAT: return t.float_data;
      case DT.DOUBLE: return t.double_data;
      case DT.INT64: return t.int64_data?.map(toNumber);
      case DT.INT32: case DT.INT8: case DT.UINT8: case DT.BOOL: case DT.INT16: case DT.UINT16: return t.int32_data;
      case DT.FLOAT16: return t.int32_data ? f16ToF32Array(Uint16Array.from(t.int32_data)) : undefined;
      case DT.BFLOAT16: return t.int32_data ? bf16ToF32Array(Uint16Array.from(t.int32_data)) : undefined;
      default: return undefined;
    }
  };
  const values = fromRaw() ?? fromTyped() ?? (n === 0 ? [] : undefined);
  if (values === undefined || values.length !== n) return null;
  return { dtype, dims, data: Float64Array.from(values) };
}

// float64 cannot hold INT64_MAX (2^63 - 1 reads back as 2^63): saturate instead of letting
// BigInt64Array wrap it to INT64_MIN (a Slice end "to the end" would become "empty").
const I64_MAX = 2n ** 63n - 1n, I64_MIN = -(2n ** 63n);
const toInt64 = (v: number): bigint => { const b = BigInt(Math.trunc(v)); return b > I64_MAX ? I64_MAX : b < I64_MIN ? I64_MIN : b; };

/** Encodes as raw_data of `dtype` (defaults to the tensor's own). */
export function toTensorProto(name: string, c: ConstTensor, dtype = c.dtype): Tensor {
  let raw: Uint8Array;
  switch (dtype) {
    case DT.FLOAT: raw = new Uint8Array(Float32Array.from(c.data).buffer); break;
    case DT.DOUBLE: raw = new Uint8Array(Float64Array.from(c.data).buffer); break;
    case DT.FLOAT16: raw = new Uint8Array(f32ToF16Array(c.data).buffer); break;
    case DT.BFLOAT16: raw = new Uint8Array(f32ToBf16Array(c.data).buffer); break;
    case DT.INT64: raw = new Uint8Array(BigInt64Array.from(c.data, toInt64).buffer); break;
    case DT.INT32: raw = new Uint8Array(Int32Array.from(c.data).buffer); break;
    default: throw new Error(`cannot encode ${dtypeName(dtype)} tensors`);
  }
  return { name, dims: c.dims.map((d) => Long.fromNumber(d)), data_type: dtype, raw_data: raw };
}
