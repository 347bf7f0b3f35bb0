// End to end: whole YOLO-World v2-S-config models (640x640, exported by TorchScript at opset 12
// with use_einsum=True / False; models/gen/export_v2s.py) before and after reparamModel, in
// onnxruntime-node CPU, 2 threads, graphOptimizationLevel 'all'.
//
//   python models/gen/export_v2s.py --out /tmp/v2s
//   V2S_MODELS=$(ls /tmp/v2s/*.onnx | paste -sd,) npm run bench -- bench/end-to-end.ts
//
// For every model: reparamModel with neckForm 'conv' and 'matmul' (all 3 head + 4 neck sites
// must be rewritten), each rewrite checked against the original on the same seeded uniform [0,1) image (max
// abs diff on every output <= 1e-3 x that output's max |value|). Models are grouped by K (read
// from the head sites); each group's originals and rewrites are timed together round-robin
// (every variant once per round, rotating order) so load drifts hit all alike. One table per
// model: its export, the other export of the same K, its two rewrites; ratios vs both exports.
import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import * as ort from "onnxruntime-node";
import { encodeModel } from "../passes/io/codec.ts";
import { loadModel } from "../passes/io/model-io.ts";
import { reparamModel } from "../passes/pipeline.ts";
import type { NeckLayout } from "../passes/rules/neck-emit.ts";
import type { SiteReport } from "../passes/rules/site.ts";
import type { Model, ValueInfo } from "../passes/io/onnx-types.ts";
import { toNumber } from "../passes/ir/tensor.ts";
import { session, table, timeRoundRobin, THREADS } from "../models/build/bench-kit.ts";

const RUNS = Number(process.env.E2E_RUNS ?? 20);
const WARMUP = 3;
const REL_TOL = 1e-3;
const FORMS: NeckLayout[] = ["conv", "matmul"];
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

async function prepare(path: string): Promise<Entry> {
  const raw = new Uint8Array(readFileSync(path));
  const ref = await session(raw);
  const feeds = imageFeeds(loadModel(raw).proto);
  const name = basename(path, ".onnx");
  let form = "", k = 0;
  const rewrites: Variant[] = [];
  for (const neckForm of FORMS) {
    const loaded = loadModel(raw);
    const t0 = performance.now();
    const r = reparamModel(loaded, { neckForm });
    const ms = performance.now() - t0;
    const bad = r.sites.filter((s) => s.status !== "rewritten");
    const heads = r.sites.filter((s) => s.kind === "head"), necks = r.sites.filter((s) => s.kind === "neck");
    if (bad.length || heads.length !== HEAD_SITES || necks.length !== NECK_SITES) {
      throw new Error(`${name} (neck ${neckForm}): sites ${siteSummary(r.sites)}, expected all ${HEAD_SITES} head + ${NECK_SITES} neck rewritten; skipped: ${bad.map((s) => `${s.kind} ${s.output}: ${s.reason}`).join("; ")}`);
    }
    form = heads[0].form;
    k = heads[0].k ?? 0;
    const t1 = performance.now();
    const bytes = encodeModel(loaded.proto);
    const encMs = performance.now() - t1;
    const s = await session(bytes);
    const diff = await compare(`${name} -> ${neckForm}`, ref, s, feeds);
    console.log(`${name} -> neck ${neckForm}: sites ${siteSummary(r.sites)} rewritten (head forms ${[...new Set(heads.map((h) => h.form))]}, neck forms ${[...new Set(necks.map((h) => h.form))]}); ` +
      `reparamModel ${ms.toFixed(0)} ms (+ encode ${encMs.toFixed(0)} ms); removed ${r.removed.nodes} nodes / ${r.removed.initializers} initializers; ` +
      `${mb(raw.length)} -> ${mb(bytes.length)}; max abs diff ${diff}`);
    rewrites.push({ name: `rewritten from ${form}: neck ${neckForm}`, session: s, feeds, note: `${mb(bytes.length)}; reparam ${ms.toFixed(0)} ms` });
  }
  return {
    path, form, k, bytes: statSync(path).size,
    original: { name: `${form} export`, session: ref, feeds, note: `${mb(raw.length)}; ${name}` },
    rewrites,
  };
}

export async function run(): Promise<void> {
  const paths = (process.env.V2S_MODELS ?? "").split(",").map((p) => p.trim()).filter(Boolean);
  if (!paths.length) {
    console.log("end-to-end: set V2S_MODELS=a.onnx,b.onnx,... (make them with `python models/gen/export_v2s.py --out /tmp/v2s`); skipped.");
    return;
  }
  const t0 = Date.now();
  const entries: Entry[] = [];
  for (const p of paths) entries.push(await prepare(p));
  const ks = [...new Set(entries.map((e) => e.k))].sort((a, b) => a - b);
  for (const k of ks) {
    const group = entries.filter((e) => e.k === k);
    if (new Set(group.map((e) => e.form)).size !== group.length) throw new Error(`K = ${k}: two models of the same export form (${group.map((e) => e.path).join(", ")})`);
    // Every model in the group shares the seeded feeds of the same 1x3x640x640 input.
    const vs = group.flatMap((e) => [e.original, ...e.rewrites]);
    const t = await timeRoundRobin(vs, RUNS, WARMUP);
    const vsNames = ["einsum export", "matmul export"];
    for (const e of group) {
      const others = group.filter((o) => o !== e).map((o) => o.original);
      const rows = [e.original, ...others, ...e.rewrites].map((v) => ({ label: v.name, t: t.get(v.name)!, note: v.note }));
      console.log(`\n### ${basename(e.path)}: K = ${k}, ${e.form} export, 1x3x640x640, ${THREADS} threads, ${RUNS} rounds (after ${WARMUP} warm-up runs each; ${vs.length} variants round-robin)\n`);
      console.log(table(rows, vsNames));
    }
  }
  console.log(`\n(end-to-end took ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}
