export { loadModel, saveModel, readExternalData, type LoadedModel, type SaveOptions, type ExternalDataMode } from "./io/model-io.ts";
export { decodeModelBytes, encodeModel } from "./io/codec.ts";
export * from "./io/half.ts";
export { GraphIR } from "./ir/graph.ts";
export { readTensor, toTensorProto, type ConstTensor } from "./ir/tensor.ts";
export { ReparamError, ModelFormatError, EXIT } from "./errors.ts";
