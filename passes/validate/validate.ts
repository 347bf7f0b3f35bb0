// Room validate/: runtimes (Node and any OrtRuntime), output comparison and the proofs of a
// rewrite or retarget. May import pipeline/ and below.
//
// The proof on onnxruntime-node: compare-models.ts with the Node runtime, for the CLI,
// the tests and the benchmarks. The browser calls compareModels with onnxruntime-web.
import type { ConstTensor } from "../ir/tensor.ts";
import { compareModels, type OutputMap, type Tolerance, type ValidationInput, type ValidationReport } from "./compare-models.ts";
import type { ModelSource } from "../runtime/ort-runtime.ts";
import { nodeRuntime } from "../runtime/node-runtime.ts";

export * from "./compare-models.ts";
export { nodeRuntime };

export function validateModels(original: ModelSource, rewritten: ModelSource, inputSets: ValidationInput[][], opts: { bound?: Map<string, ConstTensor>; tolerance: Tolerance; seed?: number; outputMaps?: Map<string, OutputMap> }): Promise<ValidationReport> {
  return compareModels(nodeRuntime, original, rewritten, inputSets, opts);
}
