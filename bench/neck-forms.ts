// Neck max-sigmoid sites of YOLO-World v2-S (4 blocks at 640x640, models/build/yolo-world-sites.ts)
// in onnxruntime-node CPU, 2 threads, graphOptimizationLevel 'all':
//   1. the exporter forms (einsum, matmul) against reparamModel's rewrites (neckForm conv /
//      per-head / matmul), all rewrites asserted equal to the einsum export first;
//   2. the parts: the grouped Conv alone, the channels-last MatMul alone, and the max over K
//      in the layouts the forms leave it in;
//   3. other exact layouts tried as candidates for a faster Conv-based form;
//   4. conv vs matmul layout at intermediate K (where one overtakes the other).
// Timing is round-robin (every variant once per round, rotating order) so load drifts hit
// all variants alike; the machine is shared, so the min is the steadier number.
import * as ort from "onnxruntime-node";
import { encodeModel } from "../passes/io/codec.ts";
import type { Model } from "../passes/io/onnx-types.ts";
import type { NeckLayout } from "../passes/rules/neck-emit.ts";
import {
  attrInt, attrInts, buildNeckModel, GraphBuilder, neckGuides, neckInputName, neckOutputName, seededNormal,
  NECK_HEAD_CHANNELS, V2S_NECK_BLOCKS, type NeckBlock,
} from "../models/build/yolo-world-sites.ts";
import { assertSame, feedsFor, rewrite, session, table, timeRoundRobin, type Timing } from "../models/build/bench-kit.ts";

const KS = [80, 1203];
// Rounds: K = 80 runs are ~1-3 ms, so they get many more rounds for the same wall time.
const RUNS_1203 = Number(process.env.NECK_RUNS ?? 25);
const rounds = (k: number, base = RUNS_1203) => (k <= 200 ? base * 3 : base);
const CAND_RUNS = Number(process.env.NECK_CAND_RUNS ?? 15);
const ATOL = 1e-4;
const c = NECK_HEAD_CHANNELS;
const SCALE = 1 / Math.sqrt(c);
const LAYOUTS: NeckLayout[] = ["conv", "per-head", "matmul"];

type Variant = { name: string; session: ort.InferenceSession; feeds: Record<string, ort.Tensor>; note?: string };
const rows = (vs: Variant[], t: Map<string, Timing>) => vs.map((v) => ({ label: v.name, t: t.get(v.name)!, note: v.note }));

