// `--neck-form auto`: the fastest exact neck form is a property of the runtime and the
// machine (a grouped Conv with a max over a middle axis, or a MatMul with the max over the
// last axis; bench/neck-forms.ts), so it is measured: the pipeline runs once per form on a
// fresh load of the model, the three whole rewritten models are timed in onnxruntime-node in
// alternating rounds, and the fastest median wins. Every timing and the noise go in the report.
import type * as Ort from "onnxruntime-node";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeModel } from "../io/codec.ts";
import { hasExternalData, loadModel, saveModel, type LoadedModel } from "../io/model-io.ts";
import type { ValueInfo } from "../io/onnx-types.ts";
import { declaredDims } from "../ir/graph-inputs.ts";
import { reparamModel, type ReparamOptions, type ReparamResult } from "../pipeline/reparam-model.ts";
import type { NeckLayout } from "../rules/neck-emit.ts";
import { makeFeeds, nodeRuntime } from "../validate/validate.ts";
import { mad, median, timeSessions, type TimedModel } from "./timing.ts";

/** The settings of `npm run bench`: CPU, 2 intra-op threads, graph optimization 'all', sequential. */
export const TIMING_SETTINGS = { threads: 2, optimization: "all" as const };

export interface TimingOptions { warmup: number; rounds: number }

/** Milliseconds per run, per model, in round order. */
export type Samples = Map<string, number[]>;

/** How the three models are timed; tests pass their own. */
export type Timer = (models: TimedModel[], feeds: Record<string, Ort.Tensor>, opts: TimingOptions) => Promise<Samples>;

export const timeModels: Timer = async (models, feeds, opts) => {
  const so: Ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: TIMING_SETTINGS.optimization, intraOpNumThreads: TIMING_SETTINGS.threads,
    interOpNumThreads: 1, executionMode: "sequential", logSeverityLevel: 3,
  };
  const samples = await timeSessions(models, feeds, so, { runs: opts.rounds, warmup: opts.warmup });
  return new Map(models.map((m, i) => [m.name, samples[i]]));
};

export const NECK_FORMS: readonly NeckLayout[] = ["conv", "per-head", "matmul"];

export interface FormTiming { medianMs: number; minMs: number; madMs: number; samplesMs: number[] }

export interface NeckFormChoice {
  chosen: NeckLayout;
  /** Why: "fastest" (timed) or the reason nothing was timed. */
  reason: string;
  timings: Partial<Record<NeckLayout, FormTiming>>;
  /** Largest median absolute deviation of one run among the forms, in ms. */
  noiseMs: number;
  rounds: number;
  warmup: number;
  threads: number;
  optimization: string;
  inputs: Array<{ name: string; shape: number[] }>;
}

/**
 * The selection rule: the fastest median. Every form within `noise` of it is as fast as the
 * measurement can tell; the fastest median is among them by construction, so the choice is
 * never slower than the fastest by more than the noise.
 */
export function selectForm(samples: Map<NeckLayout, number[]>): { chosen: NeckLayout; timings: Partial<Record<NeckLayout, FormTiming>>; noiseMs: number } {
  const timings: Partial<Record<NeckLayout, FormTiming>> = {};
  let chosen: NeckLayout | null = null;
  for (const [form, s] of samples) {
    if (!s.length) continue;
    timings[form] = { medianMs: median(s), minMs: Math.min(...s), madMs: mad(s), samplesMs: s };
    if (chosen === null || timings[form]!.medianMs < timings[chosen]!.medianMs) chosen = form;
  }
  if (chosen === null) throw new Error("no timings to choose a neck form from");
  const noiseMs = Math.max(...Object.values(timings).map((t) => t!.madMs));
  return { chosen, timings, noiseMs };
}

export interface AutoResult { model: LoadedModel; result: ReparamResult; originalInputs: ValueInfo[]; choice: NeckFormChoice }

export async function chooseNeckForm(input: string, opts: ReparamOptions, timing: Partial<TimingOptions> = {}, timer: Timer = timeModels): Promise<AutoResult> {
  const t: TimingOptions = { warmup: timing.warmup ?? 2, rounds: timing.rounds ?? 7 };
  const runs = NECK_FORMS.map((form) => {
    const model = loadModel(input);
    const originalInputs = [...(model.proto.graph!.input ?? [])];
    return { form, model, originalInputs, result: reparamModel(model, { ...opts, neckForm: form }) };
  });
  const base = { rounds: t.rounds, warmup: t.warmup, threads: TIMING_SETTINGS.threads, optimization: TIMING_SETTINGS.optimization };
  const necks = runs[0].result.sites.filter((s) => s.kind === "neck" && s.status === "rewritten").length;
  if (necks === 0) {
    // All three forms are the same model: nothing to measure.
    return { ...runs[0], choice: { ...base, chosen: "conv", reason: "no neck site rewritten: the forms do not differ", timings: {}, noiseMs: 0, inputs: [] } };
  }
  const rewritten = runs[0].model.proto.graph!.input ?? [];
  const inputs = rewritten.filter((v) => declaredDims(v)).map((v) => ({ name: v.name!, dtype: v.type!.tensor_type!.elem_type!, shape: runs[0].result.probe.a.get(v.name!)! }));
  const feeds = makeFeeds(nodeRuntime, inputs, 0, new Map()) as unknown as Parameters<Timer>[1];
  const dir = runs.some((r) => hasExternalData(r.model.proto)) ? mkdtempSync(join(tmpdir(), "onnx-reparam-auto-")) : null;
  try {
    const models: TimedModel[] = runs.map((r) => {
      if (!dir) return { name: r.form, bytes: encodeModel(r.model.proto) };
      const path = join(dir, `${r.form}.onnx`);
      saveModel(r.model, path);
      return { name: r.form, path };
    });
    const samples = await timer(models, feeds, t);
    const picked = selectForm(new Map(NECK_FORMS.map((f) => [f, samples.get(f) ?? []])));
    const run = runs.find((r) => r.form === picked.chosen)!;
    return { ...run, choice: { ...base, ...picked, reason: "fastest median", inputs: inputs.map(({ name, shape }) => ({ name, shape })) } };
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
