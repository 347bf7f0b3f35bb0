// The committed test CLIP text encoder (models/fixtures/clip-tiny, made by
// models/gen/gen_text_encoder.py) and variants of it built for a test: the old merges
// format, a model without text_embeds, without attention_mask, a whole-CLIP-like model.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadModel, saveModel } from "../../passes/io/model-io.ts";
import { readNpy } from "../../passes/io/npy.ts";
import { AT, DT } from "../../passes/io/onnx-types.ts";
import { FIXTURES } from "./fixtures.ts";

export const CLIP_TINY = join(FIXTURES, "clip-tiny");
export const CLIP_MODEL = join(CLIP_TINY, "onnx", "text_model.onnx");
const REFS = join(CLIP_TINY, "refs");

export const refNames = (): string[] => JSON.parse(readFileSync(join(REFS, "names.json"), "utf8"));
export const refIds = (): number[][] => JSON.parse(readFileSync(join(REFS, "input_ids.json"), "utf8"));
export const refEmbeds = () => readNpy(join(REFS, "text_embeds.npy"));

const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"];

/** A copy of the encoder folder; `tokenizer` and `model` may replace the committed files. */
export function encoderCopy(dir: string, opts: { tokenizer?: unknown; model?: Uint8Array | null; modelAt?: string; skip?: string[] } = {}): string {
  mkdirSync(join(dir, "onnx"), { recursive: true });
  for (const f of TOKENIZER_FILES) {
    if (opts.skip?.includes(f)) continue;
    if (f === "tokenizer.json" && opts.tokenizer !== undefined) writeFileSync(join(dir, f), JSON.stringify(opts.tokenizer));
    else copyFileSync(join(CLIP_TINY, f), join(dir, f));
  }
  if (opts.model !== null) {
    const at = join(dir, opts.modelAt ?? "onnx/text_model.onnx");
    if (opts.model) writeFileSync(at, opts.model);
    else copyFileSync(CLIP_MODEL, at);
  }
  return dir;
}

/** tokenizer.json with its BPE merges in the old "a b" string form. */
export function legacyMergesTokenizer(): { json: Record<string, unknown>; committedForm: string } {
  const json = JSON.parse(readFileSync(join(CLIP_TINY, "tokenizer.json"), "utf8"));
  const merges = json.model.merges as Array<string | [string, string]>;
  const committedForm = Array.isArray(merges[0]) ? "pairs" : "strings";
  json.model.merges = merges.map((m) => (Array.isArray(m) ? m.join(" ") : m));
  return { json, committedForm };
}

/** The text model edited with the project's codec, saved to `path`. */
export function editedModel(path: string, edit: (g: NonNullable<ReturnType<typeof loadModel>["proto"]["graph"]>) => void): string {
  const m = loadModel(CLIP_MODEL);
  edit(m.proto.graph!);
  saveModel(m, path);
  return path;
}

/** Only last_hidden_state left: the text tower without the projection, as some exports give. */
export const withoutTextEmbeds = (path: string) => editedModel(path, (g) => { g.output = g.output!.filter((o) => o.name !== "text_embeds"); });

/** attention_mask made an all-ones constant of input_ids' shape: a model that declares no mask. */
export const withoutMask = (path: string) => editedModel(path, (g) => {
  g.input = g.input!.filter((i) => i.name !== "attention_mask");
  const one = { dims: [1], data_type: DT.INT64, raw_data: new Uint8Array(new BigInt64Array([1n]).buffer) };
  g.node!.unshift(
    { op_type: "Shape", input: ["input_ids"], output: ["mask_shape"], name: "mask_shape" },
    { op_type: "ConstantOfShape", input: ["mask_shape"], output: ["attention_mask"], name: "mask_ones", attribute: [{ name: "value", type: AT.TENSOR, t: one }] },
  );
});

/** An extra pixel_values input, as a whole CLIP model (text and vision) declares. */
export const withPixelValues = (path: string) => editedModel(path, (g) => {
  g.input!.push({ name: "pixel_values", type: { tensor_type: { elem_type: DT.FLOAT, shape: { dim: [{ dim_param: "b" }, { dim_value: 3 }, { dim_value: 224 }, { dim_value: 224 }] } } } });
});
