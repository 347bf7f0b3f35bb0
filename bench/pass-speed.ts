// How long the pass itself takes on v2-S-sized sites (K = 80 and 1203): decode, reparam
// (folding the text path at two probe shapes for dynamic exports, building the weights),
// encode, against the plain decode as a yardstick. Validation is onnxruntime's time and
// is measured by the head/neck benches.
import { performance } from "node:perf_hooks";
import { decodeModelBytes, encodeModel } from "../passes/io/codec.ts";
import { reparamModel } from "../passes/pipeline/reparam-model.ts";
import { buildHeadModel, buildNeckModel } from "../models/build/yolo-world-sites.ts";

const best = (n: number, f: () => void) => {
  let t = Infinity;
  for (let i = 0; i < n; i++) { const s = performance.now(); f(); t = Math.min(t, performance.now() - s); }
  return t;
};

export async function run(): Promise<void> {
  const rows: Array<Record<string, string>> = [];
  for (const k of [80, 1203]) {
    for (const [what, bytes] of [
      ["head (einsum, 128->512 embed)", encodeModel(buildHeadModel({ k, form: "einsum", embedIn: 128 }))],
      ["neck (einsum, 4 blocks)", encodeModel(buildNeckModel({ k, form: "einsum" }))],
    ] as const) {
      const decode = best(5, () => decodeModelBytes(bytes));
      let sites = 0;
      const pass = best(3, () => { const m = { proto: decodeModelBytes(bytes), baseDir: null, source: "" }; sites = reparamModel(m).sites.filter((s) => s.status === "rewritten").length; encodeModel(m.proto); });
      rows.push({ K: String(k), model: what, "size MB": (bytes.length / 2 ** 20).toFixed(1), "sites rewritten": String(sites), "decode ms": decode.toFixed(1), "decode+reparam+encode ms": pass.toFixed(0) });
    }
  }
  console.table(rows);
}
