// Where the time goes: onnxruntime's own profiler (SessionOptions.enableProfiling) on whole
// YOLO-World models, each kernel's time attributed to the head contrast sites, the neck
// attention sites, the text path, onnxruntime's layout reorders, or the rest of the network,
// for an export and its rewrites. The site nodes come from reparamModel's report (the nodes
// a site removed in the original, its replacement in the rewrite); the text path is what the
// rewrite's dead-code elimination dropped. This is the limit of the rewrite: once the sites
// cost a few percent, no rewrite of them can gain more.
//
//   PROFILE_MODELS=/tmp/v2s/v2s-einsum-k80-op12.onnx,/tmp/v2s/v2s-rep-k80-op12.onnx npm run bench -- profile
//
// Upstream's reparameterized models (`-rep-` from models/gen/export_v2s.py) have no sites to
// report; their head Conv(BN) and per-head neck Convs are recognized by node name instead.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import * as ort from "onnxruntime-node";
import { encodeModel } from "../passes/io/codec.ts";
import { loadModel } from "../passes/io/model-io.ts";
import type { Node } from "../passes/io/onnx-types.ts";
import { reparamModel } from "../passes/pipeline/reparam-model.ts";
import type { NeckLayout } from "../passes/rules/neck-emit.ts";
import { seededUniform } from "../passes/validate/validate.ts";
import { median } from "../passes/job/timing.ts";

const RUNS = Number(process.env.PROFILE_RUNS ?? 8), WARMUP = 2, THREADS = 2;
const CATS = ["head sites", "neck sites", "text path", "layout reorders (onnxruntime)", "rest of the network"] as const;
type Cat = (typeof CATS)[number];

interface Variant { label: string; bytes: Uint8Array; classify: (event: string) => Cat }

/** Maps a profiler node name back to a graph node: exact, NCHWc-converted (output name + _nchwc), or fused (name + "/..."). */
function classifier(nodes: readonly Node[], catOf: (n: Node) => Cat): (event: string) => Cat {
  const byName = new Map<string, Cat>(), byOutput = new Map<string, Cat>();
  for (const n of nodes) {
    const c = catOf(n);
    if (n.name) byName.set(n.name, c);
    for (const o of n.output ?? []) byOutput.set(o, c);
  }
  const names = [...byName.keys()].sort((a, b) => b.length - a.length);
  return (event) => {
    const name = event.replace(/_kernel_time$/, "");
    if (/^Reorder(Input|Output)/.test(name)) return "layout reorders (onnxruntime)";
    const hit = byName.get(name) ?? byOutput.get(name.replace(/_nchwc$/, "")) ?? byOutput.get(name);
    if (hit) return hit;
    const prefix = names.find((n) => name.startsWith(`${n}/`) || name.startsWith(`${n}_`));
    return prefix ? byName.get(prefix)! : "rest of the network";
  };
}

