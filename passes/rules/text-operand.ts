// The text operand of a contraction must be provably constant. It is folded under two
// different input shapes (batch and spatial sizes): the per-sample text must come out
// identical, which proves it depends on the images through their batch size at most.
import { ConstantFolder } from "../fold/fold-constants.ts";
import { transpose } from "../fold/kernels.ts";
import type { ConstTensor } from "../ir/tensor.ts";
import { textInputCandidates } from "../ir/graph-inputs.ts";

export interface TextFolders { a: ConstantFolder; b: ConstantFolder | null }

/**
 * Folds `name` and returns it with its batch axis (if any) reduced to one sample,
 * permuted so that the axes come in `order` (letters naming the operand's axes).
 */
export function foldText(folders: TextFolders, name: string, letters: string[], batchLetter: string | null, order: string[]): { value: ConstTensor } | { reason: string } {
  const at = (f: ConstantFolder) => {
    const r = f.fold(name);
    if (!r.ok) return { reason: explainNotConstant(f, name, r.reason) };
    if (r.value.dims.length !== letters.length) return { reason: `text operand has rank ${r.value.dims.length}, expected ${letters.length}` };
    return oneSample(r.value, letters, batchLetter, order);
  };
  const ra = at(folders.a);
  if ("reason" in ra || !folders.b) return ra;
  const rb = at(folders.b);
  if ("reason" in rb) return { reason: `${rb.reason} (at the second probe shape)` };
  const same = ra.value.dims.join() === rb.value.dims.join() && ra.value.data.every((v, i) => Object.is(v, rb.value.data[i]));
  return same ? ra : { reason: "text operand changes with the input image size or batch: not a fixed vocabulary" };
}

function oneSample(t: ConstTensor, letters: string[], batchLetter: string | null, order: string[]): { value: ConstTensor } | { reason: string } {
  let v = t, ls = letters;
  if (batchLetter && letters.includes(batchLetter)) {
    const ax = letters.indexOf(batchLetter);
    v = transpose(v, [ax, ...letters.map((_, i) => i).filter((i) => i !== ax)]);
    ls = [batchLetter, ...letters.filter((l) => l !== batchLetter)];
    const per = v.data.length / v.dims[0];
    for (let b = 1; b < v.dims[0]; b++) {
      for (let i = 0; i < per; i++) {
        if (!Object.is(v.data[b * per + i], v.data[i])) return { reason: "text differs between batch samples: one Conv weight cannot serve all" };
      }
    }
    v = { dtype: v.dtype, dims: v.dims.slice(1), data: v.data.subarray(0, per) };
    ls = ls.slice(1);
  }
  const perm = order.map((l) => ls.indexOf(l));
  if (perm.some((p) => p < 0)) return { reason: "text operand axes do not match the contraction" };
  return { value: transpose(v, perm) };
}

// The first failure on the text path is often an op folding does not cover; when the
// text reads image values at all, that is the reason worth reporting.
function explainNotConstant(f: ConstantFolder, name: string, first: string): string {
  const g = f.graph;
  const inputs = new Set<string>();
  const seen = new Set<string>();
  const stack = [name];
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    if (g.isGraphInput(v) && !f.opts.bindings?.has(v)) { inputs.add(v); continue; }
    const n = g.producer(v);
    if (!n || n.op_type === "Shape" || g.constant(v)) continue; // Shape reads dims, not values
    for (const i of n.input ?? []) if (i) stack.push(i);
  }
  if (inputs.size === 0) return `text operand is not constant: ${first}`;
  const list = [...inputs].map((i) => `'${i}'`).join(", ");
  // A rank-2/3 float input is a text embedding waiting to be bound; anything else is image data.
  if ([...inputs].every((i) => textInputCandidates(g).some((v) => v.name === i))) {
    return `text operand is graph input ${list}: bind it with --text-embed FILE.npy`;
  }
  return `text operand depends on the values of graph input ${list}` +
    (first.includes("depends on the values") ? "" : ` (e.g. a text update from image features; first non-foldable step: ${first})`);
}
