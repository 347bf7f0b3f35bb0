// Room rules/: the site matchers and their rewrites (head contrast, neck max-sigmoid), each
// reporting every site it saw. May import fold/, ir/, io/; not its peers vocab/ or text-encoder/.
//
// What every rule reports for every site it saw, rewritten or not.
import type { Node } from "../io/onnx-types.ts";
import { attr, type GraphIR } from "../ir/graph.ts";
import { toNumber } from "../ir/tensor.ts";
import type { TextFolders } from "./text-operand.ts";
import type { ConstantFolder, Folded } from "../fold/fold-constants.ts";
import type { NeckLayout } from "./neck-emit.ts";
import { SizeCapError } from "../io/size-cap.ts";

export type SiteKind = "head" | "neck";

export interface SiteReport {
  kind: SiteKind;
  status: "rewritten" | "skipped";
  reason?: string;
  /** How the exporter wrote the contraction: einsum | matmul. */
  form: string;
  /** Names (or op types, for unnamed nodes) of the nodes the rewrite removed. */
  nodes: string[];
  k?: number;
  channels?: number;
  /** Value the site computes (kept by the rewrite). */
  output: string;
  /** The contraction node (Einsum or MatMul) the site was found at. */
  contraction: string;
  /** What was folded into the Conv weights: scale, bias, batchnorm, 1/sqrt(c). */
  folded?: string[];
  /** The nodes that replaced it. */
  replacement?: string[];
}

export interface RuleContext {
  graph: GraphIR;
  text: TextFolders;
  neckForm: NeckLayout;
  /** Default-domain opset of the model (decides e.g. ReduceMax axes attribute vs input). */
  opset: number;
}

export interface Rule {
  kind: SiteKind;
  /** Finds sites, rewrites the ones it can prove, reports all of them. */
  run(ctx: RuleContext): SiteReport[];
  /** The text (or guide) operand of every site it would match, rewritable or not; edits nothing. */
  textOperands(ctx: RuleContext): string[];
}

export const nodeLabel = (n: Node): string => n.name || `${n.op_type}(${(n.output ?? []).join(",")})`;

/** The contraction node (Einsum or MatMul) among a site's nodes, as the report names it. */
export const contractionOf = (nodes: Node[]): string => nodeLabel(nodes.find((n) => n.op_type === "Einsum" || n.op_type === "MatMul")!);

export const permOf = (n: Node): string => attr(n, "perm")?.ints?.map(toNumber).join(",") ?? "";
export const allowzero = (reshape: Node): boolean => Number(attr(reshape, "allowzero")?.i ?? 0) === 1;

/**
 * A rule as data: where a site starts (`match`, called on every default-domain node) and
 * how it is rewritten or refused. Every site is matched before any is rewritten, since a
 * rewrite removes nodes other matches may still be looking at.
 */
export function defineRule<M extends { textOperand: string }>(kind: SiteKind, match: (ctx: RuleContext, n: Node) => M | null, rewrite: (ctx: RuleContext, m: M) => SiteReport): Rule {
  const matchAll = (ctx: RuleContext) => ctx.graph.nodes.filter((n) => !n.domain).map((n) => match(ctx, n)).filter((m): m is M => m !== null);
  return {
    kind,
    run: (ctx) => matchAll(ctx).map((m) => rewrite(ctx, m)),
    textOperands: (ctx) => matchAll(ctx).map((m) => m.textOperand),
  };
}

/** The single consumer of `value`, if it has exactly one and is not a graph output. */
export function soleUser(g: GraphIR, value: string): Node | null {
  const uses = g.uses(value);
  if (uses.length !== 1 || g.isGraphOutput(value)) return null;
  const n = uses[0];
  return (n.input ?? []).filter((i) => i === value).length === 1 ? n : null;
}

export function op(g: GraphIR, value: string, type: string): Node | null {
  const p = g.producer(value);
  return p && p.op_type === type && !p.domain ? p : null;
}

/** `value` is read by `reader` alone and is not a graph output (so removing both is safe). */
export const onlyFeeds = (g: GraphIR, value: string, reader: Node): boolean =>
  !g.isGraphOutput(value) && g.uses(value).length === 1 && g.uses(value)[0] === reader;

/**
 * Folds values that go into the weights (scales, biases, BatchNorm and Conv parameters,
 * reduce axes). Under two probe shapes they must come out identical: a value computed
 * from a dynamic dim (Shape -> Gather -> Cast) is not a constant, whatever probe A says.
 */
export function fixedConstants(t: TextFolders): Pick<ConstantFolder, "fold"> {
  return {
    fold(name: string): Folded {
      const a = t.a.fold(name);
      if (!a.ok || !t.b) return a;
      const b = t.b.fold(name);
      if (!b.ok) return { ok: false, reason: `${b.reason} (at the second probe shape)` };
      const same = a.value.dims.join() === b.value.dims.join() && a.value.data.every((v, i) => Object.is(v, b.value.data[i]));
      return same ? a : { ok: false, reason: `'${name}' changes with the input shapes` };
    },
  };
}

/**
 * A batch axis on the text (or guide) broadcasts against the image batch: a text batch of
 * 2 against an image batch of 1 makes the original's output batch 2, which one Conv
 * cannot reproduce. A text batch other than 1 must equal the image batch at every probe.
 */
export function textBatchProblem(t: TextFolders, text: string, batchAxis: number, x: string): string | null {
  if (batchAxis < 0) return null;
  for (const f of [t.a, t.b]) {
    if (!f) continue;
    const tv = f.fold(text);
    if (!tv.ok) return `text operand is not constant: ${tv.reason}`;
    const tb = tv.value.dims[batchAxis];
    if (tb === 1) continue;
    const xs = f.shape(x);
    if (typeof xs === "string") return `text has batch ${tb} and the image batch cannot be proven equal (${xs})`;
    if (xs[0] !== tb) return `text batch ${tb} differs from image batch ${xs[0]}: the contraction would broadcast to batch ${Math.max(tb, xs[0])}`;
  }
  return null;
}

/** Runs a shape computation; a reshape or broadcast that cannot happen is a reason, not a crash. */
export function shapeProof(f: () => string | null): string | null {
  try {
    return f();
  } catch (e) {
    if (e instanceof SizeCapError) throw e;
    return `cannot prove the reshapes: ${(e as Error)?.message ?? String(e)}`;
  }
}
