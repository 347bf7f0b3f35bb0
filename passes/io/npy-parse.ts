// NumPy .npy parsing (format 1.0-3.0), for text embeddings and test references. No file
// system here: the browser parses the bytes a user dropped; npy.ts reads files.
import { DT } from "./onnx-types.ts";
import { f16ToF32Array } from "./half.ts";
import { ReparamError } from "../errors.ts";
import type { ConstTensor } from "./const-tensor.ts";

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
  if (!t) throw bad(`dtype '${descr}' is not supported (little-endian float32, float16 or float64 expected)`);
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
