// Room vocab/: the class axis: binding or retargeting the text to K' classes, shape patches,
// names metadata. May import fold/, ir/, io/; not its peers rules/ or text-encoder/.
//
// --text-embed: where the user's rows go. A text graph input whose declared shape takes
// them is bound as before; a graph input with a fixed K, or a text baked in as a constant
// (what Ultralytics' and upstream's deploy exports hold), is retargeted to the new K'.
import type { GraphIR } from "../ir/graph.ts";
import type { ConstTensor } from "../ir/tensor.ts";
import { DT } from "../io/onnx-types.ts";
import { bindText, type BoundText } from "./bind-text.ts";
import { declaredDims, textInputCandidates } from "../ir/graph-inputs.ts";
import { ReparamError } from "../errors.ts";
import { asModelText, checkEmbedding } from "./embedding.ts";
import { findTextConstant, textCandidates } from "./find-text.ts";
import { classConstants } from "./class-constants.ts";
import { selectRows } from "./select-classes.ts";
import { existingRows } from "./existing-rows.ts";
import { identitySource, unitRows } from "./derived.ts";
import { recordingProbe, retarget, type ProbeMaps } from "./retarget.ts";
import type { Vocabulary } from "./vocabulary.ts";

export type { Vocabulary };

export interface TextEmbedResult { bound: BoundText | null; vocabulary: Vocabulary | null; warnings: string[] }

export interface TextEmbedRequest {
  embed: { value: ConstTensor; source: string };
  textInput?: string;
  /** Probe shapes of the unedited graph. */
  probe: (g: GraphIR, exclude?: string) => ProbeMaps;
  /** Text operands of the sites the rules would look at (graph unedited). */
  operands: () => string[];
}

export function applyTextEmbed(g: GraphIR, r: TextEmbedRequest): TextEmbedResult {
  const { value: embed, source } = r.embed;
  const named = r.textInput;
  const inputs = textInputCandidates(g);
  const asInput = named ? g.inputs.some((v) => v.name === named) : inputs.length > 0;
  if (asInput) {
    const target = named ? g.inputs.find((v) => v.name === named)! : inputs.length === 1 ? inputs[0] : null;
    if (!target) throw new ReparamError(`--text-embed ${source}: several inputs could take it (${inputs.map((v) => v.name).join(", ")}); name one with --text-input`);
    const dims = declaredDims(target) ?? [];
    const k = dims[dims.length - 2];
    const fitsButK = typeof k === "number" && embedRows(embed) !== k && (dims.length === 2 || dims.length === 3) && typeof dims[dims.length - 1] === "number";
    if (!fitsButK) {
      const { warnings } = checkEmbedding(embed, source, embed.dims[embed.dims.length - 1], target.type?.tensor_type?.elem_type ?? DT.FLOAT);
      return { bound: bindText(g, embed, named, source), vocabulary: null, warnings };
    }
    const dtype = target.type?.tensor_type?.elem_type ?? DT.FLOAT;
    const checked = checkEmbedding(embed, source, dims[dims.length - 1] as number, dtype);
    const value = asModelText(checked, dims.length, dtype);
    const name = target.name!;
    const probe = r.probe(g);
    const base = { dtype, dims: value.dims.map((d, i) => (i === dims.length - 2 ? k : d)), data: value.data.slice(0, Math.min(k, checked.rows) * checked.dims) };
    const change = retarget(g, probe, [identitySource(name, dims.length - 2)], k, value, () => g.bindInput(name, value), r.operands());
    return { bound: { name, value }, vocabulary: { ...change, kind: "input", source, base: padRows(base, k, checked.dims), value }, warnings: checked.warnings };
  }
  const probe = r.probe(g);
  const operands = r.operands();
  const pa = recordingProbe(g, probe.a);
  const found = named || !operands.length ? undefined : textCandidates(g, pa, operands);
  if (found && found.candidates.length === 0) {
    // No single text: maybe a simplified export whose text was folded per site.
    const perSite = classConstants(g, pa, operands, null);
    if (!("refusal" in perSite)) {
      const rows = existingRows(g, perSite, embed, source);
      return { bound: null, vocabulary: selectRows(g, probe, operands, perSite, rows.indices, source), warnings: rows.warnings };
    }
  }
  const text = findTextConstant(g, pa, operands, named, source, found);
  const axis = text.dims.length - 2, k = text.dims[axis];
  const checked = checkEmbedding(embed, source, text.dims[axis + 1], text.dtype);
  const value = asModelText(checked, text.dims.length, text.dtype);
  const base = g.constant(text.name)!;
  const unclear = text.sources.find((s) => s.ambiguous);
  if (unclear && !unitRows(value)) throw new ReparamError(`${source}: ${unclear.ambiguous}; give L2-normalized rows (as CLIP text models do), for which both readings agree`);
  const change = retarget(g, probe, text.sources, k, value, () => { for (const s of text.sources) g.setConstant(s.name, s.derive(value)); }, operands);
  return { bound: null, vocabulary: { ...change, kind: "constant", source, base, value }, warnings: checked.warnings };
}

const embedRows = (e: ConstTensor) => e.dims[e.dims.length - 2];

/** K rows from fewer by repeating the last (an input's base when K' < K). */
function padRows(t: ConstTensor, k: number, d: number): ConstTensor {
  const have = t.data.length / d;
  if (have >= k) return t;
  const data = new Float64Array(k * d);
  data.set(t.data);
  for (let r = have; r < k; r++) data.set(t.data.subarray((have - 1) * d, have * d), r * d);
  return { ...t, data };
}
