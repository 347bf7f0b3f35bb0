// Human-readable result: one line per site, one per validated output.
import type { ReparamFileResult } from "../passes/job/reparam-file.ts";
import type { SiteReport } from "../passes/rules/site.ts";
import { shapesDiffer, type OutputComparison } from "../passes/validate/compare.ts";
import type { ModelClasses } from "../passes/pipeline/model-classes.ts";
import { plural } from "../passes/errors.ts";

const fmt = (v: number) => (Number.isFinite(v) ? v.toExponential(2) : String(v));

export function printSites(sites: SiteReport[], unmatched: Array<{ node: string; reason: string }> = []): void {
  const out = process.stdout;
  out.write(`sites (${sites.length}):\n`);
  for (const s of sites) {
    const what = s.status === "rewritten" ? `-> ${s.replacement?.join(", ")}${s.folded?.length ? ` (folded ${s.folded.join(", ")})` : ""}` : `skipped: ${s.reason}`;
    out.write(`  ${s.kind.padEnd(4)} ${s.form.padEnd(6)} K=${String(s.k ?? "?").padEnd(5)} ${s.output}  ${what}\n`);
  }
  for (const u of unmatched) out.write(`  note: ${u.node}: ${u.reason}\n`);
}

export function printSummary(r: ReparamFileResult): void {
  const out = process.stdout;
  printSites(r.sites, r.unmatched);
  printVocabulary(r);
  if (r.neckForm) {
    const c = r.neckForm;
    const times = Object.entries(c.timings).map(([f, t]) => `${f} ${t!.medianMs.toFixed(1)} ms`).join(", ");
    out.write(`neck form auto: ${c.chosen} (${c.reason}${times ? `; medians of ${c.rounds} rounds: ${times}; noise ±${c.noiseMs.toFixed(1)} ms` : ""})\n`);
  }
  if (r.validation) {
    const v = r.validation;
    const shapes = v.runs.map((r) => r.inputs.map((i) => `${i.name}:${i.shape.join("x")}`).join(" ")).join("; ");
    out.write(`validation (atol ${v.atol}, rtol ${v.rtol}, seed ${v.seed}; inputs ${shapes}): ${v.passed ? "PASSED" : "FAILED"}; worst per output:\n`);
    for (const o of v.outputs) out.write(outputLine(o));
    if (v.bookkeeping) {
      out.write(`class bookkeeping (the original against the retargeted graph given its own rows, repeated): ${v.bookkeeping.passed ? "PASSED" : "FAILED"}; worst per output:\n`);
      for (const o of v.bookkeeping.outputs) out.write(outputLine(o));
    }
  }
  if (r.exitCode === 0) out.write(`${r.message}\n`);
}

/** inspect: the model's class count (as the sites, or the rewritten sites, see it) and its names metadata. */
export function printClasses(c: ModelClasses): void {
  const out = process.stdout;
  const r = c.reparameterized;
  if (r) {
    const neck = r.neck.length ? `${r.neck.length} neck node(s) holding the text (a constant-weight Conv or MatMul followed by a max over the classes) (${r.neck.map((n) => n.node).join(", ")})` : "no neck contraction";
    const head = r.head.length ? `${r.head.length} head Conv(s) with one output per class reaching the outputs (${r.head.join(", ")})` : "no head Conv recognized";
    out.write(`already reparameterized: the text is folded into weights: ${neck}; ${head}\n`);
  }
  const stale = c.names && c.k.length === 1 && c.names.length !== c.k[0] ? ` (stale: the names metadata lists ${c.names.length})` : "";
  if (c.k.length) out.write(`classes: K = ${c.k.join(", ")}${c.from === "sites" ? "" : ` (from the ${c.from})`}${stale}`);
  else out.write("classes: K unknown (no site, no recognizable rewritten neck, no names metadata)");
  if (c.names) out.write(`; names (${c.names.length}): ${c.names.slice(0, 10).join(", ")}${c.names.length > 10 ? ", ..." : ""}`);
  out.write("\n");
}

export function printVocabulary(r: ReparamFileResult): void {
  const v = r.vocabulary;
  if (!v) return;
  const what = v.from === null ? `${plural(v.to, "class", "classes")} bound from ${v.source} to the text input '${v.text}'` : `${v.from} -> ${plural(v.to, "class", "classes")} from ${v.source} (text '${v.text}')`;
  process.stdout.write(`vocabulary: ${what}; names ${v.names}${v.proof ? `; proof ${v.proof}` : ""}\n`);
  for (const e of v.edits) process.stdout.write(`  followed: ${e}\n`);
}

/** One validated output: pass/fail and how far apart the two models are. */
export function outputLine(o: OutputComparison, a = "the original", b = "the rewritten"): string {
  if (o.shapeMismatch) return `  FAIL ${o.name.padEnd(12)} ${shapesDiffer(o.shapeMismatch, a, b)}\n`;
  return `  ${o.passed ? "ok  " : "FAIL"} ${o.name.padEnd(12)} max|d| ${fmt(o.maxAbsDiff)}  max rel ${fmt(o.maxRelDiff)}  cos ${o.cosine.toFixed(7)}  min atol ${fmt(o.minPassingAtol)}  NaN ${o.nan.original}/${o.nan.rewritten}  Inf ${o.inf.original}/${o.inf.rewritten}\n`;
}
