// Room pipeline/: reparamModel, the pass on a decoded model, and the probe shapes it runs under.
// May import rules/, vocab/, fold/, ir/, io/.
//
// The reparameterization pass: bind text -> find sites -> fold -> rewrite -> clean up.
// Requires: a decoded model. Ensures: every site found is reported; graph inputs (except
// a bound text) and outputs, their names and dims, and everything outside the sites
// are unchanged; nodes and initializers the rewrite orphaned are gone.
import type { LoadedModel } from "../io/model-io.ts";
import { GraphIR } from "../ir/graph.ts";
import type { Node } from "../io/onnx-types.ts";
import type { ConstTensor } from "../ir/tensor.ts";
import { ConstantFolder } from "../fold/fold-constants.ts";
import { probeShapes, type ProbeShapes } from "./probe-shapes.ts";
import type { BoundText } from "../vocab/bind-text.ts";
import { applyTextEmbed, type Vocabulary } from "../vocab/text-embed.ts";
import { encodeModel } from "../io/codec.ts";
import type { TextFolders } from "../rules/text-operand.ts";
import { headContrast } from "../rules/head-contrast.ts";
import { neckMaxSigmoid } from "../rules/neck-max-sigmoid.ts";
import { nodeLabel, type Rule, type RuleContext, type SiteReport } from "../rules/site.ts";
import { attrString } from "../ir/graph.ts";
import { ReparamError } from "../errors.ts";
import type { NeckLayout } from "../rules/neck-emit.ts";
import { toNumber } from "../ir/tensor.ts";
import { applyClassSelection } from "../vocab/select-classes.ts";
import { modelNames } from "../vocab/report.ts";

export type SiteSelection = "head" | "neck" | "all";

export interface ReparamOptions {
  sites?: SiteSelection;
  textEmbed?: { value: ConstTensor; source: string };
  textInput?: string;
  inputShapes?: Map<string, number[]>;
  neckForm?: NeckLayout;
  /** Keep only these of the model's classes, in this order: names (from its `names` metadata) or 0-based indices. */
  classes?: ReadonlyArray<string | number>;
  /** Keep an encoded copy of the retargeted model before the sites are rewritten (for the K' > K proof). */
  keepBookkept?: boolean;
}

export interface ReparamResult {
  sites: SiteReport[];
  /** Einsum nodes left in the graph that no rule reported as a site. */
  unmatched: Array<{ node: string; reason: string }>;
  bound: BoundText | null;
  /** Set when --text-embed replaced the model's text with a different number of classes (or a baked text), or --classes selected some. */
  vocabulary: Vocabulary | null;
  /** The retargeted model before any site was rewritten (only with keepBookkept). */
  bookkept: Uint8Array | null;
  warnings: string[];
  probe: ProbeShapes;
  removed: { nodes: number; initializers: number };
}

export const RULES: readonly Rule[] = [headContrast, neckMaxSigmoid];

export function reparamModel(model: LoadedModel, opts: ReparamOptions = {}): ReparamResult {
  const g = new GraphIR(model.proto.graph!, model.baseDir);
  // What the pass removed of the original (new weights are not subtracted from it).
  const before = { nodes: [...g.nodes], initializers: g.proto.initializer!.map((t) => t.name ?? "") };
  if (opts.classes && opts.textEmbed) throw new ReparamError("--classes keeps some of the model's own classes, --text-embed gives it a new vocabulary: use one of them (to keep some rows of your embedding, select them in the file)");
  if (opts.textInput && !opts.textEmbed) throw new ReparamError("--text-input names the input --text-embed binds: give --text-embed too");
  const selection = opts.sites ?? "all";
  const rules = RULES.filter((r) => selection === "all" || selection === r.kind);
  // Values no input shape reaches are folded once, for both probes.
  const folders = (p: ProbeShapes) => {
    const a = new ConstantFolder(g, { inputShapes: p.a });
    return { a, b: p.b ? new ConstantFolder(g, { inputShapes: p.b, shapeIndependentFrom: a }) : null };
  };
  const ruleContext = (text: TextFolders): RuleContext => ({ graph: g, text, neckForm: opts.neckForm ?? "conv", opset: defaultOpset(model) });
  const given = opts.inputShapes ?? new Map();
  const embed = opts.textEmbed ? applyTextEmbed(g, {
    embed: opts.textEmbed, textInput: opts.textInput,
    probe: () => probeShapes(g.inputs, given),
    // Every site, whatever --sites says: a site left reading the old text would be silently wrong.
    operands: () => { const ctx = ruleContext(folders(probeShapes(g.inputs, given))); return RULES.flatMap((r) => r.textOperands(ctx)); },
  }) : null;
  const operands = () => { const ctx = ruleContext(folders(probeShapes(g.inputs, given))); return RULES.flatMap((r) => r.textOperands(ctx)); };
  const chosen = opts.classes ? applyClassSelection(g, {
    wanted: opts.classes, names: modelNames(model).names, source: "--classes",
    probe: () => probeShapes(g.inputs, given), operands,
  }) : null;
  const bound = embed?.bound ?? null, vocabulary = embed?.vocabulary ?? chosen;
  // The retargeted graph before any site is rewritten: the oracle of the proof when K' > K.
  const bookkept = vocabulary && vocabulary.to > vocabulary.from && opts.keepBookkept ? encodeModel(model.proto) : null;
  const probe = probeShapes(g.inputs, given);
  const sites: SiteReport[] = [];
  const ctx = ruleContext(folders(probe));
  for (const rule of rules) sites.push(...rule.run(ctx));
  if (sites.some((s) => s.status === "rewritten") || bound || vocabulary) g.finish();
  // An Einsum no rule claimed is still worth a line: it may be a site in a form not covered yet.
  const claimed = new Set(sites.map((s) => s.contraction));
  const unmatched = g.nodes.filter((n) => n.op_type === "Einsum" && !n.domain && !claimed.has(nodeLabel(n))).map((n) => ({
    node: nodeLabel(n),
    reason: selection === "all"
      ? `Einsum '${attrString(n, "equation")}' is neither a head contrast (bchw,bkc->bkhw) nor a neck max-sigmoid contraction (bmchw,bnmc->bmhwn, then a max over n) in a form the rules prove`
      : `Einsum '${attrString(n, "equation")}' is not a ${selection} site (only ${selection} sites were looked for: --sites ${selection})`,
  }));
  return {
    sites, unmatched, bound, probe, vocabulary, bookkept, warnings: embed?.warnings ?? [],
    removed: removedOf(g, before),
  };
}

function defaultOpset(model: LoadedModel): number {
  const imp = (model.proto.opset_import ?? []).find((o) => !o.domain || o.domain === "ai.onnx");
  return imp ? toNumber(imp.version) : 1;
}

function removedOf(g: GraphIR, before: { nodes: Node[]; initializers: string[] }): { nodes: number; initializers: number } {
  const nodes = new Set(g.nodes), inits = new Set(g.proto.initializer!.map((t) => t.name ?? ""));
  return { nodes: before.nodes.filter((n) => !nodes.has(n)).length, initializers: before.initializers.filter((n) => !inits.has(n)).length };
}
