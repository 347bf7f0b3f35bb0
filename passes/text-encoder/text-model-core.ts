// The ONNX text tower, checked by what it declares before anything runs: it must take
// input_ids (and may take attention_mask) and give the projected text_embeds [B, D].
// Runtime-agnostic: the CLI runs it on onnxruntime-node (text-model.ts), the page on
// onnxruntime-web, through the same checks and the same feeds.
import { f16ToF32Array } from "../io/half.ts";
import { ReparamError } from "../errors.ts";
import type { OrtRuntime, OrtSession, OrtTensor, OrtValueMeta } from "../runtime/ort-runtime.ts";

type IdType = "int64" | "int32";

export interface TextModel {
  /** How messages name the model (its path, or the file name the page was given). */
  path: string;
  /** Static sequence length the model declares, if any (then every batch is padded to it). */
  fixedLength?: number;
  /** Static batch size the model declares, if any. */
  fixedBatch?: number;
  hasMask: boolean;
  /** Runs one padded batch; returns the raw (unnormalized) [B, D] rows. */
  run(ids: Int32Array | number[], batch: number, length: number, mask: Uint8Array): Promise<{ dims: [number, number]; data: Float32Array }>;
  release(): Promise<void>;
}

const FEEDABLE = ["input_ids", "attention_mask"];

function meta(list: readonly OrtValueMeta[], name: string) {
  const m = list.find((v) => v.name === name);
  return m && m.isTensor ? m : undefined;
}

const staticDim = (shape: ReadonlyArray<number | string> | undefined, axis: number) =>
  typeof shape?.[axis] === "number" && (shape[axis] as number) > 0 ? (shape[axis] as number) : undefined;

/** `label` names the model in messages; the session gets every graph optimization (as the CLI always did). */
export async function openTextModelOn(runtime: OrtRuntime, src: { bytes?: Uint8Array; path?: string }, label: string, threads?: number): Promise<TextModel> {
  const path = label;
  let session: OrtSession;
  try {
    session = await runtime.createSession(src, { optimization: "all", ...(threads ? { threads } : {}) });
  } catch (e) {
    throw new ReparamError(`${path}: onnxruntime cannot load the text model (${String((e as Error)?.message ?? e).split("\n")[0]})`);
  }
  const refuse = (why: string): never => { void session.release(); throw new ReparamError(`${path}: ${why}`); };

  const outputs = session.outputNames;
  if (!outputs.includes("text_embeds")) {
    const towerOnly = outputs.includes("last_hidden_state") || outputs.includes("pooler_output");
    refuse(towerOnly
      ? `the model gives ${outputs.join(", ")} but no text_embeds: it is the text tower without the projection (export CLIPTextModelWithProjection, e.g. an Optimum/Hugging Face onnx/text_model.onnx)`
      : `the model has no text_embeds output (outputs: ${outputs.join(", ")})`);
  }
  const inputs = session.inputNames;
  if (!inputs.includes("input_ids")) refuse(`the model has no input_ids input (inputs: ${inputs.join(", ")})`);
  const extra = inputs.filter((n) => !FEEDABLE.includes(n));
  if (extra.length) {
    refuse(extra.includes("pixel_values")
      ? "this is a whole CLIP model (it takes pixel_values); give its text model (onnx/text_model.onnx)"
      : `the model takes ${extra.join(", ")}; a text model takes only input_ids and attention_mask`);
  }
  const idMeta = meta(session.inputMetadata, "input_ids");
  const maskMeta = meta(session.inputMetadata, "attention_mask");
  const idType = (idMeta?.type ?? "int64") as string;
  const maskType = (maskMeta?.type ?? "int64") as string;
  for (const [name, t] of [["input_ids", idType], ["attention_mask", maskType]] as const) {
    if (t !== "int64" && t !== "int32") refuse(`${name} is ${t}; int64 or int32 expected`);
  }
  if (idMeta && idMeta.shape.length !== 2) refuse(`input_ids has rank ${idMeta.shape.length}; [batch, sequence] expected`);
  const embMeta = meta(session.outputMetadata, "text_embeds");
  if (embMeta && embMeta.shape.length !== 2) refuse(`text_embeds has rank ${embMeta.shape.length}; [batch, D] expected`);

  const hasMask = inputs.includes("attention_mask");
  const tensor = (type: IdType, values: ArrayLike<number>, dims: number[]) =>
    type === "int64"
      ? runtime.tensor("int64", BigInt64Array.from(values as ArrayLike<number> & Iterable<number>, (v) => BigInt(v)), dims)
      : runtime.tensor("int32", Int32Array.from(values as ArrayLike<number> & Iterable<number>), dims);

  return {
    path, hasMask,
    fixedLength: staticDim(idMeta?.shape, 1),
    fixedBatch: staticDim(idMeta?.shape, 0),
    async run(ids, batch, length, mask) {
      const feeds: Record<string, OrtTensor> = { input_ids: tensor(idType as IdType, ids, [batch, length]) };
      if (hasMask) feeds.attention_mask = tensor(maskType as IdType, mask, [batch, length]);
      let out: Record<string, OrtTensor>;
      try { out = await session.run(feeds, ["text_embeds"]); } catch (e) {
        throw new ReparamError(`${path}: onnxruntime failed to run the text model on a batch of ${batch}×${length} tokens (${String((e as Error)?.message ?? e).split("\n")[0]})`);
      }
      const t = out.text_embeds;
      if (t.dims.length !== 2 || t.dims[0] !== batch) throw new ReparamError(`${path}: text_embeds came out [${t.dims.join(", ")}] for a batch of ${batch}; [${batch}, D] expected`);
      let data: Float32Array;
      if (t.type === "float32") data = t.data as Float32Array;
      else if (t.type === "float16") data = f16ToF32Array(t.data as Uint16Array);
      else throw new ReparamError(`${path}: text_embeds is ${t.type}; float32 or float16 expected`);
      return { dims: [batch, t.dims[1]], data };
    },
    release: () => session.release(),
  };
}
