// After the text is swapped, shape arguments that spelled out the old class count must
// spell the new one: a Reshape to (B, 64 + K, -1), Split sizes (64, K), an Expand to
// (1, K, D), Slice bounds around the classes. Only the element that carries the class
// axis changes, and only where it is a fixed constant (the same under both probe shapes);
// a value computed from Shape ops already follows the new shapes by itself.
import Long from "long";
import type { Node } from "../io/onnx-types.ts";
import { attr, type GraphIR } from "../ir/graph.ts";
import { numel, type ConstTensor } from "../ir/tensor.ts";
import { normAxis, reshapeDims } from "../fold/kernels.ts";
import { ConstantFolder } from "../fold/fold-constants.ts";
import { segSize, sliceSegs, type ClassAxis } from "./segments.ts";
import { SizeCapError } from "../io/size-cap.ts";

export interface PatchContext {
  graph: GraphIR;
  shapes: { a: Map<string, number[]>; b: Map<string, number[]> | null };
  axes: Map<string, ClassAxis>;
  /** Shapes and values in the original graph at probe A, as the propagation read them before the swap. */
  originalShape: (v: string) => number[];
  originalValues: (v: string) => number[];
  from: number;
  to: number;
}

class Folders {
  a!: ConstantFolder;
  b!: ConstantFolder | null;
  constructor(private ctx: PatchContext) { this.reset(); }
  // Any edit may change values folded before it: start over (shape vectors are small).
  reset(): void {
    this.a = new ConstantFolder(this.ctx.graph, { inputShapes: this.ctx.shapes.a });
    this.b = this.ctx.shapes.b ? new ConstantFolder(this.ctx.graph, { inputShapes: this.ctx.shapes.b }) : null;
  }
  values(v: string): number[] {
    const r = this.a.fold(v);
    if (!r.ok) throw r.reason;
    return Array.from(r.value.data);
  }
  shape(v: string): number[] {
    const s = this.a.shape(v);
    if (typeof s === "string") throw s;
    return s;
  }
}

const label = (n: Node) => `${n.op_type} '${n.name || n.output?.[0]}'`;

/** Applies every shape edit the new class count needs; returns a line per edit, or throws a reason string. */
export function patchShapes(ctx: PatchContext, nodes: Node[]): string[] {
  const f = new Folders(ctx);
  const edits: string[] = [];
  const k0 = ctx.from, k1 = ctx.to;
  for (const n of nodes) {
    const ins = n.input!;
    const s0 = ctx.axes.get(ins[0])!;
    const why = (r: string) => `${label(n)}: ${r}`;
    switch (n.op_type) {
      case "Reshape": {
        const so = ctx.axes.get(n.output![0])!;
        const expected = ctx.originalShape(n.output![0]).slice();
        expected[so.axis] = segSize(so.segs, k1);
        const az = Number(attr(n, "allowzero")?.i ?? 0) === 1;
        const gives = () => reshapeDims(f.shape(ins[0]), f.values(ins[1]), az);
        if (same(tryDims(gives), expected)) break;
        const target = f.values(ins[1]);
        if (target[so.axis] !== segSize(so.segs, k0)) throw why(`its target [${target}] does not give [${expected}] and has no class count to update`);
        edits.push(setElement(ctx.graph, f, n, 1, so.axis, expected[so.axis]));
        if (!same(tryDims(gives), expected)) throw why(`after the update it gives [${tryDims(gives)}], not [${expected}]`);
        break;
      }
      case "Expand": {
        const so = ctx.axes.get(n.output![0])!;
        const v = f.values(ins[1]);
        const rank = ctx.originalShape(n.output![0]).length;
        const pos = so.axis - (rank - v.length);
        if (pos < 0 || v[pos] === 1 || v[pos] === segSize(so.segs, k1)) break;
        if (v[pos] !== segSize(so.segs, k0)) throw why(`expands the classes to ${v[pos]}`);
        edits.push(setElement(ctx.graph, f, n, 1, pos, segSize(so.segs, k1)));
        break;
      }
      case "Split": {
        const rank = ctx.originalShape(ins[0]).length;
        const ax = normAxis(Number(attr(n, "axis")?.i ?? 0), rank);
        if (ax !== s0.axis) break;
        const sizes = ins[1] ? f.values(ins[1]) : attr(n, "split")!.ints!.map(Number);
        // The parts as laid out in the original: each keeps its segments, with the new K.
        let at = 0;
        const want = sizes.map(() => 0);
        const old = ins[1] ? ctx.originalValues(ins[1]) : sizes;
        old.forEach((sz, i) => { want[i] = segSize(sliceSegs(s0.segs, k0, at, at + sz)!, k1); at += sz; });
        for (let i = 0; i < sizes.length; i++) {
          if (sizes[i] === want[i]) continue;
          edits.push(ins[1] ? setElement(ctx.graph, f, n, 1, i, want[i]) : setAttrInt(n, "split", i, want[i]));
        }
        break;
      }
      case "Slice": {
        const rank = ctx.originalShape(ins[0]).length;
        const attrForm = !ins[1];
        const arg = (i: number, a: string) => (attrForm ? attr(n, a)?.ints?.map(Number) : ins[i] ? f.values(ins[i]) : undefined);
        const starts = arg(1, "starts")!, ends = arg(2, "ends")!;
        const axes = (arg(3, "axes") ?? starts.map((_, i) => i)).map((a) => normAxis(a, rank));
        const i = axes.indexOf(s0.axis);
        if (i < 0) break;
        const len0 = segSize(s0.segs, k0), len1 = segSize(s0.segs, k1);
        for (const [vals, which, name] of [[starts, 1, "starts"], [ends, 2, "ends"]] as const) {
          const v = vals[i];
          const abs0 = Math.min(Math.max(v < 0 ? v + len0 : v, 0), len0);
          let abs1 = segSize(sliceSegs(s0.segs, k0, 0, abs0)!, k1);
          if (abs0 === len0) abs1 = len1; // "to the end" stays to the end
          const now = Math.min(Math.max(v < 0 ? v + len1 : v, 0), len1);
          if (now === abs1) continue;
          const nv = v < 0 ? abs1 - len1 : abs1;
          edits.push(attrForm ? setAttrInt(n, name, i, nv) : setElement(ctx.graph, f, n, which, i, nv));
        }
        break;
      }
    }
  }
  return edits;
}

