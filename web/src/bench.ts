// A short in-page benchmark: original and rewritten model in onnxruntime-web on the same
// seeded inputs, alternated so that both see the same machine state; medians.
import { makeFeeds, type ValidationInput } from "../../passes/validate/compare-models.ts";
import type { OrtRuntime, OrtSession } from "../../passes/runtime/ort-runtime.ts";
import type { BenchResult } from "./protocol.ts";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchmark(rt: OrtRuntime, original: Uint8Array, rewritten: Uint8Array, inputs: ValidationInput[], runs = 5): Promise<BenchResult> {
  const sessions: OrtSession[] = [];
  try {
    sessions.push(await rt.createSession({ bytes: original }), await rt.createSession({ bytes: rewritten }));
    const feeds = makeFeeds(rt, inputs, 0, new Map());
    const times: number[][] = [[], []];
    for (let r = -1; r < runs; r++) {
      for (const [i, s] of sessions.entries()) {
        const missing = s.inputNames.filter((n) => !feeds[n]);
        if (missing.length) throw new Error(`input ${missing.join(", ")} has no benchmark value`);
        const t0 = performance.now();
        await s.run(Object.fromEntries(s.inputNames.map((n) => [n, feeds[n]])));
        if (r >= 0) times[i].push(performance.now() - t0); // the first run warms up
      }
    }
    const [originalMs, rewrittenMs] = times.map(median);
    return { shapes: inputs.map((i) => `${i.name} ${i.shape.join("x")}`).join(", "), runs, originalMs, rewrittenMs, speedup: originalMs / rewrittenMs };
  } finally {
    for (const s of sessions) await s.release();
  }
}
