// How the class axis passes the ops that combine operands: broadcasting elementwise ops,
// MatMul, Gemm and Einsum. The axis moves to where the operand's axis lands in the output,
// disappears where it is contracted, and an operand not derived from the text that meets it
// with more than one entry would be per-class data of the old vocabulary: a refusal.
import type { Node } from "../io/onnx-types.ts";
import { attr, attrString } from "../ir/graph.ts";
import { toNumber } from "../ir/tensor.ts";
import { parseEquation } from "../ir/einsum-equation.ts";
import { sameSegs, segSize, type ClassAxis, type Probe, type Segment, type Through } from "./segments.ts";

const int = (n: Node, a: string, d: number) => { const v = attr(n, a)?.i; return v === undefined || v === null ? d : toNumber(v); };

export function broadcastThrough(ins: string[], state: (v: string) => ClassAxis | null, p: Probe, k: number): Through | string {
  const present = ins.filter(Boolean);
  const shapes = present.map((v) => p.shape(v));
  const rank = Math.max(...shapes.map((s) => s.length));
  let out: ClassAxis | null = null;
  present.forEach((v, i) => {
    const s = state(v);
    if (!s) return;
    const aligned = { axis: s.axis + rank - shapes[i].length, segs: s.segs };
    if (out && (out.axis !== aligned.axis || !sameSegs(out.segs, aligned.segs))) out = { axis: -1, segs: [] };
    else out ??= aligned;
  });
  if (!out || (out as ClassAxis).axis < 0) return "combines class axes that differ";
  const o: ClassAxis = out;
  for (let i = 0; i < present.length; i++) {
    if (state(present[i])) continue;
    const pos = o.axis - (rank - shapes[i].length);
    if (pos >= 0 && shapes[i][pos] !== 1) return `per-class values: '${present[i]}' has ${shapes[i][pos]} entries along the class axis (only a new text could supply them for ${segSize(o.segs, k)} classes)`;
  }
  return { states: [o] };
}

export function matmulThrough(n: Node, state: (v: string) => ClassAxis | null, p: Probe): Through | string {
  const [a, b] = n.input!;
  const sa = p.shape(a), sb = p.shape(b);
  if (sa.length < 2 || sb.length < 2) return "a 1-D MatMul operand";
  const ra = sa.length, rb = sb.length, ro = Math.max(ra, rb);
  const ca = state(a), cb = state(b);
  // The contracted axis: a's last, b's second to last.
  if ((ca && ca.axis === ra - 1) || (cb && cb.axis === rb - 2)) {
    if (!(ca && ca.axis === ra - 1 && cb && cb.axis === rb - 2 && sameSegs(ca.segs, cb.segs))) return "contracts the classes with per-class values not derived from the text";
    return { states: [null], mixes: "contracts over the classes" };
  }
  const outs: ClassAxis[] = [];
  if (ca) outs.push({ axis: ca.axis === ra - 2 ? ro - 2 : ca.axis + ro - ra, segs: ca.segs });
  if (cb) outs.push({ axis: cb.axis === rb - 1 ? ro - 1 : cb.axis + ro - rb, segs: cb.segs });
  if (outs.length === 2 && (outs[0].axis !== outs[1].axis || !sameSegs(outs[0].segs, outs[1].segs))) return "combines class axes that differ";
  const o = outs[0];
  // The operand without classes must broadcast along a batch class axis, not supply per-class values.
  if (o.axis < ro - 2) {
    const other = ca ? sb : sa, r = ca ? rb : ra;
    const pos = o.axis - (ro - r);
    if (!(ca && cb) && pos >= 0 && other[pos] !== 1) return `per-class values: the other operand has ${other[pos]} entries along the class axis`;
  }
  return { states: [o] };
}

export function gemmThrough(n: Node, state: (v: string) => ClassAxis | null, p: Probe): Through | string {
  const [a, b, c] = n.input!;
  const ta = int(n, "transA", 0) === 1, tb = int(n, "transB", 0) === 1;
  const ca = state(a), cb = state(b);
  if (c && state(c)) return "the class axis reaches the bias";
  const rowsA = ca ? (ta ? ca.axis === 1 : ca.axis === 0) : false;
  const colsB = cb ? (tb ? cb.axis === 0 : cb.axis === 1) : false;
  if ((ca && !rowsA) || (cb && !colsB)) return "contracts the classes";
  if (ca && cb) return "both operands carry classes";
  const o: ClassAxis = ca ? { axis: 0, segs: ca.segs } : { axis: 1, segs: cb!.segs };
  if (c) {
    const cs = p.shape(c);
    const pos = o.axis - (2 - cs.length);
    if (pos >= 0 && cs[pos] !== 1) return `per-class values: bias '${c}' has ${cs[pos]} entries along the class axis`;
  }
  return { states: [o] };
}

export function einsumThrough(n: Node, state: (v: string) => ClassAxis | null, p: Probe): Through | string {
  const eq = parseEquation(attrString(n, "equation"));
  if (typeof eq === "string") return eq;
  const ins = n.input!;
  let letter: string | null = null, segs: Segment[] | null = null;
  for (let i = 0; i < ins.length; i++) {
    const s = state(ins[i]);
    if (!s) continue;
    const l = eq.inputs[i][s.axis];
    if ((letter && letter !== l) || (segs && !sameSegs(segs, s.segs))) return "combines class axes that differ";
    letter = l; segs = s.segs;
  }
  for (let i = 0; i < ins.length; i++) {
    if (state(ins[i])) continue;
    const pos = eq.inputs[i].indexOf(letter!);
    if (pos >= 0 && p.shape(ins[i])[pos] !== 1) return `per-class values: '${ins[i]}' has the class letter '${letter}' with ${p.shape(ins[i])[pos]} entries`;
  }
  const at = eq.output.indexOf(letter!);
  return at < 0 ? { states: [null], mixes: "contracts over the classes" } : { states: [{ axis: at, segs: segs! }] };
}
