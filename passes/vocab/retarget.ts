// Retargeting: the model's text (K rows) becomes the user's (K' rows, any K'), and every
// place K lives downstream follows. Requires: the text value and its class axis; the
// graph unedited. Ensures: the text holds the new rows; shape arguments, declared output
// dims and value_info that carried K carry K'; nothing else changes. Every refusal is
// found before the first edit (class-axis propagation), except shape arguments computed
// at run time from something other than the classes, which are found while patching
// (the caller discards the model then).
import Long from "long";
import type { ValueInfo } from "../io/onnx-types.ts";
import type { GraphIR } from "../ir/graph.ts";
import type { ConstTensor } from "../ir/tensor.ts";
import { ConstantFolder } from "../fold/fold-constants.ts";
import { plural, ReparamError } from "../errors.ts";
import { propagateClassAxis } from "./class-axis.ts";
import { segSize, type Probe, type Segment } from "./segments.ts";
import { patchShapes } from "./shape-patches.ts";
import type { TextSource } from "./derived.ts";
import { strayVocabularyCopies } from "./stray-copies.ts";
import { SizeCapError } from "../io/size-cap.ts";

export interface ProbeMaps { a: Map<string, number[]>; b: Map<string, number[]> | null }

export interface ClassOutput { name: string; axis: number; segs: Segment[] }

export interface Retarget {
  /** The constant (or bound graph input) that held the text. */
  text: string;
  /** It and the constants the exporter folded from it (row norms), each recomputed from new rows. */
  sources: TextSource[];
  from: number;
  to: number;
  /** Graph outputs that carry the classes, with their layout (for the proof's index maps). */
  outputs: ClassOutput[];
  /** One line per shape argument or declared dim that was updated. */
  edits: string[];
  /** Graph outputs whose new shape the shape inference could not compute (the proof still runs them). */
  unchecked: string[];
  /** An op whose values change when classes repeat (a softmax over them): the padded and duplicated proofs do not apply. */
  mixes: string | null;
}

/** A probe over the original graph that remembers what it read, so it still answers after the edits. */
export function recordingProbe(g: GraphIR, shapes: Map<string, number[]>): Probe & { folder: ConstantFolder } {
  const folder = new ConstantFolder(g, { inputShapes: shapes });
  const sh = new Map<string, number[]>(), vals = new Map<string, number[]>();
  return {
    folder,
    shape(v) {
      let s = sh.get(v);
      if (!s) {
        const r = folder.shape(v);
        if (typeof r === "string") throw r;
        sh.set(v, (s = r));
      }
      return s;
    },
    values(v) {
      let x = vals.get(v);
      if (!x) {
        const r = folder.fold(v);
        if (!r.ok) throw r.reason;
        vals.set(v, (x = Array.from(r.value.data)));
      }
      return x;
    },
  };
}

/**
 * Swaps the text (`sources[0]`, K rows, and the constants derived from it) for `value` (K' rows)
 * and makes the graph follow. `swap` performs the replacement (constants, or a bound input);
 * every site text operand in `operands` must be computed from the text.
 */
