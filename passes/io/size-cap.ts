// The one cap on what a model, a .npy file or a command line can make this tool allocate.
// Every place that materializes a tensor computes its dims first, asks here, and only then
// allocates: a 3 KB model that asks for a 2 GB constant is refused before the 2 GB exist.
// Dims are checked as they come from a file (int64, maybe negative, maybe beyond 2^53),
// and the element count is multiplied out with an early exit, so it never overflows.
import Long from "long";
import { ReparamError } from "../errors.ts";

/** Largest tensor (elements) any reader or the constant folder materializes: 64 Mi. */
export const MAX_ELEMENTS = 64 << 20;
/** Bytes per element of the working copy (values are widened to float64). */
export const WORKING_BYTES = 8;
/** Largest rank: NumPy's own limit is 64, no model needs more. */
export const MAX_RANK = 64;
/** Multiply-adds one folded MatMul may cost (a time bomb is a size bomb too): about 17 G. */
export const MAX_WORK = 2 ** 34;

/** A tensor that would be too large, or whose dims cannot exist. Exit 2, like any bad input. */
export class SizeCapError extends ReparamError {
  constructor(message: string) {
    super(message);
    this.name = "SizeCapError";
  }
}

const group = (n: number) => n.toLocaleString("en-US");
const mib = (bytes: number) => (bytes >= 1 << 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`);
const show = (dims: readonly unknown[]) => `[${dims.length > 8 ? [...dims.slice(0, 8), "..."].join(", ") : dims.join(", ")}]`;

/**
 * Why `dims` cannot be the shape of a tensor this tool materializes, or null. Each dim must be
 * a non-negative safe integer (an int64 beyond 2^53 has lost its value on the way to a number),
 * the rank at most MAX_RANK, the element count at most `max` (and the float64 copy's bytes
 * within max * WORKING_BYTES).
 */
export function dimsProblem(dims: readonly number[], max = MAX_ELEMENTS): string | null {
  if (dims.length > MAX_RANK) return `rank ${group(dims.length)} is over the limit of ${MAX_RANK}`;
  const bad = dims.find((d) => !Number.isSafeInteger(d) || d < 0);
  if (bad !== undefined) return `dims ${show(dims)} hold ${bad}, not a non-negative integer below 2^53`;
  if (dims.includes(0)) return null;
  let n = 1, i = 0;
  while (i < dims.length && n <= max) n *= dims[i++];
  if (n <= max) return null;
  // Stopped early: the count is at least n (the rest of the dims are >= 1).
  const count = i < dims.length || !Number.isSafeInteger(n) ? `over ${group(Math.min(n, Number.MAX_SAFE_INTEGER))}` : group(n);
  const bytes = i < dims.length || !Number.isSafeInteger(n * WORKING_BYTES) ? `over ${mib(n * WORKING_BYTES)}` : `${group(n * WORKING_BYTES)} bytes`;
  return `${show(dims)} would materialize ${count} elements (${bytes} as float64), over the cap of ${group(max)} elements (${group(max * WORKING_BYTES)} bytes)`;
}

/** The element count of `dims`, or a SizeCapError that starts with `what` (the node or tensor). */
export function admitDims(what: string, dims: readonly number[], max = MAX_ELEMENTS): number {
  const p = dimsProblem(dims, max);
  if (p) throw new SizeCapError(`${what}: ${p}`);
  return dims.reduce((a, b) => a * b, 1);
}

/** Refuses a computation whose cost (multiply-adds) is over MAX_WORK. */
export function admitWork(what: string, work: number, max = MAX_WORK): void {
  if (!(work <= max)) throw new SizeCapError(`${what}: would take ${group(work)} multiply-adds, over the cap of ${group(max)}`);
}

/**
 * Dims as a file stores them (int64, as Long or number) to numbers, refusing one that a number
 * cannot hold exactly, and naming it as written (2^53 + 1 would otherwise print as 2^53).
 */
export function int64Dims(what: string, dims: ReadonlyArray<Long | number | string>): number[] {
  return dims.map((d) => {
    const v = Long.isLong(d) ? (d as Long).toNumber() : Number(d);
    if (!Number.isSafeInteger(v) || v < 0) throw new SizeCapError(`${what}: dim ${Long.isLong(d) ? d.toString() : String(d)} is not a non-negative integer below 2^53`);
    return v;
  });
}
