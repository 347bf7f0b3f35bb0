// The CLI's job as a library call: load -> reparam -> validate -> write, with the
// exit-code contract decided in reparam-job.ts (shared with the page) so that tests can
// drive it without a subprocess. This file holds what needs a file system.
import { resolve } from "node:path";
import { writeFileSync } from "node:fs";
import { loadModel, saveModel, atomicWrite } from "./io/model-io.ts";
import { readNpy } from "./io/npy.ts";
import { checkOutputPaths } from "./output-paths.ts";
import type { SiteSelection } from "./pipeline.ts";
import type { Tolerance } from "./validate/compare-models.ts";
import { nodeProofEnv } from "./validate/proof-env-node.ts";
import { ReparamError } from "./errors.ts";
import type { NeckLayout } from "./rules/neck-emit.ts";
import { readNamesFile } from "./vocab/names.ts";
import { checkTolerance, reparamJob, type ReparamFileResult } from "./reparam-job.ts";

export type { ReparamFileResult };

export interface ReparamFileOptions {
  input: string;
  output: string;
  textEmbed?: string;
  textInput?: string;
  sites?: SiteSelection;
  inputShapes?: Map<string, number[]>;
  neckForm?: NeckLayout;
  validate?: boolean;
  force?: boolean;
  tolerance?: Partial<Tolerance>;
  report?: string;
  /** Write initializers of 1 KiB and more to this file beside the output. */
  externalData?: string;
  /** Class names for the model's `names` metadata (one per line, or a JSON array). */
  names?: string;
}

export async function reparamFile(o: ReparamFileOptions): Promise<ReparamFileResult> {
  checkTolerance(o.tolerance);
  checkOutputPaths({ input: o.input, output: o.output, report: o.report, externalData: o.externalData });
  const model = loadModel(o.input);
  const embed = o.textEmbed ? { value: readNpy(o.textEmbed), source: o.textEmbed } : undefined;
  const names = o.names ? readNamesFile(o.names) : null;
  if (names && !embed) throw new ReparamError("--names sets the class names of a new vocabulary: give --text-embed too");
  const { report, ...result } = await reparamJob(model, { ...o, embed, names }, nodeProofEnv(o.input), () =>
    saveModel(model, resolve(o.output), o.externalData ? { externalData: { location: o.externalData } } : {}));
  if (o.report) {
    const json = JSON.stringify(report, null, 2);
    try {
      atomicWrite(o.report, (fd) => writeFileSync(fd, json + "\n"));
    } catch (e) {
      throw new ReparamError(`--report ${o.report}: cannot write: ${String((e as Error)?.message ?? e).split("\n")[0]}`);
    }
  }
  return result;
}
