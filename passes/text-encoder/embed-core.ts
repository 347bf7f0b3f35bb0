// Room text-encoder/: class names -> embeddings (tokenizer + ONNX text tower). May import io/
// and below; not its peers rules/ or vocab/.
//
// Class names -> L2-normalized CLIP text embeddings, as YOLO-World's text backbone and
// Ultralytics' set_classes compute them: the batching, padding, truncation warnings and
// normalization, on a tokenizer and a text model whatever runtime they came from. The CLI
// (embed.ts, files and onnxruntime-node) and the page (chosen files, onnxruntime-web) both
// run this, so the two cannot compute differently.
import { ReparamError } from "../errors.ts";
import { nameDefect } from "../io/names-format.ts";
import type { TextTokenizer } from "./tokenize-core.ts";
import type { TextModel } from "./text-model-core.ts";

export const DEFAULT_BATCH = 64;

export interface EmbedResult {
  /** [N, D] */
  dims: [number, number];
  /** N × D float32, C order, every row of unit L2 norm. */
  data: Float32Array;
  /** Token ids fed to the model per name (start and end tokens included, after truncation). */
  tokens: number[][];
  /** Things the caller should tell the user (names truncated to the context length). */
  warnings: string[];
  /** The ONNX text model that ran. */
  model: string;
}

/** Names as a names file or --classes would accept them (see io/names-format.ts). */
export function checkNames(names: readonly string[]): void {
  if (!Array.isArray(names) || names.length === 0) throw new ReparamError("no class names given");
  names.forEach((n, i) => {
    if (typeof n !== "string") throw new ReparamError(`class name ${i + 1} is not a string`);
    const why = nameDefect(n);
    if (why) throw new ReparamError(`class name ${i + 1} ${why}`);
  });
}

/** Names per onnxruntime run: a whole number of at least 1. */
export function checkBatch(batch = DEFAULT_BATCH): number {
  if (!Number.isInteger(batch) || batch < 1) throw new ReparamError(`batch ${batch}: give a whole number of at least 1`);
  return batch;
}

/** Embeds with an open tokenizer and text model (the caller releases the model). */
export async function embedWith(names: readonly string[], tokenizer: TextTokenizer, model: TextModel, options: { batch?: number; onProgress?: (done: number, total: number) => void } = {}): Promise<EmbedResult> {
  checkNames(names);
  const batch = checkBatch(options.batch);
  const label = model.path;
  // A model exported with a fixed batch runs full batches; the tail batch is topped up and cut.
  const step = model.fixedBatch ?? batch;
  const warnings: string[] = [];
  const tokens: number[][] = [];
  let out: Float32Array | undefined;
  let D = 0;
  for (let start = 0; start < names.length; start += step) {
    const chunk = names.slice(start, start + step);
    const encoded = chunk.map((name) => {
      const t = tokenizer.encode(name);
      if (t.truncatedFrom !== undefined) warnings.push(`class name ${JSON.stringify(short(name))} is ${t.truncatedFrom} tokens; truncated to ${tokenizer.maxLength} (as CLIP does)`);
      tokens.push(t.ids);
      return t.ids;
    });
    const rows = model.fixedBatch ?? encoded.length;
    while (encoded.length < rows) encoded.push(encoded[0]);
    // Padding to the longest name in the batch: CLIP pools at the end token under causal
    // attention, so what follows it never reaches the embedding.
    const L = model.fixedLength ?? Math.max(...encoded.map((ids) => ids.length));
    const ids = new Array<number>(rows * L).fill(tokenizer.padId);
    const mask = new Uint8Array(rows * L);
    encoded.forEach((row, b) => row.forEach((id, j) => { ids[b * L + j] = id; mask[b * L + j] = 1; }));
    const r = await model.run(ids, rows, L, mask);
    if (!out) { D = r.dims[1]; out = new Float32Array(names.length * D); }
    else if (r.dims[1] !== D) throw new ReparamError(`${label}: text_embeds width changed between batches (${D} then ${r.dims[1]})`);
    for (let b = 0; b < chunk.length; b++) normalizeInto(r.data, b * D, D, out, (start + b) * D, chunk[b], label);
    options.onProgress?.(start + chunk.length, names.length);
  }
  return { dims: [names.length, D], data: out!, tokens, warnings, model: label };
}

function normalizeInto(src: Float32Array, from: number, D: number, dst: Float32Array, to: number, name: string, model: string): void {
  let ss = 0;
  for (let j = 0; j < D; j++) ss += src[from + j] * src[from + j];
  const norm = Math.sqrt(ss);
  if (!Number.isFinite(norm) || norm === 0) throw new ReparamError(`${model}: the text model gave a ${Number.isFinite(norm) ? "zero" : "non-finite"} embedding for ${JSON.stringify(short(name))}`);
  for (let j = 0; j < D; j++) dst[to + j] = src[from + j] / norm;
}

const short = (name: string) => (name.length > 60 ? `${name.slice(0, 57)}...` : name);
