// NumPy .npy parsing (format 1.0-3.0), for text embeddings and test references. No file
// system here: the browser parses the bytes a user dropped; npy.ts reads files.
// Hostile bytes are normal input: the header is capped and read in linear time, every dim
// is checked, and the element count and byte size are checked against the data and a cap
// before anything is allocated.
import { DT } from "./onnx-types.ts";
import { f16ToF32Array } from "./half.ts";
import { ReparamError } from "../errors.ts";
import type { ConstTensor } from "./const-tensor.ts";
import { MAX_ELEMENTS } from "./size-cap.ts";
import { HeaderSyntaxError, parseHeaderDict, type HeaderValue } from "./npy-header.ts";

/** numpy pads its headers to 64 bytes and writes a few hundred at most; 64 KiB leaves room for any real one. */
export const NPY_MAX_HEADER = 64 * 1024;
/** The one ceiling every tensor the project materializes obeys (io/size-cap.ts): 64M elements. */
export const NPY_MAX_ELEMENTS = MAX_ELEMENTS;

const TYPES: Record<string, { dtype: number; size: number; name: string }> = {
  "<f4": { dtype: DT.FLOAT, size: 4, name: "float32" }, "<f2": { dtype: DT.FLOAT16, size: 2, name: "float16" },
  "<f8": { dtype: DT.DOUBLE, size: 8, name: "float64" }, "<i8": { dtype: DT.INT64, size: 8, name: "int64" },
  "<i4": { dtype: DT.INT32, size: 4, name: "int32" }, "|u1": { dtype: DT.UINT8, size: 1, name: "uint8" },
  "|b1": { dtype: DT.BOOL, size: 1, name: "bool" },
};
const ACCEPTED = "little-endian float32, float16 or float64 ('<f4', '<f2', '<f8'; also '<i8', '<i4', '|u1', '|b1')";
const KEYS = ["descr", "fortran_order", "shape"];

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const quote = (s: string) => JSON.stringify(s.length > 24 ? `${s.slice(0, 24)}...` : s);

/** A dim as numpy writes it: decimal digits (Python 2's trailing L allowed). */
function dimValue(text: string, index: number, bad: (why: string) => Error): number {
  const at = `dim ${index + 1} of the shape`;
  const digits = /^(\d+)L?$/.exec(text)?.[1]?.replace(/^0+(?=\d)/, "");
  if (digits === undefined) {
    if (/^[+-]?(nan|inf(inity)?)$/i.test(text)) throw bad(`${at} is ${text}, not a whole number`);
    if (/^-\d+L?$/.test(text)) throw bad(`${at} is negative (${text})`);
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw bad(`${at} is ${quote(text)}, not a whole number`);
    throw bad(`${at} is ${quote(text)}, not an integer`);
  }
  // Any dim past the element cap is refused below; 16 digits already exceed it, and stay exact.
  if (digits.length > 15) throw bad(`${at} is ${quote(text)}, far beyond ${NPY_MAX_ELEMENTS} elements`);
  return Number(digits);
}

function readHeader(header: string, bad: (why: string) => Error): { descr: string; fortran: boolean; dims: number[] } {
  let dict: Map<string, HeaderValue>;
  try { dict = parseHeaderDict(header); } catch (e) {
    if (e instanceof HeaderSyntaxError) throw bad(`unreadable header: ${e.message}`);
    throw e;
  }
  for (const k of KEYS) if (!dict.has(k)) throw bad(`the header has no '${k}'`);
  const extra = [...dict.keys()].filter((k) => !KEYS.includes(k));
  if (extra.length) throw bad(`the header has ${extra.length === 1 ? "a key" : "keys"} numpy does not write: ${extra.map((k) => quote(k)).join(", ")}`);
  const descr = dict.get("descr"), fortran = dict.get("fortran_order"), shape = dict.get("shape");
  if (typeof descr !== "string") throw bad("'descr' is not a string");
  if (typeof fortran !== "boolean") throw bad("'fortran_order' is not True or False");
  if (!Array.isArray(shape)) throw bad("'shape' is not a tuple");
  return { descr, fortran, dims: shape.map((d, i) => dimValue(d.text, i, bad)) };
}

