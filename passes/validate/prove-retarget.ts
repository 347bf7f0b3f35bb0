// The proof of a vocabulary retarget. The original model stays the oracle even though it
// holds K classes and the result K':
//   K' <= K  "padded": the original runs with its text replaced by the K' new rows, padded
//            to K by repeating the first (a duplicate changes no max over classes); the
//            result must equal it on boxes and on the first K' class channels.
//   selection "padded" too: K' of the original's own classes (--classes) become K by
//            repeating the first chosen one, in every constant that holds the classes.
//   K' >  K  "duplicated+swapped": the retargeted graph (before any site rewrite), given K'
//            rows that repeat the original's own K, must reproduce the original with its
//            class channels repeated (this proves the K bookkeeping); then the final model
//            must equal that retargeted graph given the real rows (this proves the rewrite).
import { decodeModelBytes, encodeModel } from "../io/codec.ts";
import type { LoadedModel } from "../io/model-io.ts";
import { GraphIR } from "../ir/graph.ts";
import type { ConstTensor } from "../ir/tensor.ts";
import type { ReparamResult } from "../pipeline/reparam-model.ts";
import type { Vocabulary } from "../vocab/text-embed.ts";
import { segSize } from "../vocab/segments.ts";
import { takeRows } from "../vocab/select-classes.ts";
import type { OutputMap, Tolerance, ValidationInput, ValidationReport } from "./compare-models.ts";
import { compareIn, type ProofEnv } from "./proof-env.ts";
import { ReparamError } from "../errors.ts";

/** K rows of `rows` (D wide) chosen by `pick(i)`, shaped like the model's text. */
function rowsOf(like: ConstTensor, rows: ConstTensor, k: number, pick: (i: number) => number): ConstTensor {
  const d = like.dims[like.dims.length - 1];
  const data = new Float64Array(k * d);
  for (let i = 0; i < k; i++) data.set(rows.data.subarray(pick(i) * d, (pick(i) + 1) * d), i * d);
  return { dtype: like.dtype, dims: like.dims.map((x, i) => (i === like.dims.length - 2 ? k : x)), data };
}

/** Original index of every class-axis entry of the result, class j of the new text being original class pick(j). */
function outputMaps(v: Vocabulary, pick: (j: number) => number): Map<string, OutputMap> {
  const maps = new Map<string, OutputMap>();
  for (const o of v.outputs) {
    const index: number[] = [];
    let at = 0;
    for (const s of o.segs) {
      if ("k" in s) for (let j = 0; j < v.to; j++) index.push(at + pick(j));
      else for (let j = 0; j < s.n; j++) index.push(at + j);
      at += "k" in s ? v.from : s.n;
    }
    if (index.length !== segSize(o.segs, v.to)) throw new Error("class map length");
    maps.set(o.name, { axis: o.axis, index: Int32Array.from(index) });
  }
  return maps;
}

/** The model with its text (and what the exporter folded from it) set to `text`. */
function withText(bytes: Uint8Array | LoadedModel, v: Vocabulary, text: ConstTensor): Uint8Array {
  const m = bytes instanceof Uint8Array ? { proto: decodeModelBytes(bytes, "<retargeted>"), baseDir: null } : bytes;
  const g = new GraphIR(m.proto.graph!, m.baseDir);
  for (const s of v.sources) g.setConstant(s.name, s.derive(text));
  return encodeModel(m.proto);
}

/** The original with every class-holding constant reduced to the classes `rows` (K of them, repeats allowed). */
function withRows(m: LoadedModel, v: Vocabulary, rows: number[]): Uint8Array {
  const g = new GraphIR(m.proto.graph!, m.baseDir);
  for (const s of v.sources) g.setConstant(s.name, takeRows(g.constant(s.name)!, s.axis, rows));
  return encodeModel(m.proto);
}

export async function proveRetarget(env: ProofEnv, model: LoadedModel, result: ReparamResult, sets: ValidationInput[][], tolerance: Tolerance): Promise<ValidationReport> {
  const v = result.vocabulary!;
  const rewritten = { bytes: encodeModel(model.proto) };
  const { from: k, to: k2 } = v;
  if (v.selected) {
    // The neck's max over the classes sees every class: the chosen ones alone are not a
    // slice of the original's outputs. Padded, by repeating the first chosen class, they are.
    if (v.mixes && k2 !== k) throw new ReparamError(`cannot prove the class selection: ${v.mixes}, so the kept classes' outputs depend on the ones dropped; --no-validate writes the model unproven`);
    const sel = v.selected;
    const rows = Array.from({ length: k }, (_, i) => (i < k2 ? sel[i] : sel[0]));
    const r = await compareIn(env, "proof (padded)", { bytes: withRows(env.reload(), v, rows) }, rewritten, sets, { tolerance, outputMaps: outputMaps(v, (j) => j) });
    return { ...r, proof: "padded" };
  }
  if (v.mixes && k2 !== k) throw new ReparamError(`cannot prove the retarget: ${v.mixes}, so padding or repeating classes changes the original's outputs and it is no oracle for ${k2} classes; --no-validate writes the model unproven`);
  // The original with a K-row text: set in the model (a constant, or an input's initializer
  // default, which onnxruntime does not let a caller feed), or fed (a plain input).
  const asConstant = v.kind === "constant" || (env.reload().proto.graph?.initializer ?? []).some((t) => t.name === v.text);
  const original = (text: ConstTensor) => (asConstant ? { bytes: withText(env.reload(), v, text) } : env.original);
  const feeds = (text: ConstTensor) => new Map(asConstant ? [] : [[v.text, text]]);
  if (k2 <= k) {
    const padded = rowsOf(v.base, v.value, k, (i) => (i < k2 ? i : 0));
    const r = await compareIn(env, "proof (padded)", original(padded), rewritten, sets, { bound: feeds(padded), tolerance, outputMaps: outputMaps(v, (j) => j) });
    return { ...r, proof: "padded" };
  }
  const dup = rowsOf(v.base, v.base, k2, (i) => i % k);
  // The original's own text needs no edit (a recomputed derived constant could differ by an ulp).
  const own = v.kind === "constant" ? env.original : original(v.base);
  const bookkeeping = await compareIn(env, "class bookkeeping", own, { bytes: withText(result.bookkept!, v, dup) }, sets, { bound: feeds(v.base), tolerance, outputMaps: outputMaps(v, (j) => j % k) });
  const r = await compareIn(env, "proof (swapped)", { bytes: result.bookkept! }, rewritten, sets, { tolerance });
  return { ...r, passed: r.passed && bookkeeping.passed, proof: "duplicated+swapped", bookkeeping: { ...bookkeeping, proof: "duplicated+swapped" } };
}
