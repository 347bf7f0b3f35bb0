// Selecting K' of the model's K classes, in a chosen order (--classes, or a new text whose
// every row is one of the model's own). Taking rows is exact whatever the exporter folded:
// every constant with one entry per class (the text, its row norms, or the per-site
// constants of a simplified export) keeps the chosen entries along its class axis, and
// the graph follows the new class count as in a retarget (retarget.ts).
import type { GraphIR } from "../ir/graph.ts";
import type { ConstTensor } from "../ir/tensor.ts";
import { ReparamError } from "../errors.ts";
import { classConstants, type ClassConstants } from "./class-constants.ts";
import { resolveClasses, type ClassRef } from "./resolve-classes.ts";
import { recordingProbe, retarget, type ProbeMaps } from "./retarget.ts";
import type { Vocabulary } from "./vocabulary.ts";

export interface SelectionRequest {
  wanted: readonly ClassRef[];
  /** The model's names metadata (null: none, or unreadable). */
  names: readonly string[] | null;
  source: string;
  probe: (g: GraphIR) => ProbeMaps;
  operands: () => string[];
}

/** `t` with only the entries `rows` (in that order) along `axis`. */
export function takeRows(t: ConstTensor, axis: number, rows: readonly number[]): ConstTensor {
  const outer = t.dims.slice(0, axis).reduce((a, b) => a * b, 1), inner = t.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const n = t.dims[axis], k = rows.length;
  const data = new Float64Array(outer * k * inner);
  for (let o = 0; o < outer; o++) for (let i = 0; i < k; i++) data.set(t.data.subarray((o * n + rows[i]) * inner, (o * n + rows[i] + 1) * inner), (o * k + i) * inner);
  return { dtype: t.dtype, dims: t.dims.map((d, i) => (i === axis ? k : d)), data };
}

/** --classes: resolves the selection against the model's names, then keeps those classes. */
export function applyClassSelection(g: GraphIR, r: SelectionRequest): Vocabulary {
  const probe = r.probe(g);
  const operands = r.operands();
  const found = classConstants(g, recordingProbe(g, probe.a), operands, r.names?.length ?? null);
  if ("refusal" in found) throw new ReparamError(`${r.source}: cannot select classes: ${found.refusal}`);
  const indices = resolveClasses(r.wanted, r.names, found.k, r.source);
  return selectRows(g, probe, operands, found, indices, r.source);
}

/** Keeps classes `indices` (original class of each new one) in every class-holding constant. */
export function selectRows(g: GraphIR, probe: ProbeMaps, operands: string[], found: ClassConstants, indices: number[], source: string): Vocabulary {
  const before = found.sources.map((s) => ({ s, v: g.constant(s.name)! }));
  const after = before.map(({ s, v }) => ({ s, v: takeRows(v, s.axis, indices) }));
  const change = retarget(g, probe, found.sources, found.k, after[0].v, () => { for (const { s, v } of after) g.setConstant(s.name, v); }, operands);
  return { ...change, kind: "selection", source, base: before[0].v, value: after[0].v, selected: indices };
}
