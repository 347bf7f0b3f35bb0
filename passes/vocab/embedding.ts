// A user's text embedding, checked before it goes anywhere near the model: shape (K', D)
// or (1, K', D), D equal to the model's, every value finite. float64 is welcome (numpy's
// default) and is rounded to the model's precision like float32 would be.
import { DT } from "../io/onnx-types.ts";
import { dtypeName, type ConstTensor } from "../ir/tensor.ts";
import { roundTo } from "../fold/kernels.ts";
import { ReparamError } from "../errors.ts";

export interface CheckedEmbedding { rows: number; dims: number; data: Float64Array; warnings: string[] }

export function checkEmbedding(e: ConstTensor, source: string, modelD: number): CheckedEmbedding {
  if (![DT.FLOAT, DT.FLOAT16, DT.DOUBLE].includes(e.dtype as 1)) throw new ReparamError(`${source}: dtype ${dtypeName(e.dtype)}, expected float32, float16 or float64`);
  const d = e.dims;
  const ok = d.length === 2 || (d.length === 3 && d[0] === 1);
  if (!ok) throw new ReparamError(`${source}: shape (${d.join(", ")}), expected (K, D) or (1, K, D)`);
  const rows = d[d.length - 2], dims = d[d.length - 1];
  if (rows === 0) throw new ReparamError(`${source}: has no rows (K = 0): a vocabulary needs at least one class`);
  if (dims !== modelD) throw new ReparamError(`${source}: rows have D = ${dims}, the model's text has D = ${modelD}`);
  const warnings: string[] = [];
  const zero: number[] = [];
  for (let r = 0; r < rows; r++) {
    let nonzero = false;
    for (let j = 0; j < dims; j++) {
      const v = e.data[r * dims + j];
      if (!Number.isFinite(v)) throw new ReparamError(`${source}: row ${r} holds ${v} (column ${j}): every value must be finite`);
      if (v !== 0) nonzero = true;
    }
    if (!nonzero) zero.push(r);
  }
  if (zero.length) warnings.push(`${source}: row${zero.length > 1 ? "s" : ""} ${zero.slice(0, 8).join(", ")}${zero.length > 8 ? ", ..." : ""} ${zero.length > 1 ? "are" : "is"} all zeros: normalized, such a class scores a constant and never fires`);
  return { rows, dims, data: e.data, warnings };
}

/** The embedding as the model holds its text: same rank, same element type. */
export function asModelText(c: CheckedEmbedding, rank: number, dtype: number): ConstTensor {
  const dims = rank === 3 ? [1, c.rows, c.dims] : [c.rows, c.dims];
  return { dtype, dims, data: roundTo(dtype, Float64Array.from(c.data)) };
}
