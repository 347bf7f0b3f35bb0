// What a proof needs to know about where it runs: the onnxruntime to use and how to reach
// the original model again. The Node layer loads by path (external data resolves beside
// it, proof-env-node.ts); the browser holds the original's bytes (bytesProofEnv).
import { decodeModelBytes } from "../io/codec.ts";
import type { LoadedModel } from "../io/model-io.ts";
import type { ModelSource, OrtRuntime } from "../runtime/ort-runtime.ts";
import { compareModels, type CompareOptions, type ValidationInput, type ValidationReport } from "./compare-models.ts";

export interface ProofEnv {
  runtime: OrtRuntime;
  /** Names the original in messages: its path, or the dropped file's name. */
  label: string;
  /** The original as onnxruntime loads it. */
  original: ModelSource;
  /** A fresh decode of the original, to patch (its text, a bound default) without touching the rewritten one. */
  reload(): LoadedModel;
  /** A source for a model whose tensors live in external files (Node: saved to a temporary directory). */
  withSaved?<T>(model: LoadedModel, body: (src: ModelSource) => Promise<T>): Promise<T>;
  /** Progress: called before each onnxruntime run of original and rewritten. */
  onRun?(what: string, index: number, of: number, inputs: ValidationInput[]): void;
}

export function bytesProofEnv(bytes: Uint8Array, label: string, runtime: OrtRuntime, onRun?: ProofEnv["onRun"]): ProofEnv {
  return { runtime, label, original: { bytes }, reload: () => ({ proto: decodeModelBytes(bytes, label), baseDir: null, source: label }), onRun };
}

/** compareModels in `env`, reporting its runs as `what`. */
export function compareIn(env: ProofEnv, what: string, original: ModelSource, rewritten: ModelSource, sets: ValidationInput[][], opts: CompareOptions): Promise<ValidationReport> {
  return compareModels(env.runtime, original, rewritten, sets, { ...opts, onRun: (i, inputs) => env.onRun?.(what, i, sets.length, inputs) });
}
