// The slice of onnxruntime the text model needs, declared here so that the room stays below
// validate/: onnxruntime-node (text-model.ts), and any OrtRuntime (validate/runtime.ts: the
// page's onnxruntime-web) fit it as they are.
export interface TextTensor { readonly type: string; readonly data: unknown; readonly dims: readonly number[] }

export type TextValueMeta = { readonly name: string; readonly isTensor: false } | { readonly name: string; readonly isTensor: true; readonly type: string; readonly shape: ReadonlyArray<number | string> };

export interface TextSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly TextValueMeta[];
  readonly outputMetadata: readonly TextValueMeta[];
  run(feeds: Record<string, TextTensor>, fetches?: readonly string[]): Promise<Record<string, TextTensor>>;
  release(): Promise<void>;
}

export interface TextRuntime {
  readonly name: string;
  createSession(src: { bytes?: Uint8Array; path?: string }, tuning?: { optimization: "basic" | "all"; threads?: number }): Promise<TextSession>;
  tensor(type: "int64" | "int32", data: BigInt64Array | Int32Array, dims: readonly number[]): TextTensor;
}
