// onnxruntime-node behind the OrtRuntime interface: the CLI's and the tests' runtime.
import * as ort from "onnxruntime-node";
import type { OrtRuntime, OrtSession, OrtTensor } from "./runtime.ts";

const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: "basic", intraOpNumThreads: 2, logSeverityLevel: 3 };

export const nodeRuntime: OrtRuntime = {
  name: "onnxruntime-node",
  async createSession(src) {
    const s = await (src.path ? ort.InferenceSession.create(src.path, options) : ort.InferenceSession.create(src.bytes!, options));
    return s as unknown as OrtSession;
  },
  tensor: (type, data, dims) => new ort.Tensor(type, data as never, dims) as unknown as OrtTensor,
};
