// Shared by bench/neck-forms.ts and bench/head-forms.ts: onnxruntime-node sessions on
// in-memory models, seeded feeds, exactness checks and round-robin timing.
import * as ort from "onnxruntime-node";
import { encodeModel } from "../../passes/io/codec.ts";
import { loadModel } from "../../passes/io/model-io.ts";
import type { Model, ValueInfo } from "../../passes/io/onnx-types.ts";
import { reparamModel, type ReparamOptions } from "../../passes/pipeline/reparam-model.ts";
import type { SiteReport } from "../../passes/rules/site.ts";
import { toNumber } from "../../passes/ir/tensor.ts";
import { seededNormal } from "./yolo-world-sites.ts";

export const THREADS = 2;

export async function session(bytes: Uint8Array, level: "all" | "basic" | "disabled" = "all"): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, {
    graphOptimizationLevel: level, intraOpNumThreads: THREADS, interOpNumThreads: 1, executionMode: "sequential", logSeverityLevel: 3,
  });
}

const dimsOf = (v: ValueInfo): number[] => (v.type?.tensor_type?.shape?.dim ?? []).map((d) => toNumber(d.dim_value ?? 0));

/** Seeded float32 feeds for every graph input (all static-shaped float here). */
export function feedsFor(model: Model, seed = 7): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  (model.graph!.input ?? []).forEach((v, i) => {
    const dims = dimsOf(v);
    feeds[v.name!] = new ort.Tensor("float32", Float32Array.from(seededNormal(seed * 1000 + i, dims.reduce((a, b) => a * b, 1))), dims);
  });
  return feeds;
}

/** Encodes a copy, runs reparamModel on it, insists every site was rewritten. */
export function rewrite(model: Model, opts: ReparamOptions, expectSites: number): { bytes: Uint8Array; sites: SiteReport[] } {
  const loaded = loadModel(encodeModel(model));
  const r = reparamModel(loaded, opts);
  const bad = r.sites.filter((s) => s.status !== "rewritten");
  if (r.sites.length !== expectSites || bad.length) {
    throw new Error(`reparam found ${r.sites.length} sites (expected ${expectSites}), skipped: ${bad.map((s) => `${s.output}: ${s.reason}`).join("; ")}`);
  }
  return { bytes: encodeModel(loaded.proto), sites: r.sites };
}

/** Max |a - b| over all outputs, relative to the largest |a|. Throws if above `atol`. */
export async function assertSame(label: string, ref: ort.InferenceSession, got: ort.InferenceSession, feeds: Record<string, ort.Tensor>, atol: number): Promise<number> {
  const [a, b] = [await ref.run(feeds), await got.run(feeds)];
  let worst = 0;
  for (const name of ref.outputNames) {
    const x = a[name]?.data as Float32Array, y = b[name]?.data as Float32Array;
    if (!y) throw new Error(`${label}: output ${name} missing`);
    if (x.length !== y.length || a[name].dims.join() !== b[name].dims.join()) throw new Error(`${label}: output ${name} has dims [${b[name].dims}], expected [${a[name].dims}]`);
    for (let i = 0; i < x.length; i++) {
      const d = Math.abs(x[i] - y[i]);
      if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
    }
  }
  if (!(worst <= atol)) throw new Error(`${label}: max abs diff ${worst} > ${atol}`);
  return worst;
}

export interface Timing { median: number; min: number; samples: number[] }

/**
 * Warm-up, then `runs` rounds in which every variant runs once (round-robin, the order
 * rotating each round) so drifts in machine load hit all variants alike.
 */
export async function timeRoundRobin(variants: Array<{ name: string; session: ort.InferenceSession; feeds: Record<string, ort.Tensor> }>, runs: number, warmup = 3): Promise<Map<string, Timing>> {
  for (const v of variants) for (let i = 0; i < warmup; i++) await v.session.run(v.feeds);
  const samples = variants.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) {
    for (let j = 0; j < variants.length; j++) {
      const i = (j + r) % variants.length;
      const t0 = process.hrtime.bigint();
      await variants[i].session.run(variants[i].feeds);
      samples[i].push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  return new Map(variants.map((v, i) => {
    const s = [...samples[i]].sort((a, b) => a - b);
    return [v.name, { median: s[Math.floor(s.length / 2)], min: s[0], samples: samples[i] }];
  }));
}

/** Markdown table of timings; ratios are "median / median (min / min)" against each `vs` row. */
export function table(rows: Array<{ label: string; t: Timing; note?: string }>, vs: string[]): string {
  const by = new Map(rows.map((r) => [r.label, r.t]));
  const head = ["variant", "median ms", "min ms", ...vs.map((v) => `÷ ${v}: med (min)`), "note"];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map((_, i) => (i === 0 || i === head.length - 1 ? "---" : "---:")).join("|")}|`];
  for (const r of rows) {
    const ratios = vs.map((v) => { const b = by.get(v); return b ? `${(r.t.median / b.median).toFixed(2)} (${(r.t.min / b.min).toFixed(2)})` : "–"; });
    lines.push(`| ${r.label} | ${r.t.median.toFixed(2)} | ${r.t.min.toFixed(2)} | ${ratios.join(" | ")} | ${r.note ?? ""} |`);
  }
  return lines.join("\n");
}
