// The CLI's job on bytes, for the browser (or any caller without files): the same
// decisions, messages and report as reparamFile (reparam-job.ts), and the same model
// bytes, since saveModel of a model without external data writes exactly encodeModel.
import { decodeModelBytes, encodeModel } from "../io/codec.ts";
import { parseNpy } from "../io/npy-parse.ts";
import { parseNamesText } from "../vocab/names-text.ts";
import type { ValidationInput } from "../validate/compare-models.ts";
import type { OrtRuntime } from "../runtime/ort-runtime.ts";
import { bytesProofEnv } from "../validate/proof-env.ts";
import { ReparamError } from "../errors.ts";
import { DT } from "../io/onnx-types.ts";
import { checkBatch, checkNames, embedWith, type EmbedResult } from "../text-encoder/embed-core.ts";
import { openTextModelOn } from "../text-encoder/text-model-core.ts";
import { tokenizerFrom, type JsonText } from "../text-encoder/tokenize-core.ts";
import { checkTolerance, reparamJob, type PassOptions, type ReparamFileResult, type ReparamReport } from "./reparam-job.ts";

export type ReparamStage = "decode" | "embed" | "rewrite" | "proof" | "encode";

/** The encoder folder's files as bytes and text: the ONNX text model and the tokenizer files. */
export interface EncoderBytes {
  model: Uint8Array;
  modelName: string;
  tokenizer: JsonText;
  tokenizerConfig?: JsonText;
  specialTokensMap?: JsonText;
}

export interface ReparamBytesOptions extends PassOptions {
  model: Uint8Array;
  /** The model's file name: the report's `input`, and the prefix of error messages. */
  modelName?: string;
  /** Name the report gives the output (what the page offers for download). */
  outputName?: string;
  textEmbed?: Uint8Array;
  textEmbedName?: string;
  /** A names file's text: one name per line, or a JSON array. */
  names?: string;
  namesName?: string;
  /** A CLIP text encoder given as files (the page): embeds `names` on `runtime`, as `reparam --encoder` does from a folder. */
  encoder?: EncoderBytes;
  onProgress?: (stage: ReparamStage, detail: string) => void;
}

export interface ReparamBytesResult extends ReparamFileResult {
  /** The rewritten model, when one is written (exit 0, or 1 with force). */
  bytes: Uint8Array | null;
  report: ReparamReport;
}

const shape = (inputs: ValidationInput[]) => inputs.map((i) => `${i.name} ${i.shape.join("x")}`).join(", ");

export async function reparamBytes(o: ReparamBytesOptions, runtime: OrtRuntime): Promise<ReparamBytesResult> {
  const progress = o.onProgress ?? (() => {});
  const input = o.modelName ?? "model.onnx";
  const output = o.outputName ?? input.replace(/(\.onnx)?$/i, ".rep.onnx");
  checkTolerance(o.tolerance);
  progress("decode", `decoding ${input} (${(o.model.length / 2 ** 20).toFixed(1)} MB)`);
  const model = { proto: decodeModelBytes(o.model, input), baseDir: null, source: input };
  const embedName = o.textEmbedName ?? "text-embed.npy";
  const embed = o.textEmbed ? { value: parseNpy(o.textEmbed, embedName), source: embedName } : undefined;
  if (o.encoder && o.textEmbed) throw new ReparamError("--encoder computes the text embeddings --text-embed would give: use one of them");
  const names = o.names !== undefined ? parseNamesText(o.names, o.namesName ?? "names.txt") : null;
  if (o.encoder && !names) throw new ReparamError("--encoder embeds the class names of --names: give --names too");
  if (names && !embed && !o.encoder) throw new ReparamError("--names sets the class names of a new vocabulary: give --text-embed (or --encoder) too");
  const encoded = o.encoder && names ? await embedBytes(names.names, o.encoder, runtime, progress) : null;
  const encoderEmbed = encoded ? { value: { dtype: DT.FLOAT, dims: encoded.dims, data: Float64Array.from(encoded.data) }, source: `--encoder ${o.encoder!.modelName}` } : undefined;
  const env = bytesProofEnv(o.model, input, runtime, (what, i, of, inputs) => progress("proof", `${what}: onnxruntime run ${i + 1}/${of} (${shape(inputs)})`));
  let bytes: Uint8Array | null = null;
  progress("rewrite", "folding the text path and rewriting the sites");
  const r = await reparamJob(model, {
    input, output, embed: embed ?? encoderEmbed, names, warnings: encoded?.warnings, classes: o.classes, textInput: o.textInput, sites: o.sites, inputShapes: o.inputShapes,
    neckForm: o.neckForm, validate: o.validate, force: o.force, tolerance: o.tolerance,
    onRewritten: () => { if (o.validate !== false) progress("proof", "proof: loading original and rewritten model into onnxruntime"); },
  }, env, () => { progress("encode", "encoding the rewritten model"); bytes = encodeModel(model.proto); });
  return { ...r, bytes };
}

/** `embed` on files given as bytes: the same tokenizer, text-model checks and loop as the CLI's folder. */
async function embedBytes(names: readonly string[], e: EncoderBytes, runtime: OrtRuntime, progress: (stage: ReparamStage, detail: string) => void): Promise<EmbedResult> {
  checkNames(names);
  checkBatch();
  progress("embed", `loading the text encoder ${e.modelName} (${(e.model.length / 2 ** 20).toFixed(1)} MB)`);
  const model = await openTextModelOn(runtime, { bytes: e.model }, e.modelName);
  try {
    const tokenizer = tokenizerFrom(e, model.fixedLength);
    return await embedWith(names, tokenizer, model, { onProgress: (done, total) => progress("embed", `embedding class names: ${done}/${total}`) });
  } finally {
    await model.release();
  }
}
