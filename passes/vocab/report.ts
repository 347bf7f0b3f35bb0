// The report's `vocabulary` block, and the model's `names` metadata that goes with it.
import type { LoadedModel } from "../io/model-io.ts";
import type { BoundText } from "./bind-text.ts";
import type { Vocabulary } from "./text-embed.ts";
import { plural, ReparamError } from "../errors.ts";
import { formatNames, parseNames } from "./names-metadata.ts";

export interface VocabularyReport {
  /** Classes the model held (null: a text input with a symbolic K). */
  from: number | null;
  to: number;
  source: string;
  /** The constant or input that held the text. */
  text: string;
  /** set: --names written; kept: --names absent and the model has none; stale: the model's names no longer match. */
  names: "set" | "kept" | "stale";
  proof: "padded" | "duplicated+swapped" | "direct" | null;
  /** Shape arguments and declared dims that followed the new class count. */
  edits: string[];
  derived: string[];
  /** Outputs whose new shape shape inference could not compute (the proof still runs them). */
  unchecked: string[];
}

export function modelNames(model: LoadedModel): { names: string[] | null; raw: string | null } {
  const raw = (model.proto.metadata_props ?? []).find((p) => p.key === "names")?.value ?? null;
  return { names: raw === null ? null : parseNames(raw)?.names ?? null, raw };
}

export function describeVocabulary(model: LoadedModel, r: { vocabulary: Vocabulary | null; bound: BoundText | null }, names: string[] | null, source: string, warnings: string[]): VocabularyReport {
  const v = r.vocabulary;
  const bound = r.bound!;
  const to = v ? v.to : bound.value.dims[bound.value.dims.length - 2];
  const props = (model.proto.metadata_props ??= []);
  const entry = props.find((p) => p.key === "names");
  let status: VocabularyReport["names"] = "kept";
  if (names) {
    if (names.length !== to) throw new ReparamError(`--names: ${names.length} ${names.length === 1 ? "name" : "names"} for ${plural(to, "text row")} (a names file holds one name per line, or a JSON array of strings)`);
    const value = formatNames(names, entry?.value ? parseNames(entry.value)?.format ?? "python-dict" : "python-dict");
    if (entry) entry.value = value;
    else props.push({ key: "names", value });
    status = "set";
  } else if (entry) {
    status = "stale";
    warnings.push(`the model's 'names' metadata (${parseNames(entry.value ?? "")?.names.length ?? "?"} names) no longer matches the new text (${plural(to, "row")}); give --names to set it`);
  }
  return {
    from: v ? v.from : null, to, source, text: v ? v.text : bound.name, names: status, proof: null,
    edits: v?.edits ?? [], derived: v ? v.sources.slice(1).map((s) => s.name) : [], unchecked: v?.unchecked ?? [],
  };
}
