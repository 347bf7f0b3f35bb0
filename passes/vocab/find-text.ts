// Which constant is "the text": the one every site's text operand is computed from, a
// float (K, D) or (1, K, D) whose rows reach each site as its classes. Exporters name it
// anything (`onnx::Expand_390`, `txt_feats`, a Constant node), so it is found by where it
// flows, not by its name.
import { DT } from "../io/onnx-types.ts";
import type { GraphIR } from "../ir/graph.ts";
import { ReparamError } from "../errors.ts";
import { propagateClassAxis } from "./class-axis.ts";
import type { Probe } from "./segments.ts";
import { derivedSources, identitySource, type TextSource } from "./derived.ts";

export interface TextConstant { name: string; dims: number[]; dtype: number; sources: TextSource[] }

const FLOATS = new Set<number>([DT.FLOAT, DT.FLOAT16, DT.DOUBLE, DT.BFLOAT16]);

/** Constants and graph inputs `value` is computed from (Shape reads dims, not values). */
export function leaves(g: GraphIR, value: string): Set<string> {
  const out = new Set<string>(), seen = new Set<string>(), stack = [value];
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    if (g.initializer(v) || g.isGraphInput(v)) { out.add(v); continue; }
    const n = g.producer(v);
    if (!n) continue;
    if (n.op_type === "Constant" && !n.domain) { out.add(v); continue; }
    if ((n.op_type === "Shape" || n.op_type === "Size") && !n.domain) continue;
    for (const i of n.input ?? []) if (i) stack.push(i);
  }
  return out;
}

function describe(g: GraphIR, name: string): TextConstant | null {
  if (g.isOverridable(name) || g.isGraphInput(name)) return null;
  const init = g.initializer(name);
  const dtype = init ? init.data_type ?? 0 : g.constant(name)?.dtype ?? 0;
  if (!FLOATS.has(dtype)) return null;
  const dims = init ? (init.dims ?? []).map(Number) : g.constant(name)!.dims;
  const ok = (dims.length === 2 || (dims.length === 3 && dims[0] === 1)) && dims[dims.length - 1] > 1;
  if (!ok) return null;
  const value = g.constant(name);
  if (!value) return null;
  return { name, dims, dtype, sources: [identitySource(name, dims.length - 2), ...derivedSources(g, name, value)] };
}

/** Constants every site operand is computed from that reach each site as its classes, and why the others do not. */
export function textCandidates(g: GraphIR, probe: Probe, operands: string[]): { candidates: TextConstant[]; refusals: string[] } {
  const cones = operands.map((o) => leaves(g, o));
  const common = [...cones[0]].filter((v) => cones.every((c) => c.has(v)));
  // A candidate must reach every site as its classes: a Linear weight (D, c) reaches the neck
  // as channels, not classes, and drops out here.
  const refusals: string[] = [];
  const candidates = common.map((v) => describe(g, v)).filter((t): t is TextConstant => t !== null).filter((t) => {
    const p = propagateClassAxis(g, probe, t.sources, t.dims[t.dims.length - 2]);
    if ("refusal" in p) { refusals.push(`${t.name}: ${p.refusal}`); return false; }
    const missed = operands.find((o) => !p.axes.has(o));
    if (missed) refusals.push(`${t.name} does not reach the site operand '${missed}' as its classes`);
    return !missed;
  });
  return { candidates, refusals };
}

/** `found`: textCandidates' answer, when the caller already has it. */
export function findTextConstant(g: GraphIR, probe: Probe, operands: string[], named: string | undefined, source: string, found?: ReturnType<typeof textCandidates>): TextConstant {
  if (named) {
    const t = describe(g, named);
    if (!t) throw new ReparamError(`--text-input '${named}': not a graph input, nor a float constant of shape (K, D) or (1, K, D)`);
    return t;
  }
  if (operands.length === 0) throw new ReparamError(`--text-embed ${source}: the model has no head or neck site, so no text to replace`);
  const { candidates, refusals } = found ?? textCandidates(g, probe, operands);
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0 && refusals.length) throw new ReparamError(`cannot retarget the vocabulary: ${refusals[0]}`);
  if (candidates.length === 0) throw new ReparamError(`--text-embed ${source}: no constant of shape (K, D) or (1, K, D) feeds every site (the text may be computed at run time, or folded by the exporter into per-site constants); name it with --text-input`);
  throw new ReparamError(`--text-embed ${source}: several constants could be the text (${candidates.map((t) => `${t.name} (${t.dims.join("x")})`).join(", ")}); name one with --text-input`);
}
