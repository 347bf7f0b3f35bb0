// The CLI's job on bytes, for the browser (or any caller without files): the same
// decisions, messages and report as reparamFile (reparam-job.ts), and the same model
// bytes, since saveModel of a model without external data writes exactly encodeModel.
import { decodeModelBytes, encodeModel } from "../io/codec.ts";
import { parseNpy } from "../io/npy-parse.ts";
import { parseNamesText } from "../vocab/names-text.ts";
import type { ValidationInput } from "../validate/compare-models.ts";
import type { OrtRuntime } from "../validate/runtime.ts";
import { bytesProofEnv } from "../validate/proof-env.ts";
import { ReparamError } from "../errors.ts";
import { checkTolerance, reparamJob, type PassOptions, type ReparamFileResult, type ReparamReport } from "./reparam-job.ts";

export type ReparamStage = "decode" | "rewrite" | "proof" | "encode";

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
  const names = o.names !== undefined ? parseNamesText(o.names, o.namesName ?? "names.txt") : null;
  if (names && !embed) throw new ReparamError("--names sets the class names of a new vocabulary: give --text-embed too");
  const env = bytesProofEnv(o.model, input, runtime, (what, i, of, inputs) => progress("proof", `${what}: onnxruntime run ${i + 1}/${of} (${shape(inputs)})`));
  let bytes: Uint8Array | null = null;
  progress("rewrite", "folding the text path and rewriting the sites");
  const r = await reparamJob(model, {
    input, output, embed, names, classes: o.classes, textInput: o.textInput, sites: o.sites, inputShapes: o.inputShapes,
    neckForm: o.neckForm, validate: o.validate, force: o.force, tolerance: o.tolerance,
    onRewritten: () => { if (o.validate !== false) progress("proof", "proof: loading original and rewritten model into onnxruntime"); },
  }, env, () => { progress("encode", "encoding the rewritten model"); bytes = encodeModel(model.proto); });
  return { ...r, bytes };
}
