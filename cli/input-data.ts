// --input NAME=file.npy: real input data for validate and bench.
import { readNpy } from "../passes/io/npy.ts";
import { ReparamError } from "../passes/errors.ts";
import type { ConstTensor } from "../passes/ir/tensor.ts";

export function parseInputData(specs: string[]): Map<string, ConstTensor> {
  const out = new Map<string, ConstTensor>();
  for (const s of specs) {
    const eq = s.indexOf("=");
    if (eq <= 0 || eq === s.length - 1) throw new ReparamError(`--input '${s}': expected NAME=file.npy`);
    const name = s.slice(0, eq);
    if (out.has(name)) throw new ReparamError(`--input ${name} was given more than once`);
    out.set(name, readNpy(s.slice(eq + 1)));
  }
  return out;
}

/** A value option given twice arrives as an array: say so instead of failing later. */
export function single(argv: Record<string, unknown>, names: string[]): void {
  for (const name of names) if (Array.isArray(argv[name])) throw new ReparamError(`--${name} was given more than once`);
}
