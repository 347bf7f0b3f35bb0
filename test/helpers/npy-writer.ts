// A tiny .npy (format 1.0) writer for tests: float32, float16, float64, int64, int32.
import { writeFileSync } from "node:fs";
import { f32ToF16Array } from "../../passes/io/half.ts";

export type NpyDtype = "<f4" | "<f2" | "<f8" | "<i8" | "<i4";

export function encodeNpy(dims: number[], values: ArrayLike<number>, descr: NpyDtype = "<f4"): Uint8Array {
  let body: Uint8Array;
  switch (descr) {
    case "<f4": body = new Uint8Array(Float32Array.from(values).buffer); break;
    case "<f2": body = new Uint8Array(f32ToF16Array(values).buffer); break;
    case "<f8": body = new Uint8Array(Float64Array.from(values).buffer); break;
    case "<i8": body = new Uint8Array(BigInt64Array.from(Array.from(values), (v) => BigInt(Math.trunc(v))).buffer); break;
    case "<i4": body = new Uint8Array(Int32Array.from(values).buffer); break;
  }
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += " ".repeat((64 - (total % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, ...Array.from("NUMPY", (c) => c.charCodeAt(0)), 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(body, 10 + header.length);
  return out;
}

export function writeNpy(path: string, dims: number[], values: ArrayLike<number>, descr: NpyDtype = "<f4"): string {
  writeFileSync(path, encodeNpy(dims, values, descr));
  return path;
}
