// End to end: whole YOLO-World v2-S-config models (640x640, exported by TorchScript at opset 12
// with use_einsum=True / False, and upstream's reparameterized architecture; models/gen/
// export_v2s.py) and the einsum export rewritten in each neck form and with --neck-form auto,
// in onnxruntime-node CPU, 2 threads, graphOptimizationLevel 'all'.
//
//   python models/gen/export_v2s.py --out /tmp/v2s
//   V2S_MODELS=$(ls /tmp/v2s/*.onnx | paste -sd,) npm run bench -- bench/end-to-end.ts
//
// Every rewrite (all 3 head + 4 neck sites rewritten) is checked against the export on the
// same seeded uniform [0,1) image (max abs diff on every output <= 1e-3 x that output's max
// |value|). Models are grouped by K; each group is timed together round-robin (every variant
// once per round, rotating order) so load drifts hit all alike. Speed-ups are medians of the
// per-round ratios (each round's two runs are close in time), with their interquartile range
// as the noise. `auto` is chooseNeckForm's pick, timed as its own session: its row against
// the same form's row shows the noise too.
import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import * as ort from "onnxruntime-node";
import { encodeModel } from "../passes/io/codec.ts";
import { loadModel } from "../passes/io/model-io.ts";
import { reparamModel } from "../passes/pipeline/reparam-model.ts";
import type { NeckLayout } from "../passes/rules/neck-emit.ts";
import type { SiteReport } from "../passes/rules/site.ts";
import type { Model, ValueInfo } from "../passes/io/onnx-types.ts";
import { toNumber } from "../passes/ir/tensor.ts";
import { session, table, timeRoundRobin, THREADS, type Timing } from "../models/build/bench-kit.ts";
import { chooseNeckForm } from "../passes/job/neck-form-auto.ts";

const RUNS = Number(process.env.E2E_RUNS ?? 20);
const WARMUP = 3;
const REL_TOL = 1e-3;
const FORMS: NeckLayout[] = ["conv", "per-head", "matmul"];
const HEAD_SITES = 3, NECK_SITES = 4;

interface Variant { name: string; session: ort.InferenceSession; feeds: Record<string, ort.Tensor>; note: string }
interface Entry {
  path: string; form: string; k: number; bytes: number;
  original: Variant; rewrites: Variant[];
}

/**
 * Seeded uniform [0, 1) images, like the /255-scaled pixels upstream feeds (bench-kit's N(0,1)
 * feeds drive these random-weight models far out of range: logits ~1e5, every neck sigmoid
 * saturated, so the neck rewrite would be checked against nothing).
 */
