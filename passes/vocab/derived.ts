// Exporters fold what they can: with the text a constant, torch.onnx.export stores the row
// norms ||T_k|| (from F.normalize) as a constant of their own, next to the text. Such a
// constant holds the old vocabulary and must be recomputed from the new one. It is
// recognized by its values: it must equal a known function of the text to within float
// rounding, on all K rows, or it is left alone (and the class-axis check refuses it).
import type { GraphIR } from "../ir/graph.ts";
import { FLOAT_TYPES, numel, type ConstTensor } from "../ir/tensor.ts";
import { roundTo } from "../fold/kernels.ts";

/** A constant that holds the text or a function of it, on class axis `axis`. */
export interface TextSource { name: string; axis: number; derive(text: ConstTensor): ConstTensor }

export const identitySource = (name: string, axis: number): TextSource => ({ name, axis, derive: (t) => t });

function rowNorms(t: ConstTensor): Float64Array {
  const d = t.dims[t.dims.length - 1], k = t.data.length / d;
  const out = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += t.data[i * d + j] ** 2;
    out[i] = Math.sqrt(s);
  }
  return out;
}

const DERIVATIONS: Array<{ what: string; size: (k: number, d: number) => number; values: (t: ConstTensor) => Float64Array }> = [
  // A plain copy first: with unit-norm rows a copy would also pass for "normalized rows".
  { what: "copy", size: (k, d) => k * d, values: (t) => t.data },
  { what: "row L2 norms", size: (k) => k, values: rowNorms },
  {
    what: "normalized rows", size: (k, d) => k * d,
    values: (t) => {
      const d = t.dims[t.dims.length - 1], n = rowNorms(t);
      return t.data.map((v, i) => v / Math.max(n[Math.floor(i / d)], 1e-12));
    },
  },
];

const close = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= 2e-6 * Math.max(Math.abs(b[i]), 1e-12))) return false;
  return true;
};

/** Constants other than `text` itself that equal a known function of its rows. */
export function derivedSources(g: GraphIR, textName: string, text: ConstTensor): TextSource[] {
  const d = text.dims[text.dims.length - 1], k = text.dims[text.dims.length - 2];
  const names = [...(g.proto.initializer ?? []).map((t) => t.name ?? ""), ...g.nodes.filter((n) => n.op_type === "Constant" && !n.domain).map((n) => n.output![0])];
  const out: TextSource[] = [];
  for (const name of names) {
    if (name === textName || g.isOverridable(name)) continue;
    const init = g.initializer(name);
    const dims = init ? (init.dims ?? []).map(Number) : null;
    const n = dims ? numel(dims) : null;
    if (n !== null && n !== k && n !== k * d) continue; // cheap skip before reading values
    const c = g.constant(name);
    if (!c || !FLOAT_TYPES.has(c.dtype)) continue;
    const axis = c.dims.indexOf(k);
    if (axis < 0 || c.dims.lastIndexOf(k) !== axis) continue;
    for (const f of DERIVATIONS) {
      if (c.data.length !== f.size(k, d)) continue;
      if (!close(c.data, roundTo(c.dtype, f.values(text)))) continue;
      out.push({
        name, axis,
        derive: (t) => {
          const k2 = t.dims[t.dims.length - 2];
          return { dtype: c.dtype, dims: c.dims.map((x, i) => (i === axis ? k2 : x)), data: roundTo(c.dtype, f.values(t)) };
        },
      });
      break;
    }
  }
  return out;
}