export async function run(): Promise<void> {
  const t0 = Date.now();
  for (const k of KS) await mainForms(k);
  for (const k of KS) await parts(k);
  for (const k of KS) await candidates(k);
  await crossover();
  console.log(`\n(neck-forms took ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}

// ---------------------------------------------------------------------------------------
// 1. Exporter forms vs rewrites.

async function mainForms(k: number): Promise<void> {
  const einsum = buildNeckModel({ k, form: "einsum" });
  const matmul = buildNeckModel({ k, form: "matmul" });
  const feeds = feedsFor(einsum);
  const ref = await session(encodeModel(einsum));
  const vs: Variant[] = [{ name: "einsum export", session: ref, feeds }];
  const mm = await session(encodeModel(matmul));
  await assertSame(`K=${k} matmul export`, ref, mm, feeds, ATOL);
  vs.push({ name: "matmul export", session: mm, feeds });
  for (const layout of LAYOUTS) {
    // Both exporter forms must be rewritten (4 sites each) and match; the einsum one is timed.
    let worst = 0;
    for (const [form, m] of [["einsum", einsum], ["matmul", matmul]] as const) {
      const { bytes } = rewrite(m, { neckForm: layout }, V2S_NECK_BLOCKS.length);
      const s = await session(bytes);
      worst = Math.max(worst, await assertSame(`K=${k} ${form} -> ${layout}`, ref, s, feeds, ATOL));
      if (form === "einsum") vs.push({ name: `rewritten: ${layout}`, session: s, feeds, note: "" });
    }
    vs[vs.length - 1].note = `max abs diff ${worst.toExponential(1)}`;
  }
  const t = await timeRoundRobin(vs, rounds(k));
  console.log(`\n### K = ${k}: all 4 neck blocks (td1 40x40 M=4, td2 80x80 M=2, bu1 40x40 M=4, bu2 20x20 M=8), ${rounds(k)} rounds\n`);
  console.log(table(rows(vs, t), ["einsum export", "matmul export"]));
}

// ---------------------------------------------------------------------------------------
// 2. Parts: what the Conv / MatMul and the max over K cost on their own (4 blocks each).

function partModel(k: number, body: (g: GraphBuilder, b: NeckBlock, x: string) => string): Model {
  const g = new GraphBuilder(17);
  V2S_NECK_BLOCKS.forEach((b) => {
    const x = g.input(neckInputName(b), [1, b.heads * c, b.h, b.w]);
    g.output(body(g, b, x), neckOutputName(b), []);
  });
  (g.outputs).forEach((o) => { o.type = { tensor_type: { elem_type: 1 } }; });
  return g.model("part");
}

/** A max-over-K model whose inputs are already the scores, in the given shape per block. */
function reduceModel(shape: (b: NeckBlock, k: number) => number[], axis: number, k: number): { model: Model; feeds: Record<string, ort.Tensor> } {
  const g = new GraphBuilder(17);
  const feeds: Record<string, ort.Tensor> = {};
  V2S_NECK_BLOCKS.forEach((b, i) => {
    const dims = shape(b, k);
    const x = g.input(`s_${b.name}`, dims);
    feeds[x] = new ort.Tensor("float32", Float32Array.from(seededNormal(50 + i, dims.reduce((p, q) => p * q, 1))), dims);
    g.output(g.node("ReduceMax", [x], [attrInts("axes", [axis]), attrInt("keepdims", 0)]), `m_${b.name}`, []);
  });
  g.outputs.forEach((o) => { o.type = { tensor_type: { elem_type: 1 } }; });
  return { model: g.model("reduce"), feeds };
}

async function parts(k: number): Promise<void> {
  const guides = neckGuides({ k, form: "einsum" });
  const feeds = feedsFor(buildNeckModel({ k: 1, form: "einsum" }));
  const gi = (b: NeckBlock) => V2S_NECK_BLOCKS.indexOf(b);
  const tiny = (g: GraphBuilder, y: string, axis: number) => g.node("Slice", [y, g.shape([0]), g.shape([1]), g.shape([axis])]);
  const vs: Variant[] = [];
  // The Conv (output sliced to one channel so the output copy costs nothing; ORT still computes it all).
  const convOnly = partModel(k, (g, b, x) => tiny(g, conv(g, x, g.init("w", [b.heads * k, c, 1, 1], groupedWeight(guides[gi(b)], k, b.heads)), b.heads), 1));
  vs.push({ name: "grouped Conv alone (M*K, H, W)", session: await session(encodeModel(convOnly)), feeds });
  const mmOnly = partModel(k, (g, b, x) => {
    const t = g.node("Transpose", [g.node("Reshape", [x, g.shape([0, b.heads, c, -1])])], [attrInts("perm", [0, 1, 3, 2])]);
    return tiny(g, g.node("MatMul", [t, g.init("w", [b.heads, c, k], kLastWeight(guides[gi(b)], k, b.heads))]), 2);
  });
  vs.push({ name: "Transpose+MatMul alone (M, HW, K)", session: await session(encodeModel(mmOnly)), feeds });
  const layouts: Array<[string, (b: NeckBlock, k: number) => number[], number, string]> = [
    ["ReduceMax (M, K, HW) axis 1", (b, kk) => [b.heads, kk, b.h * b.w], 1, "conv layout: K is a middle axis"],
    ["ReduceMax (1, M, K, H, W) axis 2", (b, kk) => [1, b.heads, kk, b.h, b.w], 2, "same, 5-D"],
    ["ReduceMax (K, M*HW) axis 0", (b, kk) => [kk, b.heads * b.h * b.w], 0, "K-major: K the leading axis"],
    ["ReduceMax (1, K, M*HW) axis 1", (b, kk) => [1, kk, b.heads * b.h * b.w], 1, "K-major with a batch dim"],
    ["ReduceMax (M, HW, K) axis -1", (b, kk) => [b.heads, b.h * b.w, kk], -1, "matmul layout: K last"],
  ];
  for (const [name, shape, axis, note] of layouts) {
    const r = reduceModel(shape, axis, k);
    vs.push({ name, session: await session(encodeModel(r.model)), feeds: r.feeds, note });
  }
  const t = await timeRoundRobin(vs, rounds(k));
  console.log(`\n### K = ${k}: parts (4 blocks each), ${rounds(k)} rounds\n`);
  console.log(table(rows(vs, t), ["grouped Conv alone (M*K, H, W)", "ReduceMax (M, HW, K) axis -1"]));
}

// ---------------------------------------------------------------------------------------
// 3. Candidate layouts. Each computes out[b,m,h,w] = max_n sum_j x[b,m*c+j,h,w] * g[n,m,j] / sqrt(c)
// with batch/H/W left dynamic (reshape targets use 0/-1 or Shape-derived values).

type Emit = (g: GraphBuilder, x: string, b: NeckBlock, k: number, guide: Float64Array) => string;

const conv = (g: GraphBuilder, x: string, w: string, group = 1) =>
  g.node("Conv", [x, w], [attrInts("kernel_shape", [1, 1]), ...(group > 1 ? [attrInt("group", group)] : [])]);
const reduceMax = (g: GraphBuilder, x: string, axis: number, keep: number) => g.node("ReduceMax", [x], [attrInts("axes", [axis]), attrInt("keepdims", keep)]);
const split = (g: GraphBuilder, x: string, sizes: number[], axis = 1): string[] => {
  const outs = sizes.map((_, i) => g.fresh(`/split_${i}`));
  g.nodes.push({ name: g.fresh("/Split"), op_type: "Split", input: [x, g.init("split", [sizes.length], sizes, 7)], output: outs, attribute: [attrInt("axis", axis)] });
  return outs;
};
/** [M*K, c] grouped-conv weight, head-major: row m*K + n. */
function groupedWeight(guide: Float64Array, k: number, heads: number, k0 = 0, k1 = k): Float64Array {
  const n = k1 - k0, w = new Float64Array(heads * n * c);
  for (let m = 0; m < heads; m++) for (let i = 0; i < n; i++) for (let j = 0; j < c; j++) w[(m * n + i) * c + j] = guide[((k0 + i) * heads + m) * c + j] * SCALE;
  return w;
}
/** [M, c, K] weight for the channels-last MatMul. */
function kLastWeight(guide: Float64Array, k: number, heads: number): Float64Array {
  const w = new Float64Array(heads * c * k);
  for (let m = 0; m < heads; m++) for (let j = 0; j < c; j++) for (let n = 0; n < k; n++) w[(m * c + j) * k + n] = guide[(n * heads + m) * c + j] * SCALE;
  return w;
}
/** Reshape (B*M*HW)-ordered maxima back to (B, M, H, W) with H, W read from x at run time. */
function toBMHW(g: GraphBuilder, v: string, x: string, heads: number): string {
  const sh = g.node("Shape", [x]);
  const target = g.node("Concat", [g.node("Slice", [sh, g.shape([0]), g.shape([1])]), g.shape([heads]), g.node("Slice", [sh, g.shape([2]), g.shape([4])])], [attrInt("axis", 0)]);
  return g.node("Reshape", [v, target]);
}

const CANDIDATES: Array<{ name: string; note: string; emit: Emit }> = [
  {
    name: "dense K-major Conv", note: "Conv(W[K*M, M*c]) zero off-head blocks, max over leading K",
    emit: (g, x, b, k, guide) => {
      const M = b.heads, E = M * c, w = new Float64Array(k * M * E);
      for (let n = 0; n < k; n++) for (let m = 0; m < M; m++) for (let j = 0; j < c; j++) w[(n * M + m) * E + m * c + j] = guide[(n * M + m) * c + j] * SCALE;
      const y = g.node("Reshape", [conv(g, x, g.init("w", [k * M, E, 1, 1], w)), g.shape([0, k, -1, 0])]); // (B, K, M*H, W)
      return g.node("Reshape", [reduceMax(g, y, 1, 1), g.shape([0, M, -1, 0])]);
    },
  },
  {
    name: "Split x + per-head Conv", note: "one Split, M x [Conv(K) -> ReduceMax(1)], Concat",
    emit: (g, x, b, k, guide) => {
      const w = groupedWeight(guide, k, b.heads);
      const parts = split(g, x, new Array(b.heads).fill(c)).map((xs, m) =>
        reduceMax(g, conv(g, xs, g.init("w", [k, c, 1, 1], w.subarray(m * k * c, (m + 1) * k * c))), 1, 1));
      return g.node("Concat", parts, [attrInt("axis", 1)]);
    },
  },
  {
    name: "grouped Conv + Split + per-head max", note: "Split the (B, M*K, H, W) output, M leading-axis maxima, Concat",
    emit: (g, x, b, k, guide) => {
      const y = conv(g, x, g.init("w", [b.heads * k, c, 1, 1], groupedWeight(guide, k, b.heads)), b.heads);
      return g.node("Concat", split(g, y, new Array(b.heads).fill(k)).map((p) => reduceMax(g, p, 1, 1)), [attrInt("axis", 1)]);
    },
  },
  {
    name: "grouped Conv + Max tree", note: "log2 K levels of Split halves + Max (odd remainder broadcast)",
    emit: (g, x, b, k, guide) => {
      const y = conv(g, x, g.init("w", [b.heads * k, c, 1, 1], groupedWeight(guide, k, b.heads)), b.heads);
      let cur = g.node("Reshape", [y, g.shape([-1, k, 0, 0])]);
      for (let n = k; n > 1; n = Math.floor(n / 2)) {
        const h = Math.floor(n / 2);
        cur = g.node("Max", split(g, cur, n % 2 ? [h, h, 1] : [h, h]));
      }
      return g.node("Reshape", [cur, g.shape([-1, b.heads, 0, 0])]);
    },
  },
  {
    name: "grouped Conv + MaxPool3d", note: "(B*M, 1, K, H, W) MaxPool kernel (K, 1, 1)",
    emit: (g, x, b, k, guide) => {
      const y = conv(g, x, g.init("w", [b.heads * k, c, 1, 1], groupedWeight(guide, k, b.heads)), b.heads);
      const u = g.node("Unsqueeze", [g.node("Reshape", [y, g.shape([-1, k, 0, 0])]), g.shape([1])]);
      const p = g.node("Squeeze", [g.node("MaxPool", [u], [attrInts("kernel_shape", [k, 1, 1])]), g.shape([1])]);
      return g.node("Reshape", [p, g.shape([-1, b.heads, 0, 0])]);
    },
  },
  {
    name: "grouped Conv in K chunks of 192", note: "per chunk Conv + ReduceMax (cache-sized), Max of the chunk maxima",
    emit: (g, x, b, k, guide) => {
      const parts: string[] = [];
      for (let k0 = 0; k0 < k; k0 += 192) {
        const k1 = Math.min(k, k0 + 192);
        const y = conv(g, x, g.init("w", [b.heads * (k1 - k0), c, 1, 1], groupedWeight(guide, k, b.heads, k0, k1)), b.heads);
        parts.push(reduceMax(g, g.node("Reshape", [y, g.shape([-1, k1 - k0, 0, 0])]), 1, 1));
      }
      return g.node("Reshape", [parts.length > 1 ? g.node("Max", parts) : parts[0], g.shape([-1, b.heads, 0, 0])]);
    },
  },
  {
    name: "grouped Conv + Transpose K last", note: "(B*M, K, HW) -> Transpose -> ReduceMax(-1)",
    emit: (g, x, b, k, guide) => {
      const y = conv(g, x, g.init("w", [b.heads * k, c, 1, 1], groupedWeight(guide, k, b.heads)), b.heads);
      const r = g.node("Reshape", [g.node("Reshape", [y, g.shape([0, 0, -1])]), g.shape([-1, k, 0])]);
      return toBMHW(g, reduceMax(g, g.node("Transpose", [r], [attrInts("perm", [0, 2, 1])]), -1, 0), x, b.heads);
    },
  },
  {
    name: "flat channels-last MatMul", note: "(B, M, HW, c) @ W[M, c, K] -> ReduceMax(-1), Shape-derived reshape back",
    emit: (g, x, b, k, guide) => {
      const t = g.node("Transpose", [g.node("Reshape", [x, g.shape([0, b.heads, c, -1])])], [attrInts("perm", [0, 1, 3, 2])]);
      const y = g.node("MatMul", [t, g.init("w", [b.heads, c, k], kLastWeight(guide, k, b.heads))]);
      return toBMHW(g, reduceMax(g, y, -1, 0), x, b.heads);
    },
  },
];

function candidateModel(k: number, guides: Float64Array[], emit: Emit): Model {
  const g = new GraphBuilder(17);
  V2S_NECK_BLOCKS.forEach((b, i) => {
    const x = g.input(neckInputName(b), [1, b.heads * c, b.h, b.w]);
    g.output(emit(g, x, b, k, guides[i]), neckOutputName(b), [1, b.heads, b.h, b.w]);
  });
  return g.model("candidate");
}

async function candidates(k: number): Promise<void> {
  const einsum = buildNeckModel({ k, form: "einsum" });
  const feeds = feedsFor(einsum);
  const ref = await session(encodeModel(einsum));
  const guides = neckGuides({ k, form: "einsum" });
  const vs: Variant[] = [];
  for (const layout of ["conv", "matmul"] as const) {
    vs.push({ name: `rewritten: ${layout}`, session: await session(rewrite(einsum, { neckForm: layout }, V2S_NECK_BLOCKS.length).bytes), feeds });
  }
  for (const cand of CANDIDATES) {
    const s = await session(encodeModel(candidateModel(k, guides, cand.emit)));
    const d = await assertSame(`K=${k} candidate '${cand.name}'`, ref, s, feeds, ATOL);
    vs.push({ name: cand.name, session: s, feeds, note: `${cand.note}; max abs diff ${d.toExponential(1)}` });
  }
  const t = await timeRoundRobin(vs, rounds(k, CAND_RUNS));
  console.log(`\n### K = ${k}: candidate exact layouts (4 blocks), ${rounds(k, CAND_RUNS)} rounds\n`);
  console.log(table(rows(vs, t), ["rewritten: conv", "rewritten: matmul"]));
}

// ---------------------------------------------------------------------------------------
// 4. conv vs matmul layout between the two class counts.

async function crossover(): Promise<void> {
  const lines = ["| K | conv median / min ms | matmul median / min ms | matmul ÷ conv: med (min) |", "|---:|---:|---:|---:|"];
  for (const k of [160, 320, 640]) {
    const m = buildNeckModel({ k, form: "einsum" });
    const feeds = feedsFor(m);
    const ref = await session(encodeModel(m));
    const vs: Variant[] = [];
    for (const layout of ["conv", "matmul"] as const) {
      const s = await session(rewrite(m, { neckForm: layout }, V2S_NECK_BLOCKS.length).bytes);
      await assertSame(`K=${k} ${layout}`, ref, s, feeds, ATOL);
      vs.push({ name: layout, session: s, feeds });
    }
    const t = await timeRoundRobin(vs, rounds(k));
    const [a, b] = [t.get("conv")!, t.get("matmul")!];
    lines.push(`| ${k} | ${a.median.toFixed(2)} / ${a.min.toFixed(2)} | ${b.median.toFixed(2)} / ${b.min.toFixed(2)} | ${(b.median / a.median).toFixed(2)} (${(b.min / a.min).toFixed(2)}) |`);
  }
  console.log(`\n### rewritten conv vs matmul layout at intermediate K (4 blocks), ${RUNS_1203} rounds (K = 160: ${rounds(160)})\n`);
  console.log(lines.join("\n"));
}
