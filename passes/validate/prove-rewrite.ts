// Runs the validation the CLI promises: the user's input shapes (or the defaults), and
// for models with symbolic dims a second, different shape set, so a rewrite that baked
// in a batch or image size cannot pass. Models with external data are validated from
// a temporary copy, since onnxruntime resolves external files relative to a path
// (env.withSaved: Node only; a model from bytes has no external data).
import { encodeModel } from "../io/codec.ts";
import type { LoadedModel } from "../io/model-io.ts";
import { hasExternalData } from "../io/external-ref.ts";
import { toTensorProto } from "../ir/tensor.ts";
import { ReparamError } from "../errors.ts";
import { DT, type ValueInfo } from "../io/onnx-types.ts";
import { declaredDims } from "../ir/graph-inputs.ts";
import type { ReparamResult } from "../pipeline/reparam-model.ts";
import type { ConstTensor } from "../ir/tensor.ts";
import { DEFAULT_TOLERANCE, type ModelSource, type Tolerance, type ValidationInput, type ValidationReport } from "./compare-models.ts";
import { proveRetarget } from "./prove-retarget.ts";
import { compareIn, type ProofEnv } from "./proof-env.ts";

export async function proveRewrite(env: ProofEnv, model: LoadedModel, originalInputs: ValueInfo[], result: ReparamResult, tol: Partial<Tolerance> = {}): Promise<ValidationReport> {
  // Half-precision models often take float32 images and Cast inside: the weights decide.
  const half = new Set<number>([DT.FLOAT16, DT.BFLOAT16]);
  const isHalf = originalInputs.some((v) => half.has(v.type?.tensor_type?.elem_type ?? 0)) ||
    (model.proto.graph?.initializer ?? []).some((t) => half.has(t.data_type ?? 0));
  const tolerance = { ...DEFAULT_TOLERANCE[isHalf ? "float16" : "float32"], ...tol };
  const bound = new Map<string, ConstTensor>(result.bound ? [[result.bound.name, result.bound.value]] : []);
  const initialized = new Set((model.proto.graph?.initializer ?? []).map((t) => t.name ?? ""));
  for (const name of bound.keys()) initialized.delete(name);
  const inputSet = (shapes: Map<string, number[]>): ValidationInput[] =>
    // Inputs with an initializer keep their default, as a caller who does not feed them gets.
    originalInputs.filter((v) => declaredDims(v) && !initialized.has(v.name ?? "")).map((v) => ({
      name: v.name!, dtype: v.type!.tensor_type!.elem_type!,
      shape: bound.get(v.name!)?.dims ?? shapes.get(v.name!)!,
    }));
  const sets = [inputSet(result.probe.a), ...(result.probe.b ? [inputSet(result.probe.b)] : [])];
  if (result.vocabulary) {
    if (hasExternalData(model.proto)) throw new ReparamError(`${env.label}: validating a retargeted model with external data is not supported yet; use --no-validate`);
    return proveRetarget(env, model, result, sets, tolerance);
  }
  const original = originalWithBoundDefaults(env, bound);
  if (!hasExternalData(model.proto)) {
    return compareIn(env, "proof", original, { bytes: encodeModel(model.proto) }, sets, { bound, tolerance });
  }
  if (!env.withSaved) throw new ReparamError(`${env.label}: the rewritten model has external data, which needs a file system to validate; use --no-validate`);
  return env.withSaved(model, (src) => compareIn(env, "proof", original, src, sets, { bound, tolerance }));
}

// onnxruntime-node cannot feed an initializer that is also a graph input (it is not among
// the session's inputs), so a bound one becomes the original's default instead.
function originalWithBoundDefaults(env: ProofEnv, bound: Map<string, ConstTensor>): ModelSource {
  if (bound.size === 0) return env.original;
  const original = env.reload();
  const inits = original.proto.graph?.initializer ?? [];
  let patched = false;
  for (const [name, value] of bound) {
    const i = inits.findIndex((t) => t.name === name);
    if (i >= 0) { inits[i] = toTensorProto(name, value); patched = true; }
  }
  if (!patched) return env.original;
  if (hasExternalData(original.proto)) throw new ReparamError(`${env.label}: cannot validate a bound initializer input in a model with external data; use --no-validate`);
  return { bytes: encodeModel(original.proto) };
}
