// A user's text embedding, checked before it goes anywhere near the model: shape (K', D)
// or (1, K', D), D equal to the model's, every value finite. float64 is welcome (numpy's
// default) and is rounded to the model's precision like float32 would be.
import { DT } from "../io/onnx-types.ts";
import { dtypeName, type ConstTensor } from "../ir/tensor.ts";
import { roundTo } from "../fold/kernels.ts";
import { ReparamError } from "../errors.ts";

export interface CheckedEmbedding { rows: number; dims: number; data: Float64Array; warnings: string[] }

/** Largest finite value of each float type a text can be held in. */
const FLOAT_MAX: Readonly<Record<number, number>> = { [DT.FLOAT]: 3.4028234663852886e38, [DT.FLOAT16]: 65504, [DT.DOUBLE]: Number.MAX_VALUE };

/**
 * Rows are numbered from 1 in every message ("row 3 of my.npy"), like names and lines.
 *
 * A row must be representable in the model's element type `modelDtype` and so must its
 * squared L2 norm. The norm is the bound that matters: every head the tool rewrites normalizes
 * its text with ReduceL2 (or LpNormalization), which squares and sums the row in the model's
 * type, so a row whose squared norm overflows (|t| > 1.8e19 in float32, > 256 in float16)
 * becomes Inf / 0 at run time while a float64 fold would not: validation would fail with no
 * hint why. Where the text is not normalized (the neck's guide Linear, an un-normalized head),
 * a score is x . t with |x . t| <= |x| |t|, which stays finite for every image feature of norm
 * below MAX / |t|: within the bound that is 1.8e19 or more (float32), far beyond any activation.
 */
export function checkEmbedding(e: ConstTensor, source: string, modelD: number, modelDtype: number = DT.FLOAT): CheckedEmbedding {
  if (![DT.FLOAT, DT.FLOAT16, DT.DOUBLE].includes(e.dtype as 1)) throw new ReparamError(`${source}: dtype ${dtypeName(e.dtype)}, expected float32, float16 or float64`);
  const d = e.dims;
  const ok = d.length === 2 || (d.length === 3 && d[0] === 1);
  if (!ok) throw new ReparamError(`${source}: shape (${d.join(", ")}), expected (K, D) or (1, K, D)`);
  const rows = d[d.length - 2], dims = d[d.length - 1];
  if (rows === 0) throw new ReparamError(`${source}: has no rows (K = 0): a vocabulary needs at least one class`);
  if (dims !== modelD) throw new ReparamError(`${source}: rows have D = ${dims}, the model's text has D = ${modelD}`);
  const known = modelDtype in FLOAT_MAX ? modelDtype : DT.FLOAT;
  const max = FLOAT_MAX[known], type = { [DT.FLOAT]: "float32", [DT.FLOAT16]: "float16", [DT.DOUBLE]: "float64" }[known];
  const warnings: string[] = [];
  const zero: number[] = [];
  for (let r = 0; r < rows; r++) {
    let nonzero = false, squares = 0;
    for (let j = 0; j < dims; j++) {
      const v = e.data[r * dims + j];
      if (!Number.isFinite(v)) throw new ReparamError(`row ${r + 1} of ${source} holds ${v} (column ${j + 1}): every value must be finite`);
      if (Math.abs(v) > max) throw new ReparamError(`row ${r + 1} of ${source} holds ${v} (column ${j + 1}), beyond ${type}'s range (the model's text type)`);
      if (v !== 0) nonzero = true;
      squares += v * v;
    }
    if (!(squares <= max)) {
      throw new ReparamError(`row ${r + 1} of ${source} has L2 norm ${Math.sqrt(squares).toExponential(2)}: its square overflows ${type} (the model's text type), so its normalization and scores would be Inf; scale the row down (CLIP's rows have norm 1 to about 30)`);
    }
    if (!nonzero) zero.push(r + 1);
  }
  if (zero.length) warnings.push(`${source}: row${zero.length > 1 ? "s" : ""} ${zero.slice(0, 8).join(", ")}${zero.length > 8 ? ", ..." : ""} ${zero.length > 1 ? "are" : "is"} all zeros: normalized, such a class scores a constant and never fires`);
  return { rows, dims, data: e.data, warnings };
}

/** The embedding as the model holds its text: same rank, same element type. */
export function asModelText(c: CheckedEmbedding, rank: number, dtype: number): ConstTensor {
  const dims = rank === 3 ? [1, c.rows, c.dims] : [c.rows, c.dims];
  return { dtype, dims, data: roundTo(dtype, Float64Array.from(c.data)) };
}
