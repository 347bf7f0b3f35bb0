// `validate A B`: the numeric proof reparam runs, for any two models with the same inputs
// and outputs. Several seeded runs (seed 0..N-1); inputs given as data stay fixed across them.
import { statSync } from "node:fs";
import { EXIT, ReparamError } from "../errors.ts";
import { loadModel } from "../io/model-io.ts";
import type { ConstTensor } from "../ir/tensor.ts";
import { megabytes, type ProgressFn } from "../progress.ts";
import type { OutputComparison } from "./compare.ts";
import { checkSameInterface, concreteInputs, defaultTolerance } from "./model-inputs.ts";
import { validateModels, type Tolerance, type ValidationRun } from "./validate.ts";

export interface ValidateFilesOptions {
  /** Concrete shapes for symbolic input dims (NAME -> dims). */
  inputShapes?: Map<string, number[]>;
  /** Real input data (e.g. from .npy), fed to both models in every run. */
  inputs?: Map<string, ConstTensor>;
  /** Seeded runs, seeds 0..runs-1 (default 3). */
  runs?: number;
  tolerance?: Partial<Tolerance>;
  onProgress?: ProgressFn;
}

export interface ValidateFilesResult {
  a: string;
  b: string;
  passed: boolean;
  atol: number;
  rtol: number;
  /** Per output, the worst comparison over all runs (largest minPassingAtol). */
  outputs: OutputComparison[];
  runs: Array<ValidationRun & { seed: number }>;
}

export async function validateFiles(a: string, b: string, o: ValidateFilesOptions = {}): Promise<ValidateFilesResult> {
  const runs = o.runs ?? 3;
  if (!Number.isInteger(runs) || runs < 1) throw new ReparamError("--runs expects a whole number >= 1");
  for (const [name, v] of Object.entries(o.tolerance ?? {})) {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new ReparamError(`--${name} expects a finite number >= 0`);
  }
  const load = (path: string) => {
    o.onProgress?.({ message: `loading ${path}${sizeOf(path)}` });
    return loadModel(path).proto;
  };
  const [ma, mb] = [load(a), load(b)];
  checkSameInterface(ma, mb, [a, b]);
  const given = o.inputs ?? new Map();
  const inputs = concreteInputs(ma, o.inputShapes ?? new Map(), given);
  concreteInputs(mb, o.inputShapes ?? new Map(), given); // B may fix a dim A leaves symbolic
  const tolerance = { ...defaultTolerance(ma, mb), ...o.tolerance };
  // Inputs given as data are the same in every run: one run says all there is.
  const seeds = Array.from({ length: inputs.every((i) => given.has(i.name)) ? 1 : runs }, (_, i) => i);
  // By path, so onnxruntime finds external data beside each model.
  const srcA = { path: a }, srcB = { path: b };
  const done: Array<ValidationRun & { seed: number }> = [];
  for (const seed of seeds) {
    o.onProgress?.({ message: `validation run ${seed + 1}/${seeds.length} (seed ${seed})`, done: seed, total: seeds.length });
    const r = await validateModels(srcA, srcB, [inputs], { bound: given, tolerance, seed }).catch((e) => { throw relabel(e, a, b); });
    done.push({ ...r.runs[0], seed });
  }
  o.onProgress?.({ message: "validation done", done: seeds.length, total: seeds.length });
  const outputs = done[0].outputs.map((first, i) => done.map((r) => r.outputs[i]).reduce((w, c) => (c.minPassingAtol > w.minPassingAtol || (!c.passed && w.passed) ? c : w), first));
  return { a, b, passed: done.every((r) => r.passed), atol: tolerance.atol, rtol: tolerance.rtol, outputs, runs: done };
}

function sizeOf(path: string): string {
  try { return ` (${megabytes(statSync(path).size)})`; } catch { return ""; }
}

// validateModels speaks of "the original" and "the rewritten" model and of --no-validate;
// here they are A and B. B failing to load is a bad input (2); failing to run where A ran, a disagreement (1).
function relabel(e: unknown, a: string, b: string): unknown {
  if (!(e instanceof ReparamError)) return e;
  const m = /^onnxruntime cannot (load|run) the (original|rewritten) model: (.*?)(?: \(validation needs it; --no-validate skips it\))?$/.exec(e.message);
  if (!m) return e;
  const which = m[2] === "original" ? `A (${a})` : `B (${b})`;
  return new ReparamError(`onnxruntime cannot ${m[1]} ${which}: ${m[3]}`, m[1] === "load" || m[2] === "original" ? EXIT.USAGE : EXIT.VALIDATION_FAILED);
}
