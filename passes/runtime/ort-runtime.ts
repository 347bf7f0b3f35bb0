// Room runtime/ (lowest, beside io/): the one onnxruntime interface and its Node binding, used by
// the text encoder and the proofs alike. May import nothing of ours.
//
// The slice of onnxruntime the proof needs, so that it runs on onnxruntime-node (the CLI,
// runtime-node.ts) and on onnxruntime-web (the page, web/src/runtime-web.ts) alike. Both
// packages share onnxruntime-common's API; this names only what is used.
export type OrtTensorType = "float32" | "float16" | "float64" | "int64" | "int32" | "bool";

export interface OrtTensor { readonly type: string; readonly data: unknown; readonly dims: readonly number[] }

/** What a session declares about one input or output (onnxruntime-common's ValueMetadata). */
export type OrtValueMeta = { readonly name: string; readonly isTensor: false } | { readonly name: string; readonly isTensor: true; readonly type: string; readonly shape: ReadonlyArray<number | string> };

export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly OrtValueMeta[];
  readonly outputMetadata: readonly OrtValueMeta[];
  run(feeds: Record<string, OrtTensor>, fetches?: readonly string[]): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

/** Where onnxruntime loads a model from: bytes anywhere, a path only in Node (external data resolves beside it). */
export interface ModelSource { bytes?: Uint8Array; path?: string }

/**
 * A session's settings other than the proof's: the text encoder runs with every graph
 * optimization and onnxruntime's own thread count (threads: the CLI's --threads).
 */
export interface SessionTuning { optimization: "basic" | "all"; threads?: number }

export interface OrtRuntime {
  /** "onnxruntime-node" or "onnxruntime-web (wasm)": for messages and reports. */
  readonly name: string;
  /** Without tuning: the proof's session (basic optimizations; the runtime's fixed thread count). */
  createSession(src: ModelSource, tuning?: SessionTuning): Promise<OrtSession>;
  tensor(type: OrtTensorType, data: Float32Array | Uint16Array | Float64Array | BigInt64Array | Int32Array | Uint8Array, dims: readonly number[]): OrtTensor;
}
