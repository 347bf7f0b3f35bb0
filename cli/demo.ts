// What `demo` adds after the proof: a few seconds of timing, original against rewritten,
// so the output shows what the rewrite is for.
import { benchModels } from "../passes/job/bench-models.ts";
import type { ProgressFn } from "../passes/progress.ts";
import { benchJson } from "./bench.ts";

const DEMO_TIMING = { runs: 60, warmup: 3, budgetMs: 3000 };

export async function demoSpeedup(original: string, rewritten: string, onProgress?: ProgressFn): Promise<{ json: Record<string, unknown>; text: string }> {
  const r = await benchModels({ path: original }, { path: rewritten }, { ...DEMO_TIMING, onProgress: onProgress && ((p) => onProgress({ ...p, message: `timing original vs rewritten: ${p.message}` })) });
  const ms = (t: number) => `${t.toFixed(1)} ms`;
  const text = `speed-up: ${r.ratio!.toFixed(2)}x (original ${ms(r.a.median)}, rewritten ${ms(r.b!.median)}; median of ${r.rounds} alternating rounds, onnxruntime-node CPU)\n`;
  return { json: { speed: benchJson(r, original, rewritten) }, text };
}
