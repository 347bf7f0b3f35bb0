// Room job/: what a front end runs: the job (exit code, message, report) shared by the file and
// bytes entry points, output paths, --neck-form auto, the one timing loop and bench.
// May import validate/ and below; cli/ and web/ import it.
//
// The CLI's job without the file system: a decoded model in, the decision (exit code,
// message, report) out, and `write` called when the model is to be written. reparamFile
// (Node: paths, atomic writes) and reparamBytes (the page: bytes) both wrap it, so the two
// cannot drift apart.
import type { LoadedModel } from "../io/model-io.ts";
import { reparamModel, type ReparamOptions, type ReparamResult, type SiteSelection } from "../pipeline/reparam-model.ts";
import type { ValueInfo } from "../io/onnx-types.ts";
import type { Tolerance, ValidationReport } from "../validate/compare-models.ts";
import { proveRewrite } from "../validate/prove-rewrite.ts";
import type { ProofEnv } from "../validate/proof-env.ts";
import { EXIT, plural, ReparamError } from "../errors.ts";
import { shapesDiffer } from "../validate/compare.ts";
import type { SiteReport } from "../rules/site.ts";
import type { NeckLayout } from "../rules/neck-emit.ts";
import type { ConstTensor } from "../ir/tensor.ts";
import type { NameList } from "../vocab/names-text.ts";
import { describeVocabulary, modelNames, type VocabularyReport } from "../vocab/report.ts";

/** What every front end (files, bytes) passes to the job as it came. */
export interface PassOptions {
  textInput?: string;
  sites?: SiteSelection;
  inputShapes?: Map<string, number[]>;
  neckForm?: NeckLayout;
  validate?: boolean;
  force?: boolean;
  tolerance?: Partial<Tolerance>;
  /** Keep only these of the model's classes, in this order: names (looked up in its `names` metadata) or 0-based indices. */
  classes?: Array<string | number>;
}

