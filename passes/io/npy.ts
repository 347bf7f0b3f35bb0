// NumPy .npy reading/writing (format 1.0-3.0), for text embeddings and test references.
import { readFileSync, writeSync } from "node:fs";
import { DT } from "./onnx-types.ts";
import { f16ToF32Array, f32ToF16Array } from "./half.ts";
import { atomicWrite } from "./model-io.ts";
import { ReparamError } from "../errors.ts";
import type { ConstTensor } from "../ir/tensor.ts";

export function readNpy(path: string): ConstTensor {
  let buf: Buffer;
  try { buf = readFileSync(path); } catch (e) { throw new ReparamError(`${path}: cannot read .npy file (${(e as NodeJS.ErrnoException).code ?? "error"})`); }
  return parseNpy(buf, path);
}

export function parseNpy(buf: Uint8Array, path = "<npy>"): ConstTensor {
  const bad = (why: string) => new ReparamError(`${path}: not a usable .npy file: ${why}`);
  if (buf.length < 10 || String.fromCharCode(...buf.subarray(1, 6)) !== "NUMPY" || buf[0] !== 0x93) throw bad("missing NUMPY magic");
  const major = buf[6];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const hlen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const hstart = major === 1 ? 10 : 12;
  if (hstart + hlen > buf.length) throw bad("header runs past the end");
  const header = new TextDecoder().decode(buf.subarray(hstart, hstart + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw bad("unreadable header");
  if (fortran) throw bad("Fortran order; save it C-ordered (np.ascontiguousarray)");
  const dims = shapeText.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  const n = dims.reduce((a, b) => a * b, 1);
  const body = buf.slice(hstart + hlen);
  const types: Record<string, [number, number]> = { "<f4": [DT.FLOAT, 4], "<f2": [DT.FLOAT16, 2], "<f8": [DT.DOUBLE, 8], "<i8": [DT.INT64, 8], "<i4": [DT.INT32, 4], "|u1": [DT.UINT8, 1], "|b1": [DT.BOOL, 1] };
  const t = types[descr];
  if (!t) throw bad(`dtype '${descr}' is not supported (float32 or float16 expected)`);
  if (body.length < n * t[1]) throw bad(`data is ${body.length} bytes, shape (${dims}) needs ${n * t[1]}`);
  const ab = body.buffer.slice(body.byteOffset, body.byteOffset + n * t[1]);
  let data: ArrayLike<number>;
  switch (t[0]) {
    case DT.FLOAT: data = new Float32Array(ab); break;
    case DT.FLOAT16: data = f16ToF32Array(new Uint16Array(ab)); break;
    case DT.DOUBLE: data = new Float64Array(ab); break;
    case DT.INT64: data = Array.from(new BigInt64Array(ab), Number); break;
    case DT.INT32: data = new Int32Array(ab); break;
    default: data = new Uint8Array(ab);
  }
  return { dtype: t[0], dims, data: Float64Array.from(data) };
}

export type NpyDtype = "<f4" | "<f2" | "<f8" | "<i8" | "<i4";

function npyBody(values: ArrayLike<number>, descr: NpyDtype): Uint8Array {
  switch (descr) {
    case "<f4": return values instanceof Float32Array ? new Uint8Array(values.buffer, values.byteOffset, values.byteLength) : new Uint8Array(Float32Array.from(values).buffer);
    case "<f2": return new Uint8Array(f32ToF16Array(values).buffer);
    case "<f8": return new Uint8Array(Float64Array.from(values).buffer);
    case "<i8": return new Uint8Array(BigInt64Array.from(Array.from(values), (v) => BigInt(Math.trunc(v))).buffer);
    case "<i4": return new Uint8Array(Int32Array.from(values).buffer);
  }
}

/** Magic, version 1.0 and the header dict, padded to 64 bytes as NumPy writes it. */
function npyHeader(dims: readonly number[], values: ArrayLike<number>, descr: NpyDtype): Uint8Array {
  const n = dims.reduce((a, b) => a * b, 1);
  if (n !== values.length) throw new Error(`npy: shape (${dims}) holds ${n} values, got ${values.length}`);
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(", ")})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  dict += " ".repeat((64 - ((10 + dict.length + 1) % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + dict.length);
  out.set([0x93, ...Array.from("NUMPY", (c) => c.charCodeAt(0)), 1, 0], 0);
  new DataView(out.buffer).setUint16(8, dict.length, true);
  out.set(new TextEncoder().encode(dict), 10);
  return out;
}

/** Format 1.0, C order. */
export function encodeNpy(dims: readonly number[], values: ArrayLike<number>, descr: NpyDtype = "<f4"): Uint8Array {
  const header = npyHeader(dims, values, descr), body = npyBody(values, descr);
  const out = new Uint8Array(header.length + body.length);
  out.set(header, 0);
  out.set(body, header.length);
  return out;
}

/** Written through a temporary file and renamed: never a half-written .npy. A float32 body is written from the caller's array, not copied. */
export function writeNpy(path: string, dims: readonly number[], values: ArrayLike<number>, descr: NpyDtype = "<f4"): string {
  const parts = [npyHeader(dims, values, descr), npyBody(values, descr)];
  atomicWrite(path, (fd) => {
    for (const bytes of parts) { let done = 0; while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done); }
  });
  return path;
}
