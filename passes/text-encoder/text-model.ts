// The text tower on onnxruntime-node, from a path: the CLI's runtime for `embed` and
// `reparam --encoder`. The checks and the runs are text-model-core.ts's, shared with the page.
import * as ort from "onnxruntime-node";
import { openTextModelOn, type TextModel } from "./text-model-core.ts";
import type { TextRuntime, TextSession } from "./text-runtime.ts";

export type { TextModel } from "./text-model-core.ts";

export const nodeTextRuntime: TextRuntime = {
  name: "onnxruntime-node",
  async createSession(src, tuning) {
    const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: tuning?.optimization ?? "all", logSeverityLevel: 3, ...(tuning?.threads ? { intraOpNumThreads: tuning.threads } : {}) };
    const s = await (src.path !== undefined ? ort.InferenceSession.create(src.path, options) : ort.InferenceSession.create(src.bytes!, options));
    return s as unknown as TextSession;
  },
  tensor: (type, data, dims) => new ort.Tensor(type, data, dims as number[]),
};

export const openTextModel = (path: string, threads?: number): Promise<TextModel> => openTextModelOn(nodeTextRuntime, { path }, path, threads);
