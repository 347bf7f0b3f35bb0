// inspect's account of a model's classes: K as the sites see it, or, on a model whose text
// is already folded into weights (rewritten by this pass, retargeted, or upstream's
// reparameterized export), as the recognizable neck and the names metadata give it.
import type { LoadedModel } from "../io/model-io.ts";
import { GraphIR } from "../ir/graph.ts";
import type { ReparamResult } from "./reparam-model.ts";
import { rewrittenSites, type RewrittenSites } from "../rules/rewritten-sites.ts";
import { modelNames } from "../vocab/report.ts";

export interface ModelClasses {
  /** Class counts the sites (or the rewritten sites) hold: one entry when they agree. */
  k: number[];
  /** Where k comes from. */
  from: "sites" | "rewritten neck" | "names" | null;
  names: string[] | null;
  /** Set when no site is left: the Conv/MatMul nodes that hold the text. */
  reparameterized: RewrittenSites | null;
}

export function modelClasses(model: LoadedModel, r: Pick<ReparamResult, "sites" | "probe">): ModelClasses {
  const names = modelNames(model).names;
  const fromSites = [...new Set(r.sites.map((s) => s.k).filter((k): k is number => k !== undefined))];
  if (fromSites.length) return { k: fromSites, from: "sites", names, reparameterized: null };
  const g = new GraphIR(model.proto.graph!, model.baseDir);
  let found = rewrittenSites(g, r.probe.a, names?.length ?? null);
  // Stale names (K not among the neck's): the neck alone.
  if (names && found.neck.length === 0) found = rewrittenSites(g, r.probe.a, null);
  const neckK = [...new Set(found.neck.map((n) => n.k))];
  const any = found.neck.length + found.head.length > 0;
  if (neckK.length) return { k: neckK, from: "rewritten neck", names, reparameterized: found };
  if (names) return { k: [names.length], from: "names", names, reparameterized: any ? found : null };
  return { k: [], from: null, names, reparameterized: any ? found : null };
}
