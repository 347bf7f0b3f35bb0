// The text tower on onnxruntime-node, from a path: the CLI's runtime for `embed` and
// `reparam --encoder`. The checks and the runs are text-model-core.ts's, shared with the page.
import { nodeRuntime } from "../runtime/node-runtime.ts";
import { openTextModelOn, type TextModel } from "./text-model-core.ts";

export type { TextModel } from "./text-model-core.ts";

export const openTextModel = (path: string, threads?: number): Promise<TextModel> => openTextModelOn(nodeRuntime, { path }, path, threads);