export function retarget(g: GraphIR, probe: ProbeMaps, sources: TextSource[], from: number, value: ConstTensor, swap: () => void, operands: string[]): Retarget {
  const name = sources[0].name;
  const to = value.dims[sources[0].axis];
  const pa = recordingProbe(g, probe.a);
  const pb = probe.b ? recordingProbe(g, probe.b) : null;
  // With one class, the class axis cannot be told from the size-1 axes around it.
  if (from < 2) throw new ReparamError(`cannot retarget the vocabulary: the model's text '${name}' has ${plural(from, "row")}; a single-class export cannot be followed (export it with two or more classes)`);
  const prop = propagateClassAxis(g, pa, sources, from);
  if ("refusal" in prop) throw new ReparamError(`cannot retarget the vocabulary: ${prop.refusal}`);
  const stray = strayVocabularyCopies(g, new Set(prop.axes.keys()), from);
  if (stray.length) throw new ReparamError(`cannot retarget the vocabulary: '${stray[0]}' holds ${from} rows like the text but is not computed from '${name}' (a copy the exporter folded, e.g. a Linear of the text): it would keep the old classes`);
  // A site still reading a text of the old vocabulary would be silently wrong.
  const stale = operands.find((o) => !prop.axes.has(o));
  if (stale) throw new ReparamError(`cannot retarget the vocabulary: the site operand '${stale}' is not computed from '${name}' (a text folded into a per-site constant, or a second text); name the text with --text-input if it is another constant`);
  const outputs: ClassOutput[] = g.outputs.filter((o) => prop.axes.has(o.name ?? "")).map((o) => ({ name: o.name!, ...prop.axes.get(o.name!)! }));
  // Shapes the outputs must have afterwards: the original ones with the class axis resized.
  const expected = (p: Probe | null) => new Map(g.outputs.map((o) => {
    if (!p) return [o.name!, null];
    try {
      const s = p.shape(o.name!).slice();
      const c = prop.axes.get(o.name!);
      if (c) s[c.axis] = segSize(c.segs, to);
      return [o.name!, s];
    } catch (e) { if (e instanceof SizeCapError) throw e; return [o.name!, null]; }
  }));
  const want = { a: expected(pa), b: expected(pb) };
  // Read every original shape the patches will need before anything changes.
  for (const n of prop.shapeNodes) { for (const v of [...(n.input ?? []), ...(n.output ?? [])]) if (v) { try { pa.shape(v); } catch (e) { if (e instanceof SizeCapError) throw e; /* else read again later */ } } }

  swap();
  let edits: string[];
  try {
    edits = patchShapes({ graph: g, shapes: probe, axes: prop.axes, originalShape: (v) => pa.shape(v), originalValues: (v) => pa.values(v), from, to }, prop.shapeNodes);
  } catch (e) {
    if (e instanceof SizeCapError) throw e;
    throw new ReparamError(`cannot retarget the vocabulary: ${typeof e === "string" ? e : (e as Error).message}`);
  }
  edits.push(...resizeDeclared(g, prop.axes, from, to));

  // The result must have the shapes the new vocabulary implies, at both probe shapes.
  const unchecked = new Set<string>();
  for (const [which, shapes] of [["a", probe.a], ["b", probe.b]] as const) {
    if (!shapes) continue;
    const f = new ConstantFolder(g, { inputShapes: shapes });
    for (const o of g.outputs) {
      const w = want[which].get(o.name!);
      const got = f.shape(o.name!);
      if (!w || typeof got === "string") { unchecked.add(o.name!); continue; }
      if (got.join() !== w.join()) throw new ReparamError(`cannot retarget the vocabulary: output '${o.name}' would have shape [${got}], expected [${w}]`);
    }
  }
  return { text: name, sources, from, to, outputs, edits, unchecked: [...unchecked], mixes: prop.mixes };
}

/** Declared dims (graph outputs, value_info) on the class axis: K-sized ones become K'-sized. */
function resizeDeclared(g: GraphIR, axes: Map<string, { axis: number; segs: Segment[] }>, from: number, to: number): string[] {
  const edits: string[] = [];
  const fix = (v: ValueInfo, where: string) => {
    const c = axes.get(v.name ?? "");
    const dim = c && v.type?.tensor_type?.shape?.dim?.[c.axis];
    if (!c || !dim || dim.dim_value === undefined || dim.dim_value === null) return;
    const old = Number(dim.dim_value);
    if (old !== segSize(c.segs, from)) return;
    dim.dim_value = Long.fromNumber(segSize(c.segs, to));
    if (where === "output") edits.push(`output '${v.name}': dim ${c.axis} ${old} -> ${segSize(c.segs, to)}`);
  };
  for (const o of g.outputs) fix(o, "output");
  for (const v of g.proto.value_info ?? []) fix(v, "value_info");
  return edits;
}
