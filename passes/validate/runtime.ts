// The slice of onnxruntime the proof needs, so that it runs on onnxruntime-node (the CLI,
// runtime-node.ts) and on onnxruntime-web (the page, web/src/runtime-web.ts) alike. Both
// packages share onnxruntime-common's API; this names only what is used.
export type OrtTensorType = "float32" | "float16" | "float64" | "int64" | "int32" | "bool";

export interface OrtTensor { readonly type: string; readonly data: unknown; readonly dims: readonly number[] }

export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

/** Where onnxruntime loads a model from: bytes anywhere, a path only in Node (external data resolves beside it). */
export interface ModelSource { bytes?: Uint8Array; path?: string }

export interface OrtRuntime {
  /** "onnxruntime-node" or "onnxruntime-web (wasm)": for messages and reports. */
  readonly name: string;
  createSession(src: ModelSource): Promise<OrtSession>;
  tensor(type: OrtTensorType, data: Float32Array | Uint16Array | Float64Array | BigInt64Array | Int32Array | Uint8Array, dims: readonly number[]): OrtTensor;
}
