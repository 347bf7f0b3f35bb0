// Latency of one or two models in onnxruntime-node: warm-up, then rounds in which A and B
// each run once, in alternating order, so drift on a shared machine (other jobs, clock
// changes) hits both alike. The ratio is the median of per-round ratios A/B, which is
// steadier than a ratio of medians when the machine is noisy.
import type * as ort from "onnxruntime-node";
import { ortModule } from "../validate/runtime-node.ts";
import { performance } from "node:perf_hooks";
import { ReparamError } from "../errors.ts";
import type { ConstTensor } from "../ir/tensor.ts";
import { loadModel } from "../io/model-io.ts";
import type { ProgressFn } from "../progress.ts";
import { checkSameInterface, concreteInputs } from "../validate/model-inputs.ts";
import { makeFeeds, nodeRuntime, type ModelSource } from "../validate/validate.ts";

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
  const [ta, tb] = await timeRotating(b ? [a, b] : [a], o);
  return {
    rounds: ta.length, warmup: o.warmup ?? 3, a: stats(ta), b: b ? stats(tb) : null,
    ratio: b ? median(ta.map((t, i) => t / tb[i])) : null,
  };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function stats(times: number[]): TimingStats {
  return { median: median(times), min: Math.min(...times), mean: times.reduce((x, y) => x + y, 0) / times.length, times };
}

export interface BenchModelsOptions extends TimingOptions {
  /** onnxruntime intra-op threads (default: onnxruntime's own choice, one per core). */
  threads?: number;
  /** Concrete shapes for symbolic input dims (default batch 1, 640x640 images). */
  inputShapes?: Map<string, number[]>;
  /** Real input data; other inputs get seeded uniform [0, 1) values (seed 0). */
  inputs?: Map<string, ConstTensor>;
}

export interface BenchModelsResult extends TimingResult {
  threads: number | null;
  inputs: Array<{ name: string; shape: number[] }>;
}

const label = (s: ModelSource, fallback: string) => s.path ?? fallback;

/** Times model A (and B, alternating) on the same inputs, with graph optimization "all" as deployed. */
export async function benchModels(a: ModelSource, b: ModelSource | null = null, o: BenchModelsOptions = {}): Promise<BenchModelsResult> {
  if (o.threads !== undefined && !(Number.isInteger(o.threads) && o.threads >= 1)) throw new ReparamError("--threads expects a whole number >= 1");
  const proto = (s: ModelSource) => loadModel(s.path ?? s.bytes!).proto;
  o.onProgress?.({ message: `loading ${label(a, "A")}` });
  const ma = proto(a);
  if (b) checkSameInterface(ma, proto(b), [label(a, "A"), label(b, "B")]);
  const given = o.inputs ?? new Map<string, ConstTensor>();
  const inputs = concreteInputs(ma, o.inputShapes ?? new Map(), given);
  // nodeRuntime's tensors are onnxruntime-node's own.
  const feeds = makeFeeds(nodeRuntime, inputs, 0, given) as unknown as Record<string, ort.Tensor>;
  const opts: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: "all", logSeverityLevel: 3, ...(o.threads ? { intraOpNumThreads: o.threads } : {}) };
  const open = async (s: ModelSource, which: string) => {
    o.onProgress?.({ message: `creating an onnxruntime session for ${which}` });
    try {
      const { InferenceSession } = ortModule();
      return await (s.path ? InferenceSession.create(s.path, opts) : InferenceSession.create(s.bytes!, opts));
    } catch (e) { throw new ReparamError(`onnxruntime cannot load ${which}: ${String((e as Error)?.message ?? e).split("\n")[0]}`); }
  };
  const sa = await open(a, label(a, "A"));
  const sb = b ? await open(b, label(b, "B")).catch(async (e) => { await sa.release(); throw e; }) : null;
  const runner = (s: ort.InferenceSession, which: string) => {
    const own = Object.fromEntries(s.inputNames.map((n) => [n, feeds[n]]));
    return async () => {
      try { await s.run(own); } catch (e) { throw new ReparamError(`onnxruntime cannot run ${which}: ${String((e as Error)?.message ?? e).split("\n")[0]}`); }
    };
  };
  try {
    const t = await timeAlternating(runner(sa, label(a, "A")), sb && runner(sb, label(b!, "B")), o);
    return { ...t, threads: o.threads ?? null, inputs: inputs.map(({ name, shape }) => ({ name, shape })) };
  } finally {
    await sa.release();
    await sb?.release();
  }
}
