// Class names -> L2-normalized CLIP text embeddings from an encoder folder on disk, with the
// ONNX text tower in onnxruntime-node (or another runtime: onnxruntime-web gives the page's
// numbers bit for bit). Re-entrant: every call opens its own session and keeps no state.
import { findEncoderFiles } from "./encoder-folder.ts";
import { loadTokenizer } from "./tokenize.ts";
import { nodeRuntime } from "../runtime/node-runtime.ts";
import { openTextModelOn } from "./text-model-core.ts";
import { checkBatch, checkNames, embedWith, type EmbedResult } from "./embed-core.ts";
import type { OrtRuntime } from "../runtime/ort-runtime.ts";

export { DEFAULT_BATCH, type EmbedResult } from "./embed-core.ts";

export interface EmbedOptions {
  /** Hugging Face-style folder: tokenizer.json (+ tokenizer_config.json, special_tokens_map.json) and the ONNX text model. */
  encoder: string;
  /** The ONNX text model, when it is not text_model.onnx, onnx/text_model.onnx or model.onnx in the folder. */
  encoderModel?: string;
  /** Names per onnxruntime run (default 64): bounds memory for long lists. */
  batch?: number;
  /** onnxruntime intra-op threads (default: onnxruntime's choice). */
  threads?: number;
  onProgress?: (done: number, total: number) => void;
  /** Where the text model runs (default onnxruntime-node). */
  runtime?: OrtRuntime;
}

export async function embedClasses(names: readonly string[], options: EmbedOptions): Promise<EmbedResult> {
  checkNames(names);
  checkBatch(options.batch);
  const files = findEncoderFiles(options.encoder, options.encoderModel);
  const model = await openTextModelOn(options.runtime ?? nodeRuntime, { path: files.model }, files.model, options.threads);
  try {
    return await embedWith(names, loadTokenizer(files, model.fixedLength), model, options);
  } finally {
    await model.release();
  }
}
