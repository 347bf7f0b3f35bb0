// Head contrast sites of YOLO-World v2-S (3 levels 80x80 / 40x40 / 20x20, C = 512,
// models/build/yolo-world-sites.ts) in onnxruntime-node CPU, 2 threads, optimization 'all':
// the einsum export and the matmul export against reparamModel's rewrite (one 1x1 Conv per
// level with logit scale, bias and the 128 -> 512 embedding Conv folded). Both exports are rewritten and asserted equal to
// the einsum export before anything is timed. Round-robin timing, as in neck-forms.
import { encodeModel } from "../passes/io/codec.ts";
import { buildHeadModel, V2S_HEAD_LEVELS } from "../models/build/yolo-world-sites.ts";
import { assertSame, feedsFor, rewrite, session, table, timeRoundRobin } from "../models/build/bench-kit.ts";

const KS = [80, 1203];
const EMBED_IN = 128;
const RUNS = Number(process.env.HEAD_RUNS ?? 25);
// Logits reach |y| ~ 60 here (exp(logit_scale) = 14.3 times an unnormalized 512-dot): 1e-3 is ~2e-5 relative.
const ATOL = 1e-3;

export async function run(): Promise<void> {
  for (const k of KS) {
    // With v2-S's cls embedding Conv (128 -> 512) in front: the rewrite merges it into the contrast Conv.
    const einsum = buildHeadModel({ k, form: "einsum", embedIn: EMBED_IN });
    const matmul = buildHeadModel({ k, form: "matmul", embedIn: EMBED_IN });
    const feeds = feedsFor(einsum);
    const ref = await session(encodeModel(einsum));
    const mm = await session(encodeModel(matmul));
    await assertSame(`K=${k} matmul export`, ref, mm, feeds, ATOL);
    const vs = [{ name: "einsum export", session: ref, feeds, note: "" }, { name: "matmul export", session: mm, feeds, note: "" }];
    for (const [form, m] of [["einsum", einsum], ["matmul", matmul]] as const) {
      const { bytes, sites } = rewrite(m, {}, V2S_HEAD_LEVELS.length);
      const s = await session(bytes);
      const d = await assertSame(`K=${k} ${form} -> conv`, ref, s, feeds, ATOL);
      vs.push({ name: `rewritten from ${form}: Conv1x1 (merged)`, session: s, feeds, note: `max abs diff ${d.toExponential(1)}; folded ${sites[0].folded?.join("+")}` });
    }
    const t = await timeRoundRobin(vs, RUNS);
    console.log(`\n### K = ${k}: 3 head levels (80x80, 40x40, 20x20; embed Conv ${EMBED_IN} -> C = 512), ${RUNS} rounds\n`);
    console.log(table(vs.map((v) => ({ label: v.name, t: t.get(v.name)!, note: v.note })), ["einsum export", "matmul export", "rewritten from einsum: Conv1x1 (merged)"]));
  }
}
