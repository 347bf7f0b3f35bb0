// --input-shape and --input NAME=file.npy: what validate and bench feed the models.
import type { Argv } from "yargs";
import { readNpy } from "../passes/io/npy.ts";
import { parseInputShapes } from "../passes/pipeline/probe-shapes.ts";
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

/** The two options, as validate and bench take them. */
export const inputOptions = <T>(y: Argv<T>) => y
  .option("input-shape", { type: "string", array: true, requiresArg: true, default: [] as string[], describe: "concrete shape for a dynamic input, NAME:1x3x640x640" })
  .option("input", { type: "string", array: true, requiresArg: true, default: [] as string[], describe: "real data for an input, NAME=file.npy (the same in every run)" });

/** Both, parsed: concrete shapes and real data by input name. */
export const parsedInputs = (argv: Record<string, unknown>) => ({
  inputShapes: parseInputShapes(argv["input-shape"] as string[]), inputs: parseInputData(argv.input as string[]),
});
