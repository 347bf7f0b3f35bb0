// The public API (the package's one entry point). Layers, lowest first: io/ | runtime/ -> ir/ -> fold/ ->
// rules/ | vocab/ | text-encoder/ -> pipeline/ -> validate/ -> job/ -> cli/, web/ (test/layers.test.ts).
export { loadModel, saveModel, readExternalData, type LoadedModel, type SaveOptions, type ExternalDataMode } from "./io/model-io.ts";
export { decodeModelBytes, encodeModel } from "./io/codec.ts";
export * from "./io/half.ts";
export { GraphIR } from "./ir/graph.ts";
export { readTensor, toTensorProto, type ConstTensor } from "./ir/tensor.ts";
export { ReparamError, ModelFormatError, EXIT } from "./errors.ts";
export { reparamModel, type ReparamOptions, type ReparamResult, type SiteSelection } from "./pipeline/reparam-model.ts";
export { reparamFile, type ReparamFileOptions, type ReparamFileResult } from "./job/reparam-file.ts";
export { validateModels, DEFAULT_TOLERANCE, type ValidationReport } from "./validate/validate.ts";
export { ConstantFolder } from "./fold/fold-constants.ts";
export { readNpy, parseNpy } from "./io/npy.ts";
export type { SiteReport } from "./rules/site.ts";
export { embedClasses, DEFAULT_BATCH, type EmbedOptions, type EmbedResult } from "./text-encoder/embed.ts";
export { embedFile, namesFileFor, type EmbedFileOptions, type EmbedFileResult } from "./text-encoder/embed-file.ts";
export { readNamesFile, parseClassesOption, duplicateWarnings, type NameList } from "./vocab/names-list.ts";
export { findEncoderFiles, type EncoderFiles } from "./text-encoder/encoder-folder.ts";
export { writeNpy, encodeNpy, type NpyDtype } from "./io/npy.ts";
export { validateFiles, type ValidateFilesOptions, type ValidateFilesResult } from "./validate/validate-files.ts";
export { benchModels, type BenchModelsOptions, type BenchModelsResult } from "./job/bench-models.ts";
export { timeAlternating, type TimingOptions, type TimingResult, type TimingStats } from "./job/timing.ts";
export type { Progress, ProgressFn } from "./progress.ts";
// Runtime-agnostic entry points (the browser page uses these with onnxruntime-web).
export { reparamBytes, type ReparamBytesOptions, type ReparamBytesResult } from "./job/reparam-bytes.ts";
export type { ReparamReport } from "./job/reparam-job.ts";
export { compareModels } from "./validate/compare-models.ts";
export type { OrtRuntime, OrtSession, OrtTensor, ModelSource } from "./runtime/ort-runtime.ts";
export { nodeRuntime } from "./runtime/node-runtime.ts";
