// Generators for the seeded fuzz (test/io-fuzz.test.ts): size bombs (small graphs whose shape
// constants, dims and repeats are drawn from edge values), hostile .npy headers and hostile
// names files. Each takes a seeded random source, so a failing case is rebuilt from its seed.
import Long from "long";
import { DT, type Model } from "../../passes/io/onnx-types.ts";
import { attrInt, attrStr, attrTensor, GraphBuilder, seededNormal } from "../../models/build/yolo-world-sites.ts";
import { toTensorProto } from "../../passes/ir/tensor.ts";

/** Uniform [0, 1) from a seed (mulberry32), a fresh stream per case. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
export type Rnd = () => number;
export const int = (r: Rnd, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
export const pick = <T>(r: Rnd, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

// Small values keep every legitimate fold under 16^3 x 512 elements (the fuzz's memory
// property relies on it); the rest are the edges: over the cap, beyond 2^53, negative, zero.
const EDGES = [0, -1, -2, 2 ** 31, 2 ** 31 - 1, 2 ** 32, 2 ** 53 + 2, 2 ** 62, 1e9, 131073, 67108865];
export function dimValue(r: Rnd): number {
  const u = r();
  if (u < 0.6) return int(r, 1, 16);
  if (u < 0.8) return 2 ** int(r, 27, 62);
  return pick(r, EDGES);
}
const dims = (r: Rnd, rank = int(r, 1, 4)) => Array.from({ length: rank }, () => dimValue(r));

const i64 = (g: GraphBuilder, values: number[]) => g.init("c", [values.length], values, DT.INT64);
const filled = (g: GraphBuilder, shape: string, value: number, dtype: number = DT.FLOAT) =>
  g.node("ConstantOfShape", [shape], [attrTensor("value", toTensorProto("", { dtype, dims: [1], data: Float64Array.of(value) }, dtype))]);

/** A head site whose text operand is computed by a randomly configured, maybe hostile, chain. */
export function sizeBombModel(r: Rnd): { model: Model; what: string } {
  const g = new GraphBuilder(pick(r, [13, 17, 18]));
  const k = int(r, 1, 4);
  let t = g.init("txt", [1, k, 512], seededNormal(int(r, 1, 1e6), k * 512));
  const kind = pick(r, ["Expand", "Tile", "ConstantOfShape", "Range", "Concat", "Pad", "Reshape", "Gather", "Slice", "MatMul", "initializer dims"] as const);
  switch (kind) {
    case "Expand": t = g.node("Expand", [t, i64(g, dims(r, 3))]); break;
    case "Tile": t = g.node("Tile", [t, i64(g, dims(r, 3))]); break;
    case "ConstantOfShape": t = filled(g, i64(g, dims(r)), r()); break;
    case "Range": t = g.node("Range", [g.scalar(pick(r, [0, -1e12, 3.5])), g.scalar(pick(r, [dimValue(r), -dimValue(r), 1e30, Infinity])), g.scalar(pick(r, [1, -1, 0, 0.5, 1e-9, dimValue(r)]))]); break;
    case "Concat": t = g.node("Concat", new Array(int(r, 1, 300)).fill(g.node("Expand", [t, i64(g, [1, int(r, 1, 16), 512])])), [attrInt("axis", pick(r, [1, 0, -2, 3]))]); break;
    case "Pad": t = g.node("Pad", [t, i64(g, Array.from({ length: pick(r, [6, 6, 4]) }, () => pick(r, [0, 0, dimValue(r), -dimValue(r)])))]); break;
    case "Reshape": t = g.node("Reshape", [t, i64(g, Array.from({ length: int(r, 1, 4) }, () => pick(r, [-1, 0, dimValue(r), -dimValue(r)])))]); break;
    case "Gather": t = g.node("Gather", [t, filled(g, i64(g, dims(r, int(r, 1, 3))), pick(r, [0, -1, k, 2 ** 40]), DT.INT64)], [attrInt("axis", pick(r, [1, 0, 2, -1]))]); break;
    case "Slice": t = g.node("Slice", [t, i64(g, [pick(r, [0, -dimValue(r), dimValue(r)])]), i64(g, [pick(r, [2 ** 62, dimValue(r), -1])]), i64(g, [int(r, -3, 2)]), i64(g, [pick(r, [1, -1, 0, dimValue(r)])])]); break;
    case "MatMul": t = g.node("MatMul", [filled(g, i64(g, dims(r, 2)), 1), filled(g, i64(g, dims(r, 2)), 1)]); break;
    case "initializer dims": {
      const init = g.initializers[g.initializers.length - 1];
      init.dims = [1, k, 512].map((d) => (r() < 0.5 ? Long.fromNumber(d) : r() < 0.5 ? Long.fromNumber(dimValue(r) * (r() < 0.3 ? -1 : 1)) : Long.fromString(pick(r, ["9007199254740993", "-9223372036854775808", "9223372036854775807"]))));
      t = g.node("Identity", [t]);
    }
  }
  const text = g.node("Reshape", [t, g.shape([1, -1, 512])]);
  const x = g.input("x", [1, 512, 4, 4]);
  g.output(g.node("Einsum", [x, text], [attrStr("equation", "bchw,bkc->bkhw")]), "cls", [1, "K", 4, 4]);
  return { model: g.model(`fuzz-${kind}`), what: kind };
}

