// What it takes to feed a model from outside: its graph inputs (minus those with an
// initializer, which keep their default), concrete shapes for them, and a check that two
// models take and give the same tensors, so comparing or timing them means something.
import { ReparamError } from "../errors.ts";
import { declaredDims } from "../ir/graph-inputs.ts";
import { probeShapes } from "../pipeline/probe-shapes.ts";
import { DT, type Model, type ValueInfo } from "../io/onnx-types.ts";
import { dtypeName, type ConstTensor } from "../ir/tensor.ts";
import { DEFAULT_TOLERANCE, type Tolerance, type ValidationInput } from "./validate.ts";

export function feedableInputs(model: Model): ValueInfo[] {
  const initialized = new Set((model.graph?.initializer ?? []).map((t) => t.name ?? ""));
  return (model.graph?.input ?? []).filter((v) => declaredDims(v) && !initialized.has(v.name ?? ""));
}

/**
 * One concrete input set: `given` tensors (real data, e.g. from .npy) keep their own shape,
 * `shapes` fill symbolic dims, the rest defaults (batch 1, 640x640 images; pipeline/probe-shapes.ts).
 */
export function concreteInputs(model: Model, shapes: Map<string, number[]>, given: Map<string, ConstTensor> = new Map()): ValidationInput[] {
  const inputs = feedableInputs(model);
  for (const name of given.keys()) {
    if (shapes.has(name)) throw new ReparamError(`input '${name}' is given both as data and with --input-shape: give one`);
    if (!inputs.some((v) => v.name === name)) throw new ReparamError(`--input ${name}: the model has no input '${name}'${nameList(inputs)}`);
  }
  // Data whose shape the model cannot take is the --input's fault, said in its words.
  for (const [name, t] of given) {
    const dims = declaredDims(inputs.find((v) => v.name === name)!) ?? [];
    if (dims.length !== t.dims.length || dims.some((d, i) => typeof d === "number" && d !== t.dims[i])) {
      throw new ReparamError(`--input ${name}: the data has shape (${t.dims.join(", ")}), the model declares (${dims.join(", ")})`);
    }
  }
  const merged = new Map([...shapes, ...[...given].map(([k, t]) => [k, t.dims] as [string, number[]])]);
  const { a } = probeShapes(inputs, merged);
  return inputs.map((v) => ({ name: v.name!, dtype: v.type!.tensor_type!.elem_type!, shape: a.get(v.name!)! }));
}

const nameList = (vs: ValueInfo[]) => ` (inputs: ${vs.map((v) => v.name).join(", ") || "none"})`;

/** Same feedable inputs (name, dtype, rank) and same output names, or one clear line saying what differs. */
export function checkSameInterface(a: Model, b: Model, labels: [string, string]): void {
  const sig = (vs: ValueInfo[]) => new Map(vs.map((v) => [v.name ?? "", `${dtypeName(v.type?.tensor_type?.elem_type ?? 0)}, rank ${declaredDims(v)?.length ?? "?"}`]));
  const [ia, ib] = [sig(feedableInputs(a)), sig(feedableInputs(b))];
  for (const [name, s] of ia) {
    if (!ib.has(name)) throw new ReparamError(`${labels[1]} has no input '${name}' (${labels[0]} has): the models must take the same inputs`);
    if (ib.get(name) !== s) throw new ReparamError(`input '${name}' is ${s} in ${labels[0]} but ${ib.get(name)} in ${labels[1]}`);
  }
  for (const name of ib.keys()) if (!ia.has(name)) throw new ReparamError(`${labels[0]} has no input '${name}' (${labels[1]} has): the models must take the same inputs`);
  const outs = (m: Model) => (m.graph?.output ?? []).map((v) => v.name ?? "");
  const [oa, ob] = [outs(a), outs(b)];
  const missing = oa.filter((n) => !ob.includes(n)), extra = ob.filter((n) => !oa.includes(n));
  if (missing.length || extra.length) {
    throw new ReparamError(`the models must give the same outputs: ${[missing.length ? `${labels[1]} lacks ${missing.join(", ")}` : "", extra.length ? `${labels[0]} lacks ${extra.join(", ")}` : ""].filter(Boolean).join("; ")}`);
  }
}

/** Half-precision models (an fp16/bf16 input or initializer; exporters often Cast float32 images inside) get the looser default. */
export function defaultTolerance(...models: Model[]): Tolerance {
  const half = new Set<number>([DT.FLOAT16, DT.BFLOAT16]);
  const isHalf = models.some((m) => (m.graph?.input ?? []).some((v) => half.has(v.type?.tensor_type?.elem_type ?? 0)) ||
    (m.graph?.initializer ?? []).some((t) => half.has(t.data_type ?? 0)));
  return DEFAULT_TOLERANCE[isHalf ? "float16" : "float32"];
}
