// onnxruntime-web (WASM) behind the proof's OrtRuntime interface. The binary is served
// from the page's own folder (ort/), never a CDN. One thread: threads need
// SharedArrayBuffer, which a page only gets when its server sends cross-origin isolation
// headers, and the page must work from any static server.
import * as ort from "onnxruntime-web/wasm";
import type { OrtRuntime, OrtSession, OrtTensor } from "../../passes/validate/runtime.ts";

ort.env.wasm.wasmPaths = { wasm: new URL("./ort/ort-wasm-simd-threaded.wasm", self.location.href).href };
ort.env.wasm.numThreads = 1;
ort.env.wasm.proxy = false;
ort.env.logLevel = "error";

export const webRuntime: OrtRuntime = {
  name: `onnxruntime-web ${ort.env.versions.web ?? ""} (wasm, 1 thread)`,
  async createSession(src, tuning) {
    if (!src.bytes) throw new Error("the browser loads models from bytes only");
    return (await ort.InferenceSession.create(src.bytes, { graphOptimizationLevel: tuning?.optimization ?? "basic", logSeverityLevel: 3 })) as unknown as OrtSession;
  },
  tensor: (type, data, dims) => new ort.Tensor(type, data as never, dims) as unknown as OrtTensor,
};
