// Where a model keeps its classes. Usually one text constant feeds every site (find-text.ts).
// A simplified static export (onnxslim, Ultralytics' default) has none: the text path was
// folded per site, each head level reading its own normalized (1, K, 512) text and each neck
// block its own (1, K, M, c) guide, the guide Linear's weights gone. Those per-site
// constants are found here: the constants a site operand is computed from with a K-sized axis.
import type { GraphIR } from "../ir/graph.ts";
import { FLOAT_TYPES } from "../ir/tensor.ts";
import { declaredDims } from "../ir/graph-inputs.ts";
import { identitySource, type TextSource } from "./derived.ts";
import { leaves, textCandidates } from "./find-text.ts";
import type { Probe } from "./segments.ts";

export interface ClassConstants {
  k: number;
  /** Every constant holding one entry per class, with its class axis (the text first, when there is one). */
  sources: TextSource[];
  /** The single text constant, or null when the text was folded into per-site constants. */
  text: { name: string; dims: number[]; dtype: number } | null;
}

/** The class count the site operands agree on: the only size above 1 every operand has. */
function operandK(probe: Probe, operands: string[]): number | null {
  let common: Set<number> | null = null;
  for (const o of operands) {
    let dims: number[];
    try { dims = probe.shape(o); } catch { return null; }
    const mine = new Set(dims.filter((d) => d > 1));
    common = common ? new Set([...common].filter((d: number) => mine.has(d))) : mine;
  }
  const c = common as Set<number> | null;
  return c && c.size === 1 ? [...c][0] : null;
}

/**
 * The model's class-holding constants. `k`: the class count if known (the names metadata), else
 * it comes from the text constant or the site operands' shapes.
 */
export function classConstants(g: GraphIR, probe: Probe, operands: string[], k: number | null): ClassConstants | { refusal: string } {
  if (operands.length === 0) return { refusal: "the model has no head or neck site, so no classes to select" };
  const { candidates, refusals } = textCandidates(g, probe, operands);
  if (candidates.length > 1) return { refusal: `several constants could be the text (${candidates.map((t) => `${t.name} (${t.dims.join("x")})`).join(", ")})` };
  if (candidates.length === 1) {
    const t = candidates[0];
    return { k: t.dims[t.dims.length - 2], sources: t.sources, text: { name: t.name, dims: t.dims, dtype: t.dtype } };
  }
  const kk = k ?? operandK(probe, operands);
  if (kk === null) return { refusal: `cannot tell the class count from the site operands (${operands.join(", ")})${refusals.length ? `; ${refusals[0]}` : ""}` };
  const sources: TextSource[] = [];
  const seen = new Set<string>();
  for (const o of operands) {
    const found: string[] = [];
    for (const leaf of leaves(g, o)) {
      if (g.isGraphInput(leaf) || g.isOverridable(leaf)) {
        const v = g.inputs.find((i) => i.name === leaf);
        const dt = v?.type?.tensor_type?.elem_type ?? 0;
        if (FLOAT_TYPES.has(dt) && (declaredDims(v!) ?? []).includes(kk)) return { refusal: `the site operand '${o}' is computed from the graph input '${leaf}' (the text is fed at run time): the file holds no classes to select` };
        continue;
      }
      const init = g.initializer(leaf);
      const dtype = init ? init.data_type ?? 0 : g.constant(leaf)?.dtype ?? 0;
      const dims = init ? (init.dims ?? []).map(Number) : g.constant(leaf)?.dims ?? [];
      if (!FLOAT_TYPES.has(dtype)) continue;
      const axis = dims.indexOf(kk);
      if (axis < 0) continue;
      found.push(leaf);
      if (!seen.has(leaf)) { seen.add(leaf); sources.push(identitySource(leaf, axis)); }
    }
    if (found.length === 0) return { refusal: `the site operand '${o}' is not computed from a constant with ${kk} classes (the text may be computed at run time)` };
  }
  return { k: kk, sources, text: null };
}