export interface ReparamJobOptions extends PassOptions {
  /** How the input and output are named in messages and the report (paths, or file names in the page). */
  input: string;
  output: string;
  embed?: { value: ConstTensor; source: string };
  names?: NameList | null;
  /** Findings made before the job (the encoder's, for one): they lead the report's warnings. */
  warnings?: string[];
  /** Called once the sites are rewritten, before the proof. */
  onRewritten?: () => void;
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

/** The JSON report (`--report`), the same from the CLI and the page. */
export interface ReparamReport {
  input: string; output: string | null; exitCode: number;
  sites: SiteReport[]; unmatched: Array<{ node: string; reason: string }>;
  removed: { nodes: number; initializers: number }; boundTextInput: string | null;
  vocabulary: VocabularyReport | null; warnings: string[]; validation: ValidationReport | null;
}

/** A NaN or negative tolerance would fail every output: a usage error, not a failed proof. */
export function checkTolerance(tolerance: Partial<Tolerance> = {}): void {
  for (const [name, v] of Object.entries(tolerance)) {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new ReparamError(`--${name} expects a finite number >= 0`);
  }
}

/** The pass's options as the job runs it (a caller that ran the pass itself, e.g. --neck-form auto, uses the same). */
export const jobPassOptions = (o: PassOptions & { embed?: ReparamJobOptions["embed"] }): ReparamOptions =>
  ({ sites: o.sites, classes: o.classes, textEmbed: o.embed, textInput: o.textInput, inputShapes: o.inputShapes, neckForm: o.neckForm, keepBookkept: o.validate !== false });

/**
 * `done`: the pass already ran on `model` (with jobPassOptions) and these were its result and
 * the model's inputs before it; otherwise the job runs it.
 */
export async function reparamJob(model: LoadedModel, o: ReparamJobOptions, env: ProofEnv, write: () => void, done?: { result: ReparamResult; originalInputs: ValueInfo[] }): Promise<ReparamFileResult & { report: ReparamReport }> {
  const originalInputs = done?.originalInputs ?? [...(model.proto.graph!.input ?? [])];
  const { embed, names = null } = o;
  const result = done?.result ?? reparamModel(model, jobPassOptions(o));
  const warnings = [...(o.warnings ?? []), ...result.warnings, ...(names?.warnings ?? [])];
  // A selection names its classes after the model's own, unless the caller named them.
  const own = modelNames(model).names, picked = result.vocabulary?.selected;
  const newNames = names?.names ?? (picked && own?.length === result.vocabulary!.from ? picked.map((i) => own[i]) : null);
  const vocabulary = result.vocabulary || result.bound ? describeVocabulary(model, result, newNames, embed?.source ?? result.vocabulary!.source, warnings) : null;
  const rewritten = result.sites.filter((s) => s.status === "rewritten").length;
  const finish = (r: Omit<ReparamFileResult, "sites" | "unmatched" | "warnings" | "vocabulary">) => {
    if (vocabulary) vocabulary.proof = r.validation?.proof ?? (r.validation ? "direct" : null);
    const report: ReparamReport = { input: o.input, output: r.written ? o.output : null, exitCode: r.exitCode, sites: result.sites, unmatched: result.unmatched, removed: result.removed, boundTextInput: result.bound?.name ?? null, vocabulary, warnings, validation: r.validation };
    return { ...r, sites: result.sites, unmatched: result.unmatched, warnings, vocabulary, report };
  };
  // A new vocabulary is worth writing even where no site could be rewritten (v1 image pooling).
  if (rewritten === 0 && !result.vocabulary) {
    return finish({ exitCode: EXIT.NOTHING_TO_DO, message: `nothing to rewrite: ${describeSites(result.sites, o.sites ?? "all")}`, validation: null, written: false });
  }
  o.onRewritten?.();
  const validation = o.validate === false ? null : await proveRewrite(env, model, originalInputs, result, o.tolerance);
  const passed = validation?.passed ?? true;
  if (!passed && !o.force) {
    return finish({ exitCode: EXIT.VALIDATION_FAILED, message: `validation failed (${failedOutputs(validation!)}); nothing written (--force writes anyway)`, validation, written: false });
  }
  write();
  return finish({
    exitCode: passed ? EXIT.OK : EXIT.VALIDATION_FAILED,
    message: passed ? `${result.vocabulary ? (result.vocabulary.selected ? `kept ${result.vocabulary.to} of ${plural(result.vocabulary.from, "class", "classes")} and ` : `retargeted to ${plural(result.vocabulary.to, "class", "classes")} and `) : ""}rewrote ${plural(rewritten, "site")} into ${o.output}${validation ? " (validated)" : " (not validated)"}` : `validation failed (${failedOutputs(validation!)}); written anyway (--force)`,
    validation, written: true,
  });
}

function describeSites(sites: SiteReport[], selection: string): string {
  if (sites.length === 0) return selection === "all" ? "no head or neck contraction found" : `no ${selection} contraction found (--sites ${selection})`;
  const reasons = new Map<string, number>();
  for (const s of sites) reasons.set(`${s.kind}: ${s.reason}`, (reasons.get(`${s.kind}: ${s.reason}`) ?? 0) + 1);
  return [...reasons].map(([r, n]) => `${plural(n, "site")} skipped, ${r}`).join("; ");
}

function failedOutputs(v: ValidationReport): string {
  const own = v.outputs.filter((o) => !o.passed).map((o) => (o.shapeMismatch
    ? `${o.name}: ${shapesDiffer(o.shapeMismatch, "original", "rewritten")}`
    : `${o.name}: max abs diff ${o.maxAbsDiff.toExponential(2)}, needs atol ${o.minPassingAtol.toExponential(2)} > ${v.atol}`));
  const bk = v.bookkeeping && !v.bookkeeping.passed ? [`class bookkeeping: ${failedOutputs(v.bookkeeping)}`] : [];
  return [...bk, ...own].join("; ");
}
