// --classes on a K = 1203 export (issue 16): how long the pass takes keeping 20 classes against
// the plain rewrite of all 1203 (decode + reparam + encode, best of 3; the bound is
// 1.2x), and how fast the 20-class model runs against the K = 1203 original and its plain
// rewrite (onnxruntime-node CPU, 2 threads, graphOptimizationLevel 'all', the shared rotating
// loop; speed-ups are medians of per-round ratios).
//
//   npm run bench -- bench/classes-speed.ts
//   CLASSES_MODELS=/tmp/v2s/v2s-einsum-k1203-op12.onnx npm run bench -- bench/classes-speed.ts
//
// Both written models pass the pass's own proof (reparamFile) before they are timed.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { performance } from "node:perf_hooks";
import { decodeModelBytes, encodeModel } from "../passes/io/codec.ts";
import { reparamModel } from "../passes/pipeline/reparam-model.ts";
import { reparamFile } from "../passes/job/reparam-file.ts";
import { median, timeSessions } from "../passes/job/timing.ts";
import { feedsFor, THREADS } from "../models/build/bench-kit.ts";
import { fixturePath } from "../test/helpers/fixtures.ts";

const RUNS = Number(process.env.CLASSES_RUNS ?? 20);
const KEEP = 20;

const best = (n: number, f: () => void) => {
  let t = Infinity;
  for (let i = 0; i < n; i++) { const s = performance.now(); f(); t = Math.min(t, performance.now() - s); }
  return t;
};

function models(): string[] {
  const env = process.env.CLASSES_MODELS?.split(",").filter(Boolean) ?? [];
  const fixtures = ["full-bn-einsum-k1203-op17-static.onnx", "full-bn-matmul-k1203-op12-static.onnx", "ultralytics-world-k1203-op20-static-meta.onnx", "ultralytics-world-k1203-op20-static-meta-slim.onnx"].map(fixturePath);
  return [...fixtures, ...env].filter((p) => existsSync(p));
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "classes-speed-"));
  const keep = Array.from({ length: KEEP }, (_, i) => (i * 61) % 1203);
  const rows: Array<Record<string, string>> = [];
  try {
    for (const path of models()) {
      const bytes = readFileSync(path);
      const load = () => ({ proto: decodeModelBytes(bytes), baseDir: null, source: path });
      const plain = best(3, () => { const m = load(); reparamModel(m); encodeModel(m.proto); });
      const chosen = best(3, () => { const m = load(); reparamModel(m, { classes: keep }); encodeModel(m.proto); });
      // The written models, each proven by the pass.
      const outPlain = join(dir, "plain.onnx"), outSel = join(dir, "sel.onnx");
      for (const [out, classes] of [[outPlain, undefined], [outSel, keep]] as const) {
        const r = await reparamFile({ input: path, output: out, classes: classes as number[] | undefined });
        if (r.exitCode !== 0) throw new Error(`${basename(path)}: ${r.message}`);
      }
      const feeds = feedsFor(load().proto);
      const so = { graphOptimizationLevel: "all" as const, intraOpNumThreads: THREADS, interOpNumThreads: 1, executionMode: "sequential" as const, logSeverityLevel: 3 as const };
      const [t0, t1, t2] = await timeSessions([{ name: "original", path }, { name: "plain", path: outPlain }, { name: "classes", path: outSel }], feeds, so, { runs: RUNS });
      const ratio = (a: number[], b: number[]) => median(a.map((t, i) => t / b[i]));
      rows.push({
        model: basename(path), "size MB": (bytes.length / 2 ** 20).toFixed(1),
        "pass plain ms": plain.toFixed(0), [`pass --classes ${KEEP} ms`]: chosen.toFixed(0), "pass ratio": (chosen / plain).toFixed(2),
        "original ms": median(t0).toFixed(1), "rewrite K=1203 ms": median(t1).toFixed(1), [`--classes ${KEEP} ms`]: median(t2).toFixed(1),
        "speed-up vs original": `${ratio(t0, t2).toFixed(2)}x`, "vs plain rewrite": `${ratio(t1, t2).toFixed(2)}x`,
      });
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
  console.table(rows);
}
