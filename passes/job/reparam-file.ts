// The CLI's job as a library call: load -> reparam -> validate -> write, with the
// exit-code contract decided in reparam-job.ts (shared with the page) so that tests can
// drive it without a subprocess. This file holds what needs a file system.
import { resolve } from "node:path";
import { writeFileSync } from "node:fs";
import { loadModel, saveModel, atomicWrite, type LoadedModel } from "../io/model-io.ts";
import { readNpy } from "../io/npy.ts";
import { checkOutputPaths } from "./output-paths.ts";
import { nodeProofEnv } from "../validate/proof-env-node.ts";
import { ReparamError } from "../errors.ts";
import type { NeckLayout } from "../rules/neck-emit.ts";
import { readNamesFile } from "../vocab/names-list.ts";
import { embedClasses } from "../text-encoder/embed.ts";
import type { OrtRuntime } from "../runtime/ort-runtime.ts";
import { DT } from "../io/onnx-types.ts";
import { checkTolerance, jobPassOptions, reparamJob, type PassOptions, type ReparamFileResult as JobResult } from "./reparam-job.ts";
import type { ReparamResult } from "../pipeline/reparam-model.ts";
import type { ValueInfo } from "../io/onnx-types.ts";
import type { NeckFormChoice } from "./neck-form-auto.ts";
import type { ProgressFn } from "../progress.ts";

export interface ReparamFileResult extends JobResult {
  /** --neck-form auto: the timings and the form kept (null otherwise). */
  neckForm?: NeckFormChoice | null;
}

export interface ReparamFileOptions extends Omit<PassOptions, "neckForm"> {
  input: string;
  output: string;
  textEmbed?: string;
  /** A neck form, or "auto": time the three in onnxruntime and keep the fastest (job/neck-form-auto.ts). */
  neckForm?: NeckLayout | "auto";
  report?: string;
  /** Write initializers of 1 KiB and more to this file beside the output. */
  externalData?: string;
  /** Class names for the model's `names` metadata (one per line, or a JSON array). */
  names?: string;
  /** A CLIP text encoder folder (see `embed`): embeds `names` and uses them as the text. */
  encoder?: string;
  encoderModel?: string;
  /** Where the encoder's text model runs (default onnxruntime-node; onnxruntime-web gives the page's numbers bit for bit). */
  encoderRuntime?: OrtRuntime;
  /** Called as the work moves on (loading, rewriting, validating, saving); the library never prints. */
  onProgress?: ProgressFn;
}

export async function reparamFile(o: ReparamFileOptions): Promise<ReparamFileResult> {
  checkTolerance(o.tolerance);
  checkOutputPaths({ input: o.input, output: o.output, report: o.report, externalData: o.externalData });
  o.onProgress?.({ message: `loading ${o.input}` });
  const model = loadModel(o.input);
  if (o.encoder && o.textEmbed) throw new ReparamError("--encoder computes the text embeddings --text-embed would give: use one of them");
  if (o.encoderModel && !o.encoder) throw new ReparamError("--encoder-model names the text model inside --encoder: give --encoder too");
  const names = o.names ? readNamesFile(o.names) : null;
  if (o.encoder && !names) throw new ReparamError("--encoder embeds the class names of --names: give --names too");
  if (names && !o.textEmbed && !o.encoder) throw new ReparamError("--names sets the class names of a new vocabulary: give --text-embed (or --encoder) too");
  const encoded = o.encoder ? await embedClasses(names!.names, { encoder: o.encoder, encoderModel: o.encoderModel, runtime: o.encoderRuntime }) : null;
  const embed = o.textEmbed ? { value: readNpy(o.textEmbed), source: o.textEmbed }
    : encoded ? { value: { dtype: DT.FLOAT, dims: encoded.dims, data: Float64Array.from(encoded.data) }, source: `--encoder ${o.encoder}` } : undefined;
  // --neck-form auto (issue 10): the pipeline once per neck form, timed, the fastest kept; the
  // job then rewrites with that form (loaded on use: timing needs onnxruntime).
  let neckForm: NeckFormChoice | null = null;
  let chosen: { model: LoadedModel; result: ReparamResult; originalInputs: ValueInfo[] } | undefined;
  if (o.neckForm === "auto") {
    o.onProgress?.({ message: "timing the three neck forms in onnxruntime (--neck-form auto)" });
    const { chooseNeckForm } = await import("./neck-form-auto.ts");
    const auto = await chooseNeckForm(o.input, jobPassOptions({ ...o, neckForm: undefined, embed }));
    neckForm = auto.choice;
    chosen = auto;
  }
  o.onProgress?.({ message: "finding sites and folding the text path" });
  const onRun = (what: string, i: number, of: number, inputs: Array<{ name: string; shape: number[] }>) =>
    o.onProgress?.({ message: `validation, ${what}: run ${i + 1}/${of}: ${inputs.map((x) => `${x.name}:${x.shape.join("x")}`).join(" ")}`, done: i, total: of });
  // With auto, the job goes on with the chosen form's model, already rewritten.
  const job = chosen?.model ?? model;
  const { report, ...result } = await reparamJob(job, { ...o, neckForm: neckForm?.chosen ?? (o.neckForm === "auto" ? "conv" : o.neckForm), embed, names, warnings: encoded?.warnings }, nodeProofEnv(o.input, onRun), () => {
    o.onProgress?.({ message: `saving ${o.output}` });
    saveModel(job, resolve(o.output), o.externalData ? { externalData: { location: o.externalData } } : {});
  }, chosen);
  if (o.report) {
    const json = JSON.stringify(neckForm ? { ...report, neckForm } : report, null, 2);
    try {
      atomicWrite(o.report, (fd) => writeFileSync(fd, json + "\n"));
    } catch (e) {
      throw new ReparamError(`--report ${o.report}: cannot write: ${String((e as Error)?.message ?? e).split("\n")[0]}`);
    }
  }
  return { ...result, neckForm };
}
