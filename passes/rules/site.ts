// What every rule reports for every site it saw, rewritten or not.
import type { Node } from "../io/onnx-types.ts";
import type { GraphIR } from "../ir/graph.ts";
import type { TextFolders } from "./text-operand.ts";
import type { NeckLayout } from "./neck-emit.ts";

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
}

export const nodeLabel = (n: Node): string => n.name || `${n.op_type}(${(n.output ?? []).join(",")})`;

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
