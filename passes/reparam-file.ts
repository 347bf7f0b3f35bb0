// The CLI's job as a library call: load -> reparam -> validate -> write, with the
// exit-code contract decided here so that tests can drive it without a subprocess.
import { resolve } from "node:path";
import { writeFileSync } from "node:fs";
import { loadModel, saveModel, atomicWrite } from "./io/model-io.ts";
import { readNpy } from "./io/npy.ts";
import { checkOutputPaths } from "./output-paths.ts";
import { reparamModel, type ReparamOptions, type SiteSelection } from "./pipeline.ts";
import type { ValidationReport, Tolerance } from "./validate/validate.ts";
import { proveRewrite } from "./validate/prove-rewrite.ts";
import { EXIT, ReparamError } from "./errors.ts";
import type { SiteReport } from "./rules/site.ts";
import type { NeckLayout } from "./rules/neck-emit.ts";
import { readNamesFile } from "./vocab/names-list.ts";
import { embedClasses } from "./text-encoder/embed.ts";
import { DT } from "./io/onnx-types.ts";
import { describeVocabulary, type VocabularyReport } from "./vocab/report.ts";
import type { ProgressFn } from "./progress.ts";

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
  /** A CLIP text encoder folder (see `embed`): embeds `names` and uses them as the text. */
  encoder?: string;
  encoderModel?: string;
  /** Called as the work moves on (loading, rewriting, validating, saving); the library never prints. */
  onProgress?: ProgressFn;
}

export interface ReparamFileResult {
  exitCode: number;
  message: string;
  sites: SiteReport[];
  unmatched: Array<{ node: string; reason: string }>;
  validation: ValidationReport | null;
  written: boolean;
  /** Non-fatal findings (zero rows, duplicate names, stale names): the CLI prints them on stderr. */
  warnings: string[];
  vocabulary: VocabularyReport | null;
}

export async function reparamFile(o: ReparamFileOptions): Promise<ReparamFileResult> {
  // A NaN or negative tolerance would fail every output: a usage error, not a failed proof.
  for (const [name, v] of Object.entries(o.tolerance ?? {})) {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new ReparamError(`--${name} expects a finite number >= 0`);
  }
  checkOutputPaths({ input: o.input, output: o.output, report: o.report, externalData: o.externalData });
  o.onProgress?.({ message: `loading ${o.input}` });
  const model = loadModel(o.input);
  const graph = model.proto.graph!;
  const originalInputs = [...(graph.input ?? [])];
  if (o.encoder && o.textEmbed) throw new ReparamError("--encoder computes the text embeddings --text-embed would give: use one of them");
  if (o.encoderModel && !o.encoder) throw new ReparamError("--encoder-model names the text model inside --encoder: give --encoder too");
  const names = o.names ? readNamesFile(o.names) : null;
  if (o.encoder && !names) throw new ReparamError("--encoder embeds the class names of --names: give --names too");
  if (names && !o.textEmbed && !o.encoder) throw new ReparamError("--names sets the class names of a new vocabulary: give --text-embed (or --encoder) too");
  const encoded = o.encoder ? await embedClasses(names!.names, { encoder: o.encoder, encoderModel: o.encoderModel }) : null;
  const embed = o.textEmbed ? { value: readNpy(o.textEmbed), source: o.textEmbed }
    : encoded ? { value: { dtype: DT.FLOAT, dims: encoded.dims, data: Float64Array.from(encoded.data) }, source: `--encoder ${o.encoder}` } : undefined;
  const opts: ReparamOptions = { sites: o.sites, textEmbed: embed, textInput: o.textInput, inputShapes: o.inputShapes, neckForm: o.neckForm, keepBookkept: o.validate !== false };
  o.onProgress?.({ message: "finding sites and folding the text path" });
  const result = reparamModel(model, opts);
  const warnings = [...(encoded?.warnings ?? []), ...result.warnings, ...(names?.warnings ?? [])];
  const vocabulary = result.vocabulary || result.bound ? describeVocabulary(model, result, names?.names ?? null, embed!.source, warnings) : null;
  const rewritten = result.sites.filter((s) => s.status === "rewritten").length;
  const finish = (r: Omit<ReparamFileResult, "sites" | "unmatched" | "warnings" | "vocabulary">): ReparamFileResult => {
    if (vocabulary) vocabulary.proof = r.validation?.proof ?? (r.validation ? "direct" : null);
    const full = { ...r, sites: result.sites, unmatched: result.unmatched, warnings, vocabulary };
    if (o.report) {
      const json = JSON.stringify({ input: o.input, output: r.written ? o.output : null, exitCode: r.exitCode, sites: result.sites, unmatched: result.unmatched, removed: result.removed, boundTextInput: result.bound?.name ?? null, vocabulary, warnings, validation: r.validation }, null, 2);
      try {
        atomicWrite(o.report, (fd) => writeFileSync(fd, json + "\n"));
      } catch (e) {
        throw new ReparamError(`--report ${o.report}: cannot write: ${String((e as Error)?.message ?? e).split("\n")[0]}`);
      }
    }
    return full;
  };
  // A new vocabulary is worth writing even where no site could be rewritten (v1 image pooling).
  if (rewritten === 0 && !result.vocabulary) {
    return finish({ exitCode: EXIT.NOTHING_TO_DO, message: `nothing to rewrite: ${describeSites(result.sites, o.sites ?? "all")}`, validation: null, written: false });
  }

  if (o.validate !== false) o.onProgress?.({ message: "validating in onnxruntime (original and rewritten model)" });
  const validation = o.validate === false ? null : await proveRewrite(o.input, model, originalInputs, result, o.tolerance, o.onProgress);
  const passed = validation?.passed ?? true;
  if (!passed && !o.force) {
    return finish({ exitCode: EXIT.VALIDATION_FAILED, message: `validation failed (${failedOutputs(validation!)}); nothing written (--force writes anyway)`, validation, written: false });
  }
  o.onProgress?.({ message: `saving ${o.output}` });
  saveModel(model, resolve(o.output), o.externalData ? { externalData: { location: o.externalData } } : {});
  return finish({
    exitCode: passed ? EXIT.OK : EXIT.VALIDATION_FAILED,
    message: passed ? `${vocabulary ? `retargeted to ${vocabulary.to} classes and ` : ""}rewrote ${rewritten} site(s) into ${o.output}${validation ? " (validated)" : " (not validated)"}` : `validation failed (${failedOutputs(validation!)}); written anyway (--force)`,
    validation, written: true,
  });
}

function describeSites(sites: SiteReport[], selection: string): string {
  if (sites.length === 0) return selection === "all" ? "no head or neck contraction found" : `no ${selection} contraction found (--sites ${selection})`;
  const reasons = new Map<string, number>();
  for (const s of sites) reasons.set(`${s.kind}: ${s.reason}`, (reasons.get(`${s.kind}: ${s.reason}`) ?? 0) + 1);
  return [...reasons].map(([r, n]) => `${n} site(s) skipped, ${r}`).join("; ");
}

function failedOutputs(v: ValidationReport): string {
  const own = v.outputs.filter((o) => !o.passed).map((o) => `${o.name}: max abs diff ${o.maxAbsDiff.toExponential(2)}, needs atol ${o.minPassingAtol.toExponential(2)} > ${v.atol}`);
  const bk = v.bookkeeping && !v.bookkeeping.passed ? [`class bookkeeping: ${failedOutputs(v.bookkeeping)}`] : [];
  return [...bk, ...own].join("; ");
}
