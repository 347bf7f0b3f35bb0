// A text encoder in the Hugging Face layout: tokenizer files at the folder's top and one
// ONNX text model with projection. Everything is found on disk; nothing is fetched, so a
// missing file is the user's to fix and the message names it.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { ReparamError } from "../errors.ts";

export interface EncoderFiles {
  dir: string;
  tokenizer: string;
  /** Optional in the layout; read when present (special tokens, model_max_length). */
  tokenizerConfig?: string;
  specialTokensMap?: string;
  model: string;
}

/** Where Hugging Face exports put the text tower (Optimum / onnx-community split exports first). */
export const MODEL_CANDIDATES = ["text_model.onnx", "onnx/text_model.onnx", "model.onnx"] as const;

const isFile = (p: string) => existsSync(p) && statSync(p).isFile();
const optional = (p: string) => (isFile(p) ? p : undefined);

export function findEncoderFiles(dir: string, encoderModel?: string): EncoderFiles {
  if (!dir) throw new ReparamError("--encoder: give the folder of a CLIP text encoder (tokenizer.json and an ONNX text model)");
  if (!existsSync(dir)) throw new ReparamError(`${dir}: encoder folder not found`);
  if (!statSync(dir).isDirectory()) throw new ReparamError(`${dir}: encoder is not a folder (tokenizer.json and an ONNX text model expected inside)`);
  const tokenizer = join(dir, "tokenizer.json");
  if (!isFile(tokenizer)) throw new ReparamError(`${tokenizer}: not found (the encoder folder needs the tokenizer.json of its CLIP tokenizer)`);
  let model: string | undefined;
  if (encoderModel !== undefined) {
    if (!isFile(encoderModel)) throw new ReparamError(`${encoderModel}: --encoder-model file not found`);
    model = encoderModel;
  } else {
    model = MODEL_CANDIDATES.map((c) => join(dir, c)).find(isFile);
    if (!model) throw new ReparamError(`${dir}: no ONNX text model found (looked for ${MODEL_CANDIDATES.join(", ")}; or give --encoder-model)`);
  }
  return {
    dir, tokenizer, model,
    tokenizerConfig: optional(join(dir, "tokenizer_config.json")),
    specialTokensMap: optional(join(dir, "special_tokens_map.json")),
  };
}
