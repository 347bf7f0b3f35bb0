// NumPy .npy files: reading and writing on disk (Node only); parsing the format is in npy-parse.ts.
import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";
import { f32ToF16Array } from "./half.ts";
import { atomicWrite } from "./model-io.ts";
import { ReparamError } from "../errors.ts";
import type { ConstTensor } from "./const-tensor.ts";
import { checkNpyDataLength, decodeNpyData, NPY_MAX_HEADER, parseNpy, parseNpyHeader } from "./npy-parse.ts";

export { parseNpy };

/** The header is read and checked first: a file whose header is bad or whose size does not fit it is refused before its data is read. */
export function readNpy(path: string): ConstTensor {
  const cannot = (e: unknown) => new ReparamError(`${path}: cannot read .npy file (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  let fd: number;
  try { fd = openSync(path, "r"); } catch (e) { throw cannot(e); }
  try {
    const size = fstatSync(fd).size;
    const head = readFully(fd, Math.min(size, 12 + NPY_MAX_HEADER), 0, path);
    const layout = parseNpyHeader(head, path);
    checkNpyDataLength(layout, size - layout.dataOffset, path);
    return decodeNpyData(layout, readFully(fd, layout.dataBytes, layout.dataOffset, path));
  } catch (e) {
    if (e instanceof ReparamError) throw e;
    throw cannot(e);
  } finally {
    closeSync(fd);
  }
}

function readFully(fd: number, length: number, position: number, path: string): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, out, done, length - done, position + done);
    if (n === 0) throw new ReparamError(`${path}: the file got shorter while it was read`);
    done += n;
  }
  return out;
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
