// Timing for `--neck-form auto`: sessions with the settings of `npm run bench` (CPU, 2
// intra-op threads, graph optimization 'all', sequential), timed by the shared rotating
// loop (passes/bench/timing.ts).
import type * as Ort from "onnxruntime-node";
import { median, timeRotating } from "../bench/timing.ts";

export { median };

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
    const runners = sessions.map((s) => { const fed = Object.fromEntries(s.inputNames.map((n) => [n, feeds[n]])); return () => s.run(fed); });
    const samples = await timeRotating(runners, { runs: opts.rounds, warmup: opts.warmup });
    return new Map(models.map((m, i) => [m.name, samples[i]]));
  } finally {
    for (const s of sessions) await s.release();
  }
};

/** Median absolute deviation: the typical distance of one run from the median. */
export const mad = (v: readonly number[]): number => { const m = median(v); return median(v.map((x) => Math.abs(x - m))); };
