// Tokenization exactly as tokenizer.json says, through @huggingface/tokenizers (the
// JavaScript port of the Python `tokenizers` pipeline: normalizer, pre-tokenizer, BPE,
// post-processor). Both merges formats load: "a b" strings (older exports) and ["a", "b"]
// pairs (current transformers). Truncation is ours: the library returns a long name whole.
// From the files' text, so the CLI (tokenize.ts reads a folder) and the page (files the
// user chose) build the same tokenizer.
import { Tokenizer } from "@huggingface/tokenizers";
import { ReparamError } from "../errors.ts";

/** CLIP's context length; used when tokenizer_config.json does not give model_max_length. */
export const CLIP_CONTEXT = 77;

export interface TokenizedName { ids: number[]; /** token count before truncation, when truncated */ truncatedFrom?: number }

export interface TextTokenizer {
  encode(name: string): TokenizedName;
  /** Longest sequence the model takes, special tokens included. */
  maxLength: number;
  /** Fills the tail of shorter names in a batch. */
  padId: number;
}

/** A JSON file's text and how messages name it (its path, or the file name the page was given). */
export interface JsonText { label: string; text: string }

/** The tokenizer files as text: tokenizer.json, and the two optional ones when present. */
export interface TokenizerTexts { tokenizer: JsonText; tokenizerConfig?: JsonText; specialTokensMap?: JsonText }

function parseJson(file: JsonText, what: string): Record<string, unknown> {
  let value: unknown;
  try { value = JSON.parse(file.text); } catch (e) { throw new ReparamError(`${file.label}: not valid JSON (${(e as Error).message})`); }
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new ReparamError(`${file.label}: not a JSON object (${what} expected)`);
  return value as Record<string, unknown>;
}

// special_tokens_map.json and tokenizer_config.json write a token as "x" or {"content": "x", ...}.
function tokenText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as { content?: unknown }).content === "string") return (v as { content: string }).content;
  return undefined;
}

/** The config the tokenizer reads: special tokens map overlaid by tokenizer_config, tokens as plain strings. */
function tokenizerConfig(files: TokenizerTexts): Record<string, unknown> {
  const merged: Record<string, unknown> = {
    ...(files.specialTokensMap ? parseJson(files.specialTokensMap, "special_tokens_map.json") : {}),
    ...(files.tokenizerConfig ? parseJson(files.tokenizerConfig, "tokenizer_config.json") : {}),
  };
  for (const key of ["bos_token", "eos_token", "unk_token", "pad_token"]) {
    if (key in merged) merged[key] = tokenText(merged[key]);
  }
  if (Array.isArray(merged.additional_special_tokens)) merged.additional_special_tokens = merged.additional_special_tokens.map(tokenText).filter(Boolean);
  return merged;
}

/**
 * @param fixedLength the model's static sequence length when it declares one: it caps
 *   truncation (a name can never be longer than the model takes).
 */
export function tokenizerFrom(files: TokenizerTexts, fixedLength?: number): TextTokenizer {
  const json = parseJson(files.tokenizer, "tokenizer.json");
  const config = tokenizerConfig(files);
  const model = json.model as { type?: string; merges?: unknown[] } | undefined;
  if (!model || typeof model !== "object") throw new ReparamError(`${files.tokenizer.label}: tokenizer.json has no "model" section`);
  let tok: Tokenizer;
  try { tok = new Tokenizer(json, config); } catch (e) {
    throw new ReparamError(`${files.tokenizer.label}: cannot load the tokenizer (${(e as Error).message.split("\n")[0]})`);
  }

  const configured = config.model_max_length;
  // transformers writes a huge sentinel (1e30) when no length is known.
  let maxLength = typeof configured === "number" && Number.isInteger(configured) && configured > 1 && configured < 1e6 ? configured : CLIP_CONTEXT;
  if (fixedLength !== undefined) maxLength = Math.min(maxLength, fixedLength);

  const endIds = tok.encode("").ids;
  const idOf = (t: unknown) => (typeof t === "string" ? tok.token_to_id(t) : undefined);
  const padId = idOf(config.pad_token) ?? idOf(config.eos_token) ?? endIds[endIds.length - 1];
  if (padId === undefined) throw new ReparamError(`${files.tokenizer.label}: no pad or end token (give pad_token in tokenizer_config.json)`);

  return {
    maxLength, padId,
    encode(name: string): TokenizedName {
      const ids = tok.encode(name).ids;
      if (ids.length <= maxLength) return { ids };
      // As CLIP and the Python tokenizer with truncation: keep the head, end with the end token.
      return { ids: [...ids.slice(0, maxLength - 1), ids[ids.length - 1]], truncatedFrom: ids.length };
    },
  };
}
