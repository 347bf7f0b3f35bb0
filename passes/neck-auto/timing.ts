// A small onnxruntime timing harness for `--neck-form auto`: the settings of `npm run bench`
// (CPU, 2 intra-op threads, graph optimization 'all', sequential), warm-up runs, then rounds
// in which every model runs once, the order rotating each round so that a change in machine
// load hits all models alike. (bench/ has its own copy in models/build/bench-kit.ts; a shared
// harness can replace both.)
import type * as Ort from "onnxruntime-node";

export const TIMING_SETTINGS = { threads: 2, optimization: "all" as const };

export interface TimingOptions { warmup: number; rounds: number }

/** A model to time: its bytes, or a path (models with external data load from a file). */
export interface TimedModel { name: string; bytes?: Uint8Array; path?: string }

/** Milliseconds per run, per model, in round order. */
export type Samples = Map<string, number[]>;

export type Timer = (models: TimedModel[], feeds: Record<string, Ort.Tensor>, opts: TimingOptions) => Promise<Samples>;

export const timeModels: Timer = async (models, feeds, opts) => {
  const ort = await import("onnxruntime-node");
  const sessions: Ort.InferenceSession[] = [];
  try {
    for (const m of models) {
      const so: Ort.InferenceSession.SessionOptions = {
        graphOptimizationLevel: TIMING_SETTINGS.optimization, intraOpNumThreads: TIMING_SETTINGS.threads,
        interOpNumThreads: 1, executionMode: "sequential", logSeverityLevel: 3,
      };
      sessions.push(await (m.path ? ort.InferenceSession.create(m.path, so) : ort.InferenceSession.create(m.bytes!, so)));
    }
    const fed = sessions.map((s) => Object.fromEntries(s.inputNames.map((n) => [n, feeds[n]])));
    for (let i = 0; i < sessions.length; i++) for (let w = 0; w < opts.warmup; w++) await sessions[i].run(fed[i]);
    const samples = models.map(() => [] as number[]);
    for (let r = 0; r < opts.rounds; r++) {
      for (let j = 0; j < models.length; j++) {
        const i = (j + r) % models.length;
        const t0 = process.hrtime.bigint();
        await sessions[i].run(fed[i]);
        samples[i].push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }
    return new Map(models.map((m, i) => [m.name, samples[i]]));
  } finally {
    for (const s of sessions) await s.release();
  }
};

export const median = (v: readonly number[]): number => {
  const s = [...v].sort((a, b) => a - b), h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};

/** Median absolute deviation: the typical distance of one run from the median. */
export const mad = (v: readonly number[]): number => { const m = median(v); return median(v.map((x) => Math.abs(x - m))); };
