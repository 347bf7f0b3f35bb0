// A class axis and its layout: where the vocabulary size K lives in a tensor, in segments
// (Ultralytics' box + class channels are [64][K]: fixed sizes next to the classes).
export type Segment = { k: true } | { n: number };
export interface ClassAxis { axis: number; segs: Segment[] }

/** Concrete shapes and constant values of the original graph (one probe shape). */
export interface Probe {
  shape(v: string): number[];
  values(v: string): number[];
}

/**
 * What an op makes of the class axis: one state per output (null: no classes there).
 * `mixes` says how the op combines classes (a softmax or sum over them): then its values
 * change when classes are repeated, and the proofs that pad or repeat classes do not hold.
 */
export interface Through { states: Array<ClassAxis | null>; checkShapes?: boolean; mixes?: string }

export const segSize = (segs: readonly Segment[], k: number): number => segs.reduce((s, g) => s + ("k" in g ? k : g.n), 0);
export const sameSegs = (a: Segment[], b: Segment[]) => a.length === b.length && a.every((s, i) => ("k" in s ? "k" in b[i] : !("k" in b[i]) && b[i] && (b[i] as { n: number }).n === s.n));

export function mergeFixed(segs: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segs) {
    const last = out[out.length - 1];
    if ("n" in s && last && "n" in last) out[out.length - 1] = { n: last.n + s.n };
    else if (!("n" in s && s.n === 0)) out.push(s);
  }
  return out;
}

/** The segments covering [start, end) of a class axis laid out as `segs`, or null if a boundary falls inside a K segment. */
export function sliceSegs(segs: Segment[], k: number, start: number, end: number): Segment[] | null {
  const out: Segment[] = [];
  let at = 0;
  for (const s of segs) {
    const size = "k" in s ? k : s.n;
    const lo = Math.max(start, at), hi = Math.min(end, at + size);
    if (hi > lo) {
      if ("k" in s) {
        if (lo !== at || hi !== at + size) return null;
        out.push(s);
      } else out.push({ n: hi - lo });
    }
    at += size;
  }
  return mergeFixed(out);
}