function imageFeeds(model: Model, seed = 7): Record<string, ort.Tensor> {
  let a = seed >>> 0;
  const next = () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  const feeds: Record<string, ort.Tensor> = {};
  for (const v of model.graph!.input ?? []) {
    const dims = (v as ValueInfo).type!.tensor_type!.shape!.dim!.map((d) => toNumber(d.dim_value ?? 0));
    if (dims.some((d) => !(d > 0))) throw new Error(`input ${v.name} is not static: [${dims}]`);
    const data = new Float32Array(dims.reduce((x, y) => x * y, 1));
    for (let i = 0; i < data.length; i++) data[i] = next();
    feeds[v.name!] = new ort.Tensor("float32", data, dims);
  }
  return feeds;
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** Worst over outputs of max|a - b| / max|a|; throws if any output exceeds REL_TOL. */
async function compare(label: string, ref: ort.InferenceSession, got: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<string> {
  const [a, b] = [await ref.run(feeds), await got.run(feeds)];
  const parts: string[] = [];
  for (const name of ref.outputNames) {
    const x = a[name]?.data as Float32Array, y = b[name]?.data as Float32Array;
    if (!y) throw new Error(`${label}: output ${name} missing`);
    if (a[name].dims.join() !== b[name].dims.join()) throw new Error(`${label}: output ${name} has dims [${b[name].dims}], expected [${a[name].dims}]`);
    let diff = 0, scale = 0;
    for (let i = 0; i < x.length; i++) {
      const d = Math.abs(x[i] - y[i]);
      if (!(d <= diff)) diff = Number.isNaN(d) ? Infinity : d;
      scale = Math.max(scale, Math.abs(x[i]));
    }
    if (!(diff <= REL_TOL * scale)) throw new Error(`${label}: output ${name}: max abs diff ${diff} > ${REL_TOL} x max|ref| ${scale}`);
    parts.push(`${name} ${diff.toExponential(1)} (of ${scale.toPrecision(3)})`);
  }
  return parts.join(", ");
}

function siteSummary(sites: SiteReport[]): string {
  const by = (kind: string) => sites.filter((s) => s.kind === kind);
  return `head ${by("head").filter((s) => s.status === "rewritten").length}/${by("head").length}, neck ${by("neck").filter((s) => s.status === "rewritten").length}/${by("neck").length}`;
}

/** K from the `scores` output (1, A, K) or the file name (upstream's rep models have no sites to read it from). */
function kOf(model: Model, path: string): number {
  const out = (model.graph!.output ?? []).find((o) => o.name === "scores");
  const d = out?.type?.tensor_type?.shape?.dim;
  if (d && d.length === 3 && toNumber(d[2].dim_value ?? 0) > 0) return toNumber(d[2].dim_value!);
  const m = /-k(\d+)-/.exec(basename(path));
  if (!m) throw new Error(`${path}: cannot tell K`);
  return Number(m[1]);
}

async function prepare(path: string, withRewrites: boolean): Promise<Entry> {
  const raw = new Uint8Array(readFileSync(path));
  const ref = await session(raw);
  const proto = loadModel(raw).proto;
  const feeds = imageFeeds(proto);
  const name = basename(path, ".onnx");
  const k = kOf(proto, path);
  if (name.includes("-rep-")) {
    return { path, form: "rep", k, bytes: statSync(path).size, original: { name: "upstream rep", session: ref, feeds, note: `${mb(raw.length)}; ${name}` }, rewrites: [] };
  }
  let form = "";
  const rewrites: Variant[] = [];
  const check = (label: string, sites: SiteReport[]) => {
    const bad = sites.filter((s) => s.status !== "rewritten");
    const heads = sites.filter((s) => s.kind === "head"), necks = sites.filter((s) => s.kind === "neck");
    if (bad.length || heads.length !== HEAD_SITES || necks.length !== NECK_SITES) {
      throw new Error(`${label}: sites ${siteSummary(sites)}, expected all ${HEAD_SITES} head + ${NECK_SITES} neck rewritten; skipped: ${bad.map((s) => `${s.kind} ${s.output}: ${s.reason}`).join("; ")}`);
    }
    form = heads[0].form;
    if (heads[0].k !== k) throw new Error(`${label}: head K ${heads[0].k}, scores say ${k}`);
  };
  for (const neckForm of FORMS) {
    const loaded = loadModel(raw);
    const t0 = performance.now();
    const r = reparamModel(loaded, { neckForm });
    const ms = performance.now() - t0;
    check(`${name} (neck ${neckForm})`, r.sites);
    if (!withRewrites) break;
    const bytes = encodeModel(loaded.proto);
    const s = await session(bytes);
    const diff = await compare(`${name} -> ${neckForm}`, ref, s, feeds);
    console.log(`${name} -> neck ${neckForm}: reparamModel ${ms.toFixed(0)} ms; removed ${r.removed.nodes} nodes / ${r.removed.initializers} initializers; ${mb(raw.length)} -> ${mb(bytes.length)}; max abs diff ${diff}`);
    rewrites.push({ name: `rewritten: neck ${neckForm}`, session: s, feeds, note: `${mb(bytes.length)}` });
  }
  if (withRewrites) {
    const t0 = performance.now();
    const auto = await chooseNeckForm(path, {});
    const c = auto.choice;
    check(`${name} (neck auto)`, auto.result.sites);
    const s = await session(encodeModel(auto.model.proto));
    await compare(`${name} -> auto`, ref, s, feeds);
    const times = Object.entries(c.timings).map(([f, t]) => `${f} ${t!.medianMs.toFixed(1)}`).join(", ");
    console.log(`${name} -> neck auto: chose ${c.chosen} in ${((performance.now() - t0) / 1000).toFixed(1)} s (medians of ${c.rounds} rounds: ${times} ms; noise ±${c.noiseMs.toFixed(1)} ms)`);
    rewrites.push({ name: `rewritten: neck auto (${c.chosen})`, session: s, feeds, note: `auto timings ${times} ms, noise ±${c.noiseMs.toFixed(1)} ms` });
  }
  return {
    path, form, k, bytes: statSync(path).size,
    original: { name: `${form} export`, session: ref, feeds, note: `${mb(raw.length)}; ${name}` },
    rewrites,
  };
}

/** Median and interquartile range of the per-round ratios base / variant (> 1: the variant is faster). */
function pairedSpeedup(base: Timing, v: Timing): { median: number; q1: number; q3: number } {
  const r = base.samples.map((b, i) => b / v.samples[i]).sort((a, b) => a - b);
  const q = (p: number) => r[Math.min(r.length - 1, Math.floor(p * r.length))];
  return { median: q(0.5), q1: q(0.25), q3: q(0.75) };
}

export async function run(): Promise<void> {
  const paths = (process.env.V2S_MODELS ?? "").split(",").map((p) => p.trim()).filter(Boolean);
  if (!paths.length) {
    console.log("end-to-end: set V2S_MODELS=a.onnx,b.onnx,... (make them with `python models/gen/export_v2s.py --out /tmp/v2s`); skipped.");
    return;
  }
  const t0 = Date.now();
  const entries: Entry[] = [];
  // Rewrites of the einsum export only (the matmul export rewrites to the same model).
  for (const p of paths) entries.push(await prepare(p, basename(p).includes("-einsum-")));
  const ks = [...new Set(entries.map((e) => e.k))].sort((a, b) => a - b);
  for (const k of ks) {
    const group = entries.filter((e) => e.k === k);
    if (new Set(group.map((e) => e.form)).size !== group.length) throw new Error(`K = ${k}: two models of the same export form (${group.map((e) => e.path).join(", ")})`);
    const vs = group.flatMap((e) => [e.original, ...e.rewrites]);
    const t = await timeRoundRobin(vs, RUNS, WARMUP);
    const bases = ["einsum export", "matmul export", "upstream rep"].filter((b) => t.has(b));
    console.log(`\n### K = ${k}, 1x3x640x640, ${THREADS} threads, ${RUNS} rounds (after ${WARMUP} warm-up runs each; ${vs.length} variants round-robin)\n`);
    console.log(table(vs.map((v) => ({ label: v.name, t: t.get(v.name)!, note: v.note })), bases));
    console.log(`\nspeed-up = median of per-round time ratios [interquartile range]:\n`);
    console.log(`| variant | ${bases.map((b) => `vs ${b}`).join(" | ")} |`);
    console.log(`|---|${bases.map(() => "---:").join("|")}|`);
    for (const v of vs) {
      console.log(`| ${v.name} | ${bases.map((b) => { const r = pairedSpeedup(t.get(b)!, t.get(v.name)!); return `${r.median.toFixed(2)}× [${r.q1.toFixed(2)}–${r.q3.toFixed(2)}]`; }).join(" | ")} |`);
    }
    const auto = vs.find((v) => v.name.startsWith("rewritten: neck auto"));
    if (auto) {
      const targets: Array<[string, number]> = k <= 80 ? [["einsum export", 1.18], ["upstream rep", 1.05]] : [["einsum export", 1.7], ["upstream rep", 1.25]];
      for (const [b, want] of targets) {
        if (!t.has(b)) continue;
        const r = pairedSpeedup(t.get(b)!, t.get(auto.name)!);
        console.log(`target K = ${k}: auto vs ${b} ${r.median.toFixed(2)}× (want >= ${want}×): ${r.median >= want ? "met" : "MISSED"}`);
      }
    }
  }
  console.log(`\n(end-to-end took ${((Date.now() - t0) / 1000).toFixed(0)} s; load average ${(await import("node:os")).loadavg().map((x) => x.toFixed(1)).join(" ")})`);
}
