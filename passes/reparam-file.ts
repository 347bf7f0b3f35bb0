// The CLI's job as a library call: load -> reparam -> validate -> write, with the
// exit-code contract decided here so that tests can drive it without a subprocess.
import { resolve } from "node:path";
import { writeFileSync } from "node:fs";
import { loadModel, saveModel, atomicWrite } from "./io/model-io.ts";
import { readNpy } from "./io/npy.ts";
import { checkOutputPaths } from "./output-paths.ts";
import { reparamModel, type ReparamOptions, type SiteSelection } from "./pipeline.ts";
import type { ValidationReport, Tolerance } from "./validate/validate.ts";
import { EXIT, ReparamError } from "./errors.ts";
import type { SiteReport } from "./rules/site.ts";
import type { NeckLayout } from "./rules/neck-emit.ts";
import type { NeckFormChoice } from "./neck-auto/choose-neck-form.ts";

export interface ReparamFileOptions {
  input: string;
  output: string;
  textEmbed?: string;
  textInput?: string;
  sites?: SiteSelection;
  inputShapes?: Map<string, number[]>;
  /** A neck form, or "auto": time the three in onnxruntime and keep the fastest (passes/neck-auto). */
  neckForm?: NeckLayout | "auto";
  validate?: boolean;
  force?: boolean;
  tolerance?: Partial<Tolerance>;
  report?: string;
  /** Write initializers of 1 KiB and more to this file beside the output. */
  externalData?: string;
}

export interface ReparamFileResult {
  exitCode: number;
  message: string;
  sites: SiteReport[];
  unmatched: Array<{ node: string; reason: string }>;
  validation: ValidationReport | null;
  written: boolean;
  /** --neck-form auto: the timings and the form kept (null otherwise). */
  neckForm?: NeckFormChoice | null;
}

export async function reparamFile(o: ReparamFileOptions): Promise<ReparamFileResult> {
  // A NaN or negative tolerance would fail every output: a usage error, not a failed proof.
  for (const [name, v] of Object.entries(o.tolerance ?? {})) {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new ReparamError(`--${name} expects a finite number >= 0`);
  }
  checkOutputPaths({ input: o.input, output: o.output, report: o.report, externalData: o.externalData });
  const embed = o.textEmbed ? { value: readNpy(o.textEmbed), source: o.textEmbed } : undefined;
  const opts: ReparamOptions = { sites: o.sites, textEmbed: embed, textInput: o.textInput, inputShapes: o.inputShapes };
  // --neck-form auto (issue 10): the pipeline once per neck form, timed, the fastest kept.
  const { model, originalInputs, result, neckForm } = o.neckForm === "auto"
    ? await chooseNeckFormLazily(o.input, opts)
    : rewriteOnce(o.input, { ...opts, neckForm: o.neckForm });
  const rewritten = result.sites.filter((s) => s.status === "rewritten").length;
  const finish = (r: Omit<ReparamFileResult, "sites" | "unmatched">): ReparamFileResult => {
    const full = { ...r, sites: result.sites, unmatched: result.unmatched, neckForm };
    if (o.report) {
      const json = JSON.stringify({ input: o.input, output: r.written ? o.output : null, exitCode: r.exitCode, sites: result.sites, unmatched: result.unmatched, removed: result.removed, boundTextInput: result.bound?.name ?? null, validation: r.validation, ...(neckForm ? { neckForm } : {}) }, null, 2);
      try {
        atomicWrite(o.report, (fd) => writeFileSync(fd, json + "\n"));
      } catch (e) {
        throw new ReparamError(`--report ${o.report}: cannot write: ${String((e as Error)?.message ?? e).split("\n")[0]}`);
      }
    }
    return full;
  };
  if (rewritten === 0) {
    return finish({ exitCode: EXIT.NOTHING_TO_DO, message: `nothing to rewrite: ${describeSites(result.sites, o.sites ?? "all")}`, validation: null, written: false });
  }

  // onnxruntime is loaded only when used: --no-validate runs without its ~12 MB and start-up.
  const validation = o.validate === false ? null : await (await import("./validate/prove-rewrite.ts")).proveRewrite(o.input, model, originalInputs, result, o.tolerance);
  const passed = validation?.passed ?? true;
  if (!passed && !o.force) {
    return finish({ exitCode: EXIT.VALIDATION_FAILED, message: `validation failed (${failedOutputs(validation!)}); nothing written (--force writes anyway)`, validation, written: false });
  }
  saveModel(model, resolve(o.output), o.externalData ? { externalData: { location: o.externalData } } : {});
  return finish({
    exitCode: passed ? EXIT.OK : EXIT.VALIDATION_FAILED,
    message: passed ? `rewrote ${rewritten} site(s) into ${o.output}${validation ? " (validated)" : " (not validated)"}` : `validation failed (${failedOutputs(validation!)}); written anyway (--force)`,
    validation, written: true,
  });
}

function rewriteOnce(input: string, opts: ReparamOptions) {
  const model = loadModel(input);
  const originalInputs = [...(model.proto.graph!.input ?? [])];
  return { model, originalInputs, result: reparamModel(model, opts), neckForm: null };
}

// Loaded on use, like validation: it needs onnxruntime.
async function chooseNeckFormLazily(input: string, opts: ReparamOptions) {
  const { model, originalInputs, result, choice } = await (await import("./neck-auto/choose-neck-form.ts")).chooseNeckForm(input, opts);
  return { model, originalInputs, result, neckForm: choice };
}

function describeSites(sites: SiteReport[], selection: string): string {
  if (sites.length === 0) return selection === "all" ? "no head or neck contraction found" : `no ${selection} contraction found (--sites ${selection})`;
  const reasons = new Map<string, number>();
  for (const s of sites) reasons.set(`${s.kind}: ${s.reason}`, (reasons.get(`${s.kind}: ${s.reason}`) ?? 0) + 1);
  return [...reasons].map(([r, n]) => `${n} site(s) skipped, ${r}`).join("; ");
}

function failedOutputs(v: ValidationReport): string {
  return v.outputs.filter((o) => !o.passed).map((o) => `${o.name}: max abs diff ${o.maxAbsDiff.toExponential(2)}, needs atol ${o.minPassingAtol.toExponential(2)} > ${v.atol}`).join("; ");
}