const tryDims = (f: () => number[]): number[] | string => { try { return f(); } catch (e) { if (e instanceof SizeCapError) throw e; return String((e as Error)?.message ?? e); } };
const same = (a: number[] | string, b: number[]) => typeof a !== "string" && a.join() === b.join();

function setAttrInt(n: Node, name: string, i: number, value: number): string {
  const a = attr(n, name)!;
  const old = Number(a.ints![i]);
  a.ints![i] = Long.fromNumber(value);
  return `${label(n)}: attribute ${name}[${i}] ${old} -> ${value}`;
}

/**
 * Sets element `elem` of node input `index` to `value`: the whole vector when it is a fixed
 * constant, else the constant piece of the Concat (or Cast/Identity) that computes it.
 */
function setElement(g: GraphIR, f: Folders, n: Node, index: number, elem: number, value: number): string {
  const v = n.input![index];
  const a = f.a.fold(v), b = f.b?.fold(v);
  const fixed = a.ok && (!f.b || (b!.ok && sameTensor(a.value, b!.value)));
  if (fixed) {
    const data = Float64Array.from(a.value.data);
    const old = data[elem];
    data[elem] = value;
    const name = g.addInitializer(`${v}_classes`, { dtype: a.value.dtype, dims: a.value.dims, data });
    g.setInput(n, index, name);
    f.reset();
    return `${label(n)}: input '${v}' element ${elem} ${old} -> ${value}`;
  }
  const p = g.producer(v);
  if (p && !p.domain && (p.op_type === "Cast" || p.op_type === "Identity")) return setElement(g, f, p, 0, elem, value);
  if (p && !p.domain && p.op_type === "Concat") {
    let at = 0;
    for (let i = 0; i < p.input!.length; i++) {
      const len = numel(f.shape(p.input![i]));
      if (elem < at + len) return setElement(g, f, p, i, elem - at, value);
      at += len;
    }
  }
  throw `${label(n)}: element ${elem} of '${v}' holds the class count but is computed at run time (${p?.op_type ?? "graph input"}), not a constant this pass can update`;
}

const sameTensor = (x: ConstTensor, y: ConstTensor) => x.dims.join() === y.dims.join() && x.data.every((v, i) => Object.is(v, y.data[i]));

