// onnxruntime-web's WASM build run in Node, single-threaded as the page runs it: the text
// encoder then computes bit for bit what it computes in the browser, so the CLI's job can be
// compared with the page's byte for byte (onnxruntime-node's native kernels round differently).
import { readFileSync } from "node:fs";
import * as ort from "onnxruntime-web";
import type { OrtRuntime, OrtSession, OrtTensor } from "../../passes/runtime/ort-runtime.ts";

ort.env.wasm.numThreads = 1;
ort.env.logLevel = "error";

export const wasmTextRuntime: OrtRuntime = {
  name: "onnxruntime-web (wasm, 1 thread, in Node)",
  async createSession(src, tuning) {
    const bytes = src.bytes ?? new Uint8Array(readFileSync(src.path!));
    return (await ort.InferenceSession.create(bytes, { graphOptimizationLevel: tuning?.optimization ?? "basic", logSeverityLevel: 3 })) as unknown as OrtSession;
  },
  tensor: (type, data, dims) => new ort.Tensor(type, data, dims as number[]) as unknown as OrtTensor,
};
