// onnxruntime-web (WASM) behind the proof's OrtRuntime interface. The binary and its loader
// come from the page's own ort/ folder (the server hands out the installed onnxruntime-web's
// copies), never a CDN. Threads need SharedArrayBuffer, which a page only gets when its
// server makes it cross-origin isolated (COOP + COEP, as `onnx-reparam web` does): then up
// to 4 threads, else one, so the page still works from any static server.
import * as ort from "onnxruntime-web/wasm";
import type { OrtRuntime, OrtSession, OrtTensor } from "../../passes/runtime/ort-runtime.ts";

const ortFile = (name: string) => new URL(`./ort/${name}`, self.location.href).href;
const threads = self.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;

ort.env.wasm.wasmPaths = { wasm: ortFile("ort-wasm-simd-threaded.wasm"), mjs: ortFile("ort-wasm-simd-threaded.mjs") };
ort.env.wasm.numThreads = threads;
ort.env.wasm.proxy = false;
ort.env.logLevel = "error";

export const webRuntime: OrtRuntime = {
  name: `onnxruntime-web ${ort.env.versions.web ?? ""} (wasm, ${threads} thread${threads === 1 ? "" : "s"})`,
  async createSession(src, tuning) {
    if (!src.bytes) throw new Error("the browser loads models from bytes only");
    return (await ort.InferenceSession.create(src.bytes, { graphOptimizationLevel: tuning?.optimization ?? "basic", logSeverityLevel: 3 })) as unknown as OrtSession;
  },
  tensor: (type, data, dims) => new ort.Tensor(type, data as never, dims) as unknown as OrtTensor,
};