function variants(path: string): Variant[] {
  const raw = new Uint8Array(readFileSync(path));
  const original = loadModel(raw).proto;
  const name = basename(path, ".onnx");
  if (name.includes("-rep-")) {
    // Upstream's RepBNContrastiveHead (norm + conv) and RepConvMaxSigmoidAttnBlock's guide Convs, split, concat, max.
    const cat = (n: Node): Cat => {
      const nm = n.name ?? "";
      if (/\/cls_contrasts\.\d+\//.test(nm)) return "head sites";
      if (/\/attn\//.test(nm) && !/proj_conv/.test(nm) && ["Conv", "Concat", "Reshape", "ReduceMax", "Div", "Split", "Slice"].includes(n.op_type ?? "")) return "neck sites";
      return "rest of the network";
    };
    return [{ label: `${name} (upstream's reparameterized architecture)`, bytes: raw, classify: classifier(original.graph!.node!, cat) }];
  }
  const out: Variant[] = [];
  let siteNodes: Map<string, Cat> | null = null, textPath: Set<string> | null = null;
  for (const form of ["conv", "matmul"] as NeckLayout[]) {
    const m = loadModel(raw);
    const r = reparamModel(m, { neckForm: form });
    const kept = new Set(m.proto.graph!.node!.map((n) => n.name ?? ""));
    if (!siteNodes) {
      siteNodes = new Map(r.sites.filter((s) => s.status === "rewritten").flatMap((s) => s.nodes.map((n) => [n, s.kind === "head" ? "head sites" : "neck sites"] as [string, Cat])));
      textPath = new Set(original.graph!.node!.map((n) => n.name ?? "").filter((n) => n && !kept.has(n) && !siteNodes!.has(n)));
      out.push({ label: `${name} (export)`, bytes: raw, classify: classifier(original.graph!.node!, (n) => siteNodes!.get(n.name ?? "") ?? (textPath!.has(n.name ?? "") ? "text path" : "rest of the network")) });
    }
    const repl = new Map(r.sites.flatMap((s) => (s.replacement ?? []).map((n) => [n, s.kind === "head" ? "head sites" : "neck sites"] as [string, Cat])));
    // A neck replacement is several nodes, all named after the site ("<contraction>/reparam_...").
    const prefixes = r.sites.filter((s) => s.status === "rewritten").map((s) => [`${s.contraction}/reparam_`, s.kind === "head" ? "head sites" : "neck sites"] as [string, Cat]);
    const cat = (n: Node): Cat => repl.get(n.name ?? "") ?? prefixes.find(([p]) => (n.name ?? "").startsWith(p))?.[1] ?? "rest of the network";
    out.push({ label: `${name} rewritten (neck ${form})`, bytes: encodeModel(m.proto), classify: classifier(m.proto.graph!.node!, cat) });
  }
  return out;
}

interface Profile { totalMs: number; cats: Record<Cat, number> }

async function profile(v: Variant, dir: string): Promise<Profile> {
  const prefix = join(dir, `p${Math.random().toString(36).slice(2)}`);
  const s = await ort.InferenceSession.create(v.bytes, {
    graphOptimizationLevel: "all", intraOpNumThreads: THREADS, interOpNumThreads: 1, executionMode: "sequential", logSeverityLevel: 3,
    enableProfiling: true, profileFilePrefix: prefix,
  });
  const feeds = { images: new ort.Tensor("float32", seededUniform(7, 3 * 640 * 640), [1, 3, 640, 640]) };
  for (let i = 0; i < WARMUP + RUNS; i++) await s.run(feeds);
  s.endProfiling();
  await s.release();
  const file = readdirSync(dir).find((f) => join(dir, f).startsWith(prefix))!;
  type Ev = { cat: string; name: string; ts: number; dur: number };
  const events = JSON.parse(readFileSync(join(dir, file), "utf8")) as Ev[];
  const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run").sort((a, b) => a.ts - b.ts).slice(WARMUP);
  const perRun = runs.map((run) => {
    const c = Object.fromEntries(CATS.map((k) => [k, 0])) as Record<Cat, number>;
    for (const e of events) if (e.cat === "Node" && e.name.endsWith("_kernel_time") && e.ts >= run.ts && e.ts < run.ts + run.dur) c[v.classify(e.name)] += e.dur / 1000;
    return c;
  });
  return {
    totalMs: median(runs.map((r) => r.dur / 1000)),
    cats: Object.fromEntries(CATS.map((k) => [k, median(perRun.map((c) => c[k]))])) as Record<Cat, number>,
  };
}

export async function run(): Promise<void> {
  const paths = (process.env.PROFILE_MODELS ?? "").split(",").map((p) => p.trim()).filter(Boolean);
  if (!paths.length) {
    console.log("profile: set PROFILE_MODELS=a.onnx,... (v2-S exports from models/gen/export_v2s.py); skipped.");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "ort-profile-"));
  try {
    console.log(`onnxruntime profiler, 1x3x640x640, ${THREADS} threads, optimization 'all', median of ${RUNS} runs after ${WARMUP} warm-up; ms (share of the kernels' sum)\n`);
    console.log(`| model | run ms | ${CATS.join(" | ")} |`);
    console.log(`|---|---:|${CATS.map(() => "---:").join("|")}|`);
    for (const p of paths) {
      for (const v of variants(p)) {
        const r = await profile(v, dir);
        const sum = CATS.reduce((a, k) => a + r.cats[k], 0);
        console.log(`| ${v.label} | ${r.totalMs.toFixed(1)} | ${CATS.map((k) => `${r.cats[k].toFixed(1)} (${((100 * r.cats[k]) / sum).toFixed(1)} %)`).join(" | ")} |`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
