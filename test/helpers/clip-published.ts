// The committed stand-in for the published ONNX text model of openai/clip-vit-base-patch32
// (models/fixtures/clip-published, made by models/gen/gen_clip_published.py), laid out as a
// user downloads it: tokenizer files at the top (clip-tiny's, the real CLIP BPE) and
// onnx/text_model.onnx. Variants for the other published shapes of the same interface.
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadModel, saveModel } from "../../passes/io/model-io.ts";
import { readNpy } from "../../passes/io/npy.ts";
import { AT, DT } from "../../passes/io/onnx-types.ts";
import { FIXTURES } from "./fixtures.ts";
import { CLIP_TINY } from "./clip-tiny.ts";

export const PUBLISHED = join(FIXTURES, "clip-published");
export const PUBLISHED_MODEL = join(PUBLISHED, "onnx", "text_model.onnx");
const REFS = join(PUBLISHED, "refs");

export const publishedNames = (): string[] => JSON.parse(readFileSync(join(REFS, "names.json"), "utf8"));
export const publishedIds = (): number[][] => JSON.parse(readFileSync(join(REFS, "input_ids.json"), "utf8"));
export const publishedEmbeds = () => readNpy(join(REFS, "text_embeds.npy"));
/** str({0: name, ...}) as Python wrote it: the `names` metadata Ultralytics would write. */
export const publishedPyDict = () => readFileSync(join(REFS, "names.pydict.txt"), "utf8");

type Graph = NonNullable<ReturnType<typeof loadModel>["proto"]["graph"]>;

/** The downloaded folder: tokenizer.json, tokenizer_config.json, special_tokens_map.json, config.json, onnx/text_model.onnx. */
export function publishedFolder(dir: string, edit?: (g: Graph) => void): string {
  mkdirSync(join(dir, "onnx"), { recursive: true });
  for (const f of ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]) copyFileSync(join(CLIP_TINY, f), join(dir, f));
  copyFileSync(join(PUBLISHED, "config.json"), join(dir, "config.json"));
  if (!edit) { copyFileSync(PUBLISHED_MODEL, join(dir, "onnx", "text_model.onnx")); return dir; }
  const m = loadModel(PUBLISHED_MODEL);
  edit(m.proto.graph!);
  saveModel(m, join(dir, "onnx", "text_model.onnx"));
  return dir;
}

const rename = (g: Graph, from: string, to: string) => {
  for (const n of g.node!) n.input = n.input!.map((x) => (x === from ? to : x));
};
const dimParam = (name: string) => ({ dim_param: name });

/** Optimum's CLIPTextWithProjectionOnnxConfig declares text_embeds as {0: batch_size, 1: sequence_length}. */
export const optimumDeclaredDims = (g: Graph) => {
  const out = g.output!.find((o) => o.name === "text_embeds")!;
  out.type!.tensor_type!.shape!.dim = [dimParam("batch_size"), dimParam("sequence_length")];
};

/** Older Optimum CLIP text configs cast input_ids to int32 for their dummy export. */
export const int32Ids = (g: Graph) => {
  rename(g, "input_ids", "input_ids_int64");
  g.input![0].type!.tensor_type!.elem_type = DT.INT32;
  g.node!.unshift({ op_type: "Cast", input: ["input_ids"], output: ["input_ids_int64"], name: "ids_to_int64", attribute: [{ name: "to", type: AT.INT, i: DT.INT64 }] });
};

/** text_model_fp16.onnx: text_embeds comes out float16. */
export const fp16Output = (g: Graph) => {
  for (const n of g.node!) n.output = n.output!.map((x) => (x === "text_embeds" ? "text_embeds_f32" : x));
  g.node!.push({ op_type: "Cast", input: ["text_embeds_f32"], output: ["text_embeds"], name: "embeds_to_f16", attribute: [{ name: "to", type: AT.INT, i: DT.FLOAT16 }] });
  g.output![0].type!.tensor_type!.elem_type = DT.FLOAT16;
};
