// onnxruntime-node behind the OrtRuntime interface: the CLI's and the tests' runtime.
import { createRequire } from "node:module";
import type * as Ort from "onnxruntime-node";
import type { OrtRuntime, OrtSession, OrtTensor } from "./ort-runtime.ts";

// Loaded on first use: `reparam --no-validate` never pays onnxruntime's start-up.
let loaded: typeof Ort | null = null;
export const ortModule = (): typeof Ort => (loaded ??= createRequire(import.meta.url)("onnxruntime-node") as typeof Ort);

const options: Ort.InferenceSession.SessionOptions = { graphOptimizationLevel: "basic", intraOpNumThreads: 2, logSeverityLevel: 3 };

export const nodeRuntime: OrtRuntime = {
  name: "onnxruntime-node",
  async createSession(src, tuning) {
    const ort = ortModule();
    const o: Ort.InferenceSession.SessionOptions = tuning
      ? { graphOptimizationLevel: tuning.optimization, logSeverityLevel: 3, ...(tuning.threads ? { intraOpNumThreads: tuning.threads } : {}) }
      : options;
    const s = await (src.path ? ort.InferenceSession.create(src.path, o) : ort.InferenceSession.create(src.bytes!, o));
    return s as unknown as OrtSession;
  },
  tensor: (type, data, dims) => new (ortModule().Tensor)(type, data as never, dims) as unknown as OrtTensor,
};
