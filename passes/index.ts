export { loadModel, saveModel, readExternalData, type LoadedModel, type SaveOptions, type ExternalDataMode } from "./io/model-io.ts";
export { decodeModelBytes, encodeModel } from "./io/codec.ts";
export * from "./io/half.ts";
export { GraphIR } from "./ir/graph.ts";
export { readTensor, toTensorProto, type ConstTensor } from "./ir/tensor.ts";
export { ReparamError, ModelFormatError, EXIT } from "./errors.ts";
export { reparamModel, type ReparamOptions, type ReparamResult, type SiteSelection } from "./pipeline.ts";
export { reparamFile, type ReparamFileOptions, type ReparamFileResult } from "./reparam-file.ts";
export { validateModels, DEFAULT_TOLERANCE, type ValidationReport } from "./validate/validate.ts";
export { ConstantFolder } from "./fold/fold-constants.ts";
export { readNpy, parseNpy } from "./io/npy.ts";
export type { SiteReport } from "./rules/site.ts";
// Runtime-agnostic entry points (the browser page uses these with onnxruntime-web).
export { reparamBytes, type ReparamBytesOptions, type ReparamBytesResult } from "./reparam-bytes.ts";
export type { ReparamReport } from "./reparam-job.ts";
export { compareModels } from "./validate/compare-models.ts";
export type { OrtRuntime, OrtSession, OrtTensor, ModelSource } from "./validate/runtime.ts";
export { nodeRuntime } from "./validate/runtime-node.ts";
