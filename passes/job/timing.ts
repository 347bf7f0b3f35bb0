// The one timing loop, for `bench`, `demo` and `--neck-form auto` alike: warm-up, then rounds
// in which every model runs once, the order rotating every round, so drift on a shared machine
// (other jobs, clock changes) hits all alike. Ratios are medians of per-round ratios, which are
// steadier than a ratio of medians when the machine is noisy.
// Owns: the loop, its statistics, and timed onnxruntime-node sessions. May import validate/ and below.
import type * as ort from "onnxruntime-node";
import { performance } from "node:perf_hooks";
import { ortModule } from "../runtime/node-runtime.ts";
import { ReparamError } from "../errors.ts";
import type { ProgressFn } from "../progress.ts";

export interface TimingOptions {
  /** Timed rounds (default 20). */
  runs?: number;
  /** Untimed runs of each model first (default 3). */
  warmup?: number;
  /** Stop early once the timed rounds took this long (at least 3 rounds run). */
  budgetMs?: number;
  onProgress?: ProgressFn;
}

export interface TimingStats { median: number; min: number; mean: number; times: number[] }

export interface TimingResult {
  rounds: number;
  warmup: number;
  a: TimingStats;
  b: TimingStats | null;
  /** Median over rounds of timeA / timeB; above 1 means B is faster. */
  ratio: number | null;
}

export type RunOnce = () => Promise<unknown>;

/**
 * The loop itself, for any number of things that can run once: `warmup` untimed runs of each,
 * then rounds in which each runs once, the order rotating by one every round (for two: A B,
 * then B A), so drift hits all alike. Milliseconds per run, per runner, in round order.
 */
export async function timeRotating(fs: RunOnce[], o: TimingOptions = {}): Promise<number[][]> {
  const runs = o.runs ?? 20, warmup = o.warmup ?? 3;
  if (!Number.isInteger(runs) || runs < 1) throw new ReparamError("--runs expects a whole number >= 1");
  if (!Number.isInteger(warmup) || warmup < 0) throw new ReparamError("--warmup expects a whole number >= 0");
  for (let i = 0; i < warmup; i++) {
    o.onProgress?.({ message: `warm-up ${i + 1}/${warmup}`, done: i, total: warmup });
    for (const f of fs) await f();
  }
  const times = fs.map(() => [] as number[]);
  const start = performance.now();
  for (let r = 0; r < runs; r++) {
    o.onProgress?.({ message: `round ${r + 1}/${runs}`, done: r, total: runs });
    for (let j = 0; j < fs.length; j++) {
      const i = (j + r) % fs.length;
      const t0 = performance.now();
      await fs[i]();
      times[i].push(performance.now() - t0);
    }
    if (o.budgetMs !== undefined && r >= 2 && performance.now() - start > o.budgetMs) break;
  }
  return times;
}

/** A (and B) timed by timeRotating, with statistics and the median of per-round ratios A/B. */
export async function timeAlternating(a: RunOnce, b: RunOnce | null, o: TimingOptions = {}): Promise<TimingResult> {
  return timingResult(await timeRotating(b ? [a, b] : [a], o), o);
}

/** Statistics of one or two runners' times from timeRotating. */
export function timingResult([ta, tb]: number[][], o: TimingOptions): TimingResult {
  return {
    rounds: ta.length, warmup: o.warmup ?? 3, a: stats(ta), b: tb ? stats(tb) : null,
    ratio: tb ? median(ta.map((t, i) => t / tb[i])) : null,
  };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median absolute deviation: the typical distance of one run from the median. */
export const mad = (v: readonly number[]): number => { const m = median(v); return median(v.map((x) => Math.abs(x - m))); };

function stats(times: number[]): TimingStats {
  return { median: median(times), min: Math.min(...times), mean: times.reduce((x, y) => x + y, 0) / times.length, times };
}

/** A model to time: its bytes, or a path (models with external data load from a file). */
export interface TimedModel { name: string; bytes?: Uint8Array; path?: string }

/**
 * Opens an onnxruntime-node session per model, times them with timeRotating on the same
 * feeds (each session takes the inputs it declares), and releases every session it opened.
 * Milliseconds per run, per model, in round order.
 */
export async function timeSessions(models: TimedModel[], feeds: Record<string, ort.Tensor>, so: ort.InferenceSession.SessionOptions, o: TimingOptions = {}): Promise<number[][]> {
  const { InferenceSession } = ortModule();
  const sessions: ort.InferenceSession[] = [];
  const first = (e: unknown) => String((e as Error)?.message ?? e).split("\n")[0];
  try {
    for (const m of models) {
      o.onProgress?.({ message: `creating an onnxruntime session for ${m.name}` });
      try {
        sessions.push(await (m.path ? InferenceSession.create(m.path, so) : InferenceSession.create(m.bytes!, so)));
      } catch (e) { throw new ReparamError(`onnxruntime cannot load ${m.name}: ${first(e)}`); }
    }
    const runners = sessions.map((s, i) => {
      const own = Object.fromEntries(s.inputNames.map((n) => [n, feeds[n]]));
      return async () => {
        try { await s.run(own); } catch (e) { throw new ReparamError(`onnxruntime cannot run ${models[i].name}: ${first(e)}`); }
      };
    });
    return await timeRotating(runners, o);
  } finally {
    for (const s of sessions) await s.release();
  }
}
