// A text embedding given as a graph input is bound from a user's .npy: the input
// becomes an initializer of the same name, so everything downstream folds as if the
// exporter had baked it in, and the rewritten model no longer asks for it.
import { DT, type ValueInfo } from "../io/onnx-types.ts";
import type { GraphIR } from "../ir/graph.ts";
import { dtypeName, type ConstTensor } from "../ir/tensor.ts";
import { roundTo } from "../fold/kernels.ts";
import { declaredDims, textInputCandidates } from "../ir/graph-inputs.ts";
import { ReparamError } from "../errors.ts";

const elemType = (v: ValueInfo) => v.type?.tensor_type?.elem_type ?? 0;

export interface BoundText { name: string; value: ConstTensor }

export function bindText(g: GraphIR, embed: ConstTensor, inputName: string | undefined, source: string): BoundText {
  const candidates = textInputCandidates(g);
  let target: ValueInfo | undefined;
  if (inputName) {
    target = g.inputs.find((v) => v.name === inputName);
    if (!target) throw new ReparamError(`--text-input '${inputName}': the model has no such input (inputs: ${g.inputs.map((v) => v.name).join(", ")})`);
  } else if (candidates.length === 1) target = candidates[0];
  else if (candidates.length === 0) throw new ReparamError(`--text-embed ${source}: the model has no text-like input (float, rank 2 or 3) to bind it to`);
  else throw new ReparamError(`--text-embed ${source}: several inputs could take it (${candidates.map((v) => v.name).join(", ")}); name one with --text-input`);
  const name = target.name!;
  const dims = declaredDims(target) ?? [];
  // float64 is numpy's default: it is rounded to the input's type below, like float32 is.
  if (![DT.FLOAT, DT.FLOAT16, DT.DOUBLE].includes(embed.dtype as 1 | 10 | 11)) throw new ReparamError(`${source}: dtype ${dtypeName(embed.dtype)}, expected float32 or float16, or float64 (rounded to the input's type)`);
  let shape = embed.dims;
  if (shape.length === 2 && dims.length === 3) shape = [1, ...shape];
  else if (shape.length === 3 && dims.length === 2 && shape[0] === 1) shape = shape.slice(1);
  const fits = shape.length === dims.length && dims.every((d, i) => typeof d !== "number" || d === shape[i]);
  if (!fits) throw new ReparamError(`${source}: shape (${embed.dims.join(", ")}) does not fit input '${name}' of shape (${dims.join(", ")})`);
  const dtype = elemType(target);
  const value: ConstTensor = { dtype, dims: shape, data: roundTo(dtype, Float64Array.from(embed.data)) };
  g.bindInput(name, value);
  return { name, value };
}
