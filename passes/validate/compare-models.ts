// Numeric proof of a rewrite: original and rewritten model run in onnxruntime (node or
// web, runtime.ts) on the same seeded inputs, every output compared. The original gets
// the bound text as an input where the rewrite baked it in.
import { DT } from "../io/onnx-types.ts";
import { f16ToF32Array, f32ToF16Array } from "../io/half.ts";
import type { ConstTensor } from "../ir/tensor.ts";
import { compareOutput, type OutputComparison } from "./compare.ts";
import { EXIT, ReparamError } from "../errors.ts";
import { admitDims } from "../io/size-cap.ts";
import type { ModelSource, OrtRuntime, OrtSession, OrtTensor } from "../runtime/ort-runtime.ts";

export interface Tolerance { atol: number; rtol: number }
/** float32 models: the fixtures' worst minPassingAtol is far below this (see README). */
export const DEFAULT_TOLERANCE: Record<"float32" | "float16", Tolerance> = {
  float32: { atol: 1e-3, rtol: 1e-3 },
  float16: { atol: 5e-2, rtol: 1e-2 },
};

export type { ModelSource };
export interface ValidationInput { name: string; shape: number[]; dtype: number }

export interface ValidationRun {
  inputs: Array<{ name: string; shape: number[] }>;
  passed: boolean;
  outputs: OutputComparison[];
}

export interface ValidationReport {
  passed: boolean;
  atol: number;
  rtol: number;
  seed: number;
  /** Per output, the worst comparison over all runs (largest minPassingAtol). */
  outputs: OutputComparison[];
  /** One run per input shape set: the requested shapes, plus a second set for dynamic models. */
  runs: ValidationRun[];
  /** After a vocabulary retarget: which oracle the original was (README "Vocabulary"). */
  proof?: "padded" | "duplicated+swapped" | "direct";
  /** K' > K: the retargeted graph on a vocabulary of the original's own rows, against the original. */
  bookkeeping?: ValidationReport;
}

/** Deterministic uniform [0, 1) (mulberry32), so a failure can be reproduced. */
export function seededUniform(seed: number, n: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}

function toOrt(rt: OrtRuntime, dtype: number, shape: number[], values: ArrayLike<number>): OrtTensor {
  switch (dtype) {
    case DT.FLOAT: return rt.tensor("float32", Float32Array.from(values), shape);
    case DT.FLOAT16: return rt.tensor("float16", f32ToF16Array(values), shape);
    case DT.DOUBLE: return rt.tensor("float64", Float64Array.from(values), shape);
    case DT.INT64: return rt.tensor("int64", BigInt64Array.from(Array.from(values), (v) => BigInt(Math.trunc(v))), shape);
    case DT.INT32: return rt.tensor("int32", Int32Array.from(values), shape);
    case DT.BOOL: return rt.tensor("bool", Uint8Array.from(values), shape);
    default: throw new Error(`cannot feed an input of ONNX dtype ${dtype}`);
  }
}

function fromOrt(t: OrtTensor): ArrayLike<number> {
  if (t.type === "float16") return f16ToF32Array(t.data as Uint16Array);
  if (t.type === "int64" || t.type === "uint64") return Array.from(t.data as BigInt64Array, Number);
  return t.data as ArrayLike<number>;
}

// The original failing in onnxruntime is the user's problem (custom ops, wrong --input-shape):
// exit 2. The rewritten one failing where the original ran is a failed proof: exit 1.
const ortFailure = (which: "original" | "rewritten", what: string, e: unknown) => new ReparamError(
  `onnxruntime cannot ${what} the ${which} model: ${String((e as Error)?.message ?? e).split("\n")[0]}` +
    (which === "original" ? " (validation needs it; --no-validate skips it)" : ""),
  which === "original" ? EXIT.USAGE : EXIT.VALIDATION_FAILED);

async function session(rt: OrtRuntime, src: ModelSource, which: "original" | "rewritten"): Promise<OrtSession> {
  try {
    return await rt.createSession(src);
  } catch (e) { throw ortFailure(which, "load", e); }
}

async function runSession(s: OrtSession, feeds: Record<string, OrtTensor>, which: "original" | "rewritten") {
  try {
    return await s.run(Object.fromEntries(s.inputNames.filter((n) => feeds[n]).map((n) => [n, feeds[n]])));
  } catch (e) { throw ortFailure(which, "run", e); }
}