export interface NpyLayout {
  dtype: number;
  dims: number[];
  /** Where the data starts, and how many bytes the shape needs. */
  dataOffset: number;
  dataBytes: number;
  describe: string;
}

const badNpy = (path: string) => (why: string) => new ReparamError(`${path}: not a usable .npy file: ${why}`);

/**
 * The header alone, from the first bytes of the file (at most 12 + NPY_MAX_HEADER are looked
 * at): every check that needs no data, so a reader can refuse a file before reading its body.
 */
export function parseNpyHeader(head: Uint8Array, path = "<npy>"): NpyLayout {
  const bad = badNpy(path);
  if (head.length < 10 || head[0] !== 0x93 || String.fromCharCode(...head.subarray(1, 6)) !== "NUMPY") throw bad("missing NUMPY magic");
  const major = head[6], minor = head[7];
  if (major < 1 || major > 3 || minor !== 0) throw bad(`format version ${major}.${minor}; 1.0, 2.0 and 3.0 are read`);
  const hstart = major === 1 ? 10 : 12;
  if (head.length < hstart) throw bad("file ends inside the header length");
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const hlen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (hlen > NPY_MAX_HEADER) throw bad(`the header says it is ${hlen} bytes; numpy's are a few hundred (at most ${NPY_MAX_HEADER} accepted)`);
  if (hstart + hlen > head.length) throw bad(`the header runs past the end of the file (${hlen} bytes announced, ${head.length - hstart} there)`);
  // Versions 1 and 2 store the header in latin-1, version 3 in UTF-8 (numpy's format spec).
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(head.subarray(hstart, hstart + hlen));
  const { descr, fortran, dims } = readHeader(header, bad);
  const t = TYPES[descr];
  if (!t) throw bad(`dtype '${descr}' is not supported (${ACCEPTED} expected)`);
  if (fortran && dims.filter((d) => d > 1).length > 1) throw bad("Fortran order; save it C-ordered (np.ascontiguousarray)");
  const shape = `(${dims.join(", ")}${dims.length === 1 ? "," : ""})`;
  let n = 1;
  for (const d of dims) {
    n *= d;
    if (n > NPY_MAX_ELEMENTS) throw bad(`shape ${shape} holds more than ${NPY_MAX_ELEMENTS} elements (the most accepted)`);
  }
  return { dtype: t.dtype, dims, dataOffset: hstart + hlen, dataBytes: n * t.size, describe: `shape ${shape} of ${t.name}` };
}

/** The data length against what the header asks for: exactly that many bytes follow the header. */
export function checkNpyDataLength(layout: NpyLayout, have: number, path = "<npy>"): void {
  if (have === layout.dataBytes) return;
  throw badNpy(path)(`${layout.describe} needs ${plural(layout.dataBytes, "byte")} of data, the file has ${have}${have > layout.dataBytes ? " (a second array appended?)" : ""}`);
}

/** The array from its data bytes (exactly layout.dataBytes of them). */
export function decodeNpyData(layout: NpyLayout, body: Uint8Array): ConstTensor {
  // Copied into an aligned buffer: typed-array views need the alignment.
  const ab = body.buffer.slice(body.byteOffset, body.byteOffset + layout.dataBytes) as ArrayBuffer;
  let data: ArrayLike<number>;
  switch (layout.dtype) {
    case DT.FLOAT: data = new Float32Array(ab); break;
    case DT.FLOAT16: data = f16ToF32Array(new Uint16Array(ab)); break;
    case DT.DOUBLE: data = new Float64Array(ab); break;
    case DT.INT64: data = Array.from(new BigInt64Array(ab), Number); break;
    case DT.INT32: data = new Int32Array(ab); break;
    default: data = new Uint8Array(ab);
  }
  return { dtype: layout.dtype, dims: layout.dims, data: Float64Array.from(data) };
}

/** A whole .npy file's bytes (the page's dropped file; readNpy reads the header first). */
export function parseNpy(buf: Uint8Array, path = "<npy>"): ConstTensor {
  const layout = parseNpyHeader(buf, path);
  checkNpyDataLength(layout, buf.length - layout.dataOffset, path);
  return decodeNpyData(layout, buf.subarray(layout.dataOffset));
}
