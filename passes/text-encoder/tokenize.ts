// The tokenizer of an encoder folder: its files read from disk, then built as the page
// builds it from the files it was given (tokenize-core.ts).
import { readFileSync } from "node:fs";
import { ReparamError } from "../errors.ts";
import type { EncoderFiles } from "./encoder-folder.ts";
import { tokenizerFrom, type JsonText, type TextTokenizer } from "./tokenize-core.ts";

export { CLIP_CONTEXT, type TextTokenizer, type TokenizedName } from "./tokenize-core.ts";

function read(path: string, what: string): JsonText {
  try { return { label: path, text: readFileSync(path, "utf8") }; } catch (e) { throw new ReparamError(`${path}: cannot read ${what} (${(e as NodeJS.ErrnoException).code ?? "error"})`); }
}

/**
 * @param fixedLength the model's static sequence length when it declares one: it caps
 *   truncation (a name can never be longer than the model takes).
 */
export function loadTokenizer(files: EncoderFiles, fixedLength?: number): TextTokenizer {
  return tokenizerFrom({
    tokenizer: read(files.tokenizer, "tokenizer.json"),
    specialTokensMap: files.specialTokensMap ? read(files.specialTokensMap, "special_tokens_map.json") : undefined,
    tokenizerConfig: files.tokenizerConfig ? read(files.tokenizerConfig, "tokenizer_config.json") : undefined,
  }, fixedLength);
}