const ascii = (s: string) => new TextEncoder().encode(s);

/** A .npy file with a hostile header (or body): random bytes, huge or odd dims, broken tuples. */
export function hostileNpy(r: Rnd): Uint8Array {
  if (r() < 0.3) return wellFormedNpy(r);
  const dimText = () => pick(r, [String(int(r, 0, 8)), String(dimValue(r)), "-3", "1.5", "1e3", "nan", "0x10", "", " ", "99999999999999999999", "True", "(", ")"]);
  const shapes = [
    () => `(${Array.from({ length: int(r, 0, 4) }, dimText).join(", ")}${r() < 0.3 ? "," : ""})`,
    () => `(${dimText()}, ${dimText()}`, // unterminated
    () => "(".repeat(int(r, 1, 2000)),
    () => `(${"1, ".repeat(int(r, 60, 300))})`,
    () => pick(r, ["[2, 3]", "()", "2", "None", "(2,,3)", "(,)"]),
  ];
  const descr = pick(r, ["<f4", "<f2", "<f8", "<i8", "<i4", "|u1", "|b1", ">f4", "<c8", "O", "", "<f4'"]);
  let dict = `{'descr': '${descr}', 'fortran_order': ${pick(r, ["False", "True", "false", "0"])}, 'shape': ${pick(r, shapes)()}, }`;
  if (r() < 0.2) dict = "{'shape': (".repeat(int(r, 1, 3000));
  if (r() < 0.15) dict = Array.from({ length: int(r, 0, 4096) }, () => String.fromCharCode(int(r, 0, 255))).join("");
  dict += " ".repeat(int(r, 0, 64)) + (r() < 0.9 ? "\n" : "");
  const head = ascii(dict);
  const major = pick(r, [1, 1, 2, 3, 0, 255]);
  const pre = major === 1 ? 10 : 12;
  const declared = r() < 0.85 ? head.length : pick(r, [0, head.length + int(r, 1, 100), 65535, 2 ** 32 - 1]);
  const body = new Uint8Array(pick(r, [0, 4, 24, 96, int(r, 0, 4096)]));
  for (let i = 0; i < body.length; i++) body[i] = int(r, 0, 255);
  const out = new Uint8Array(pre + head.length + body.length);
  out.set([0x93, ...ascii("NUMPY"), major, 0]);
  const dv = new DataView(out.buffer);
  if (major === 1) dv.setUint16(8, Math.min(declared, 65535), true); else dv.setUint32(8, declared >>> 0, true);
  out.set(head, pre);
  out.set(body, pre + head.length);
  if (r() < 0.1) out[int(r, 0, out.length - 1)] ^= 1 << int(r, 0, 7);
  return r() < 0.05 ? out.subarray(0, int(r, 0, out.length)) : out;
}

/** A small well-formed .npy (float32, C order), sometimes with one bit flipped in its header. */
function wellFormedNpy(r: Rnd): Uint8Array {
  const dims = Array.from({ length: int(r, 0, 3) }, () => int(r, 0, 5));
  const n = dims.reduce((a, b) => a * b, 1);
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(", ")})`;
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  dict += " ".repeat((64 - ((10 + dict.length + 1) % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + dict.length + 4 * n);
  out.set([0x93, ...ascii("NUMPY"), 1, 0]);
  new DataView(out.buffer).setUint16(8, dict.length, true);
  out.set(ascii(dict), 10);
  if (r() < 0.3) out[int(r, 10, 10 + dict.length - 1)] ^= 1 << int(r, 0, 7);
  return out;
}

const CLEAN = ["person", "traffic light", "猫", "😀 face", "é", "e\u0301", "hot dog", "a,b", "[x]", "'q'", "\"d\"", "ab\\c"];
const PIECES = ["person", "traffic light", " lead", "trail ", "\u00a0nbsp", "\ufeff", "\r\n", "\n", "\r", "\t", "\u0000", "\u001b[31m", "\u0085", "\u2028", "\u2029",
  "猫", "😀", "\ud800", "é", "e\u0301", ",", "[", "]", "\"", "\\", "'", "{0: 'a'}", " ", "", "null", "1"];

/** A names file's text: lines, or a JSON array, of random unicode with control characters, BOMs and CRLF. */
export function hostileNames(r: Rnd): { text: string; json: boolean } {
  const clean = r() < 0.5;
  const name = () => (clean ? pick(r, CLEAN) : "") + Array.from({ length: clean ? int(r, 0, 1) : int(r, 0, 4) }, () => (r() < 0.8 ? pick(r, PIECES) : String.fromCodePoint(int(r, 0, 0x10ffff) & ~(r() < 0.5 ? 0 : 0xf800)))).join("");
  const n = int(r, 0, 40);
  if (r() < 0.35) {
    const entries = Array.from({ length: n }, () => (r() < 0.9 ? JSON.stringify(name()) : pick(r, ["null", "1", "[]", "{}", "true", "\"\\u0000\""])));
    const text = `${r() < 0.2 ? "\ufeff" : ""}[${entries.join(pick(r, [",", ", ", ",\n"]))}${r() < 0.1 ? "" : "]"}`;
    return { text, json: r() < 0.7 };
  }
  const text = (r() < 0.2 ? "\ufeff" : "") + Array.from({ length: n }, name).join(pick(r, ["\n", "\r\n", "\r", "\n\n"]));
  return { text, json: false };
}
