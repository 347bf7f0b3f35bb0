// Runs the validation the CLI promises: the user's input shapes (or the defaults), and
// for models with symbolic dims a second, different shape set, so a rewrite that baked
// in a batch or image size cannot pass. Models with external data are validated from
// a temporary copy, since onnxruntime resolves external files relative to a path.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeModel } from "../io/codec.ts";
import { hasExternalData, saveModel, type LoadedModel } from "../io/model-io.ts";
import { DT, type ValueInfo } from "../io/onnx-types.ts";
import { declaredDims } from "../input-shapes.ts";
import type { ReparamResult } from "../pipeline.ts";
import type { ConstTensor } from "../ir/tensor.ts";
import { DEFAULT_TOLERANCE, validateModels, type Tolerance, type ValidationInput, type ValidationReport } from "./validate.ts";

export async function proveRewrite(inputPath: string, model: LoadedModel, originalInputs: ValueInfo[], result: ReparamResult, tol: Partial<Tolerance> = {}): Promise<ValidationReport> {
  // Half-precision models often take float32 images and Cast inside: the weights decide.
  const half = new Set<number>([DT.FLOAT16, DT.BFLOAT16]);
  const isHalf = originalInputs.some((v) => half.has(v.type?.tensor_type?.elem_type ?? 0)) ||
    (model.proto.graph?.initializer ?? []).some((t) => half.has(t.data_type ?? 0));
  const tolerance = { ...DEFAULT_TOLERANCE[isHalf ? "float16" : "float32"], ...tol };
  const bound = new Map<string, ConstTensor>(result.bound ? [[result.bound.name, result.bound.value]] : []);
  const inputSet = (shapes: Map<string, number[]>): ValidationInput[] =>
    originalInputs.filter((v) => declaredDims(v)).map((v) => ({
      name: v.name!, dtype: v.type!.tensor_type!.elem_type!,
      shape: bound.get(v.name!)?.dims ?? shapes.get(v.name!)!,
    }));
  const sets = [inputSet(result.probe.a), ...(result.probe.b ? [inputSet(result.probe.b)] : [])];
  if (!hasExternalData(model.proto)) {
    return validateModels({ path: inputPath }, { bytes: encodeModel(model.proto) }, sets, { bound, tolerance });
  }
  const dir = mkdtempSync(join(tmpdir(), "onnx-reparam-"));
  try {
    const path = join(dir, "rewritten.onnx");
    saveModel(model, path);
    return await validateModels({ path: inputPath }, { path }, sets, { bound, tolerance });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