export function makeFeeds(rt: OrtRuntime, inputs: ValidationInput[], seed: number, bound: Map<string, ConstTensor>): Record<string, OrtTensor> {
  const feeds: Record<string, OrtTensor> = {};
  inputs.forEach((inp, i) => {
    const b = bound.get(inp.name);
    // Declared dims can ask for anything (1 x 3 x 10^5 x 10^5): checked before the seeded values exist.
    const n = b ? 0 : admitDims(`input '${inp.name}' of the validation run`, inp.shape);
    const values = b ? b.data : [DT.FLOAT, DT.FLOAT16, DT.DOUBLE].includes(inp.dtype as 1) ? seededUniform(seed + i, n) : new Float64Array(n);
    feeds[inp.name] = toOrt(rt, inp.dtype, b ? b.dims : inp.shape, values);
  });
  return feeds;
}

/** Which entries of an original output the rewritten one holds: along `axis`, rewritten index i is original index[i]. */
export interface OutputMap { axis: number; index: Int32Array }

function gatherAxis(data: ArrayLike<number>, dims: number[], m: OutputMap): { data: Float64Array; dims: number[] } {
  const outer = dims.slice(0, m.axis).reduce((a, b) => a * b, 1), inner = dims.slice(m.axis + 1).reduce((a, b) => a * b, 1);
  const n = dims[m.axis], k = m.index.length;
  const out = new Float64Array(outer * k * inner);
  for (let o = 0; o < outer; o++) for (let i = 0; i < k; i++) {
    const src = (o * n + m.index[i]) * inner, dst = (o * k + i) * inner;
    for (let j = 0; j < inner; j++) out[dst + j] = data[src + j];
  }
  return { data: out, dims: dims.map((d, i) => (i === m.axis ? k : d)) };
}

export interface CompareOptions {
  bound?: Map<string, ConstTensor>;
  tolerance: Tolerance;
  seed?: number;
  outputMaps?: Map<string, OutputMap>;
  /** Called before each run (one per input shape set). */
  onRun?: (index: number, inputs: ValidationInput[]) => void;
}

export async function compareModels(rt: OrtRuntime, original: ModelSource, rewritten: ModelSource, inputSets: ValidationInput[][], opts: CompareOptions): Promise<ValidationReport> {
  const seed = opts.seed ?? 0;
  const bound = opts.bound ?? new Map();
  const { atol, rtol } = opts.tolerance;
  const s0 = await session(rt, original, "original");
  const s1 = await session(rt, rewritten, "rewritten").catch(async (e) => { await s0.release(); throw e; });
  try {
    const runs: ValidationRun[] = [];
    for (const [index, inputs] of inputSets.entries()) {
      opts.onRun?.(index, inputs);
      const feeds = makeFeeds(rt, inputs, seed, bound);
      const out0 = await runSession(s0, feeds, "original");
      const out1 = await runSession(s1, feeds, "rewritten");
      const outputs = s0.outputNames.map((name) => {
        const a = out0[name], b = out1[name] as OrtTensor | undefined;
        const map = opts.outputMaps?.get(name);
        const expected = map ? gatherAxis(fromOrt(a), [...a.dims], map) : { data: fromOrt(a), dims: [...a.dims] };
        // A missing output or a changed shape cannot pass: compare against nothing.
        const same = b && expected.dims.join() === b.dims.join();
        const c = compareOutput(name, expected.dims, expected.data, same ? fromOrt(b) : [], atol, rtol);
        return same ? c : { ...c, shapeMismatch: { expected: expected.dims, actual: b ? [...b.dims] : null } };
      });
      runs.push({ inputs: inputs.map(({ name, shape }) => ({ name, shape })), passed: outputs.every((o) => o.passed), outputs });
    }
    const worst = runs[0].outputs.map((o, i) => runs.map((r) => r.outputs[i]).reduce((w, c) => (c.minPassingAtol > w.minPassingAtol || (!c.passed && w.passed) ? c : w), o));
    return { passed: runs.every((r) => r.passed), atol, rtol, seed, outputs: worst, runs };
  } finally {
    await s0.release();
    await s1.release();
  }
}
