// New text for a simplified static export, whose text was folded into per-site constants:
// the neck's per-site guides are the text already pushed through the guide Linear, whose
// weights are no longer in the file, so new rows cannot be carried to the neck. Rows the
// model already has can: each becomes a selection of that class. Anything else is refused
// as a whole, never a partial retarget (head on the new text, neck on the old).
import type { GraphIR } from "../ir/graph.ts";
import { DT } from "../io/onnx-types.ts";
import type { ConstTensor } from "../ir/tensor.ts";
import { ReparamError } from "../errors.ts";
import { checkEmbedding } from "./embedding.ts";
import type { ClassConstants } from "./class-constants.ts";
import { unitRows } from "./derived.ts";

const normalized = (row: Float64Array): Float64Array => {
  let s = 0;
  for (const v of row) s += v * v;
  const n = Math.max(Math.sqrt(s), 1e-12);
  return row.map((v) => v / n);
};

/** Index of the row of `ref` (K x D) equal to `row` within `tol`, or -1; `order` sorts ref's rows by their first value. */
function findRow(ref: Float64Array, d: number, order: Int32Array, row: Float64Array, tol: number): number {
  let lo = 0, hi = order.length;
  while (lo < hi) { const m = (lo + hi) >> 1; if (ref[order[m] * d] < row[0] - tol) lo = m + 1; else hi = m; }
  for (let i = lo; i < order.length && ref[order[i] * d] <= row[0] + tol; i++) {
    const r = order[i] * d;
    let j = 0;
    while (j < d && Math.abs(ref[r + j] - row[j]) <= tol) j++;
    if (j === d) return order[i];
  }
  return -1;
}

export function existingRows(g: GraphIR, found: ClassConstants, embed: ConstTensor, source: string): { indices: number[]; warnings: string[] } {
  const width = embed.dims[embed.dims.length - 1];
  // The text as the sites read it: a per-site constant of the text's own width on the class axis (K, D).
  const refs = found.sources.filter((s) => {
    const dims = g.constant(s.name)?.dims ?? [];
    return s.axis === dims.length - 2 && dims[dims.length - 1] === width && dims.slice(0, -2).every((x) => x === 1);
  });
  const checked = refs.length ? checkEmbedding(embed, source, width) : null;
  for (const s of refs) {
    const ref = g.constant(s.name)!;
    const unit = unitRows(ref);
    const tol = ref.dtype === DT.FLOAT16 || ref.dtype === DT.BFLOAT16 ? 2e-3 : 1e-5;
    const order = Int32Array.from({ length: found.k }, (_, i) => i).sort((a, b) => ref.data[a * width] - ref.data[b * width]);
    const indices: number[] = [];
    for (let r = 0; r < checked!.rows; r++) {
      const raw = checked!.data.slice(r * width, (r + 1) * width);
      const i = findRow(ref.data, width, order, unit ? normalized(raw) : raw, tol);
      if (i < 0) break;
      indices.push(i);
    }
    if (indices.length === checked!.rows) return { indices, warnings: checked!.warnings };
  }
  const names = found.sources.map((s) => `'${s.name}'`);
  const projected = found.sources.some((s) => (g.constant(s.name)?.dims.at(-1) ?? width) !== width);
  throw new ReparamError(
    `${source}: this export has no single text to replace: its text was folded into ${found.sources.length} per-site constants ` +
    `(${names.slice(0, 3).join(", ")}${names.length > 3 ? ", ..." : ""}; what onnxslim does to a static-batch export)` +
    `${projected ? ", and the neck's text projection weights are not in the file" : ""}, so only rows the model already has can be used ` +
    `(--classes selects them by name), and ${checked ? "some of the new rows are not among them" : "none of the per-site constants holds rows of the text's width to compare with"}. ` +
    `Export with simplify=False or dynamic=True, run onnx-reparam on that file, then simplify its output if wanted.`);
}
