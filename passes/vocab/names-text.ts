// Class-name lists: a text (one name a line) or a JSON array of strings, or the
// --classes "a,b,c" option. Names are trimmed and blanks dropped; duplicates are kept
// (row i stays line i's name) but warned about, since two rows would compete for one class.
// No file system here (the page parses a dropped file); names-list.ts reads files.
import { ReparamError } from "../errors.ts";

export interface NameList { names: string[]; warnings: string[] }

const MAX_LISTED = 10;

export function duplicateWarnings(names: readonly string[]): string[] {
  const first = new Map<string, number>();
  const warnings: string[] = [];
  names.forEach((n, i) => {
    const seen = first.get(n);
    if (seen === undefined) first.set(n, i);
    else warnings.push(`class name ${JSON.stringify(n)} appears more than once (entries ${seen + 1} and ${i + 1})`);
  });
  // A list with hundreds of repeats should not bury the output: the first few, then a count.
  if (warnings.length > MAX_LISTED) return [...warnings.slice(0, MAX_LISTED), `${warnings.length - MAX_LISTED} more repeated class names`];
  return warnings;
}

function finish(raw: string[], source: string, warnings: string[] = []): NameList {
  const names = raw.map((n) => n.trim()).filter((n) => n !== "");
  if (names.length === 0) throw new ReparamError(`${source}: no class names`);
  return { names, warnings: [...warnings, ...duplicateWarnings(names)] };
}

function fromJson(value: unknown, path: string): NameList {
  if (!Array.isArray(value)) throw new ReparamError(`${path}: a JSON names file must be an array of strings`);
  const warnings: string[] = [];
  value.forEach((v, i) => {
    if (typeof v !== "string") throw new ReparamError(`${path}: entry ${i + 1} is ${v === null ? "null" : typeof v}; a JSON names file must be an array of strings`);
    if (/[\r\n]/.test(v)) throw new ReparamError(`${path}: entry ${i + 1} (${JSON.stringify(v)}) contains a line break`);
    // Unlike a blank line, a blank JSON entry looks deliberate: dropping it shifts later indices.
    if (v.trim() === "") warnings.push(`${path}: entry ${i + 1} is blank; ignored`);
  });
  return finish(value as string[], path, warnings);
}

/** A names file's text: one name per line (blank lines and surrounding spaces ignored), or a JSON array of strings. */
export function parseNamesText(text: string, path: string, json = /\.json$/i.test(path)): NameList {
  text = text.replace(/^\uFEFF/, "");
  if (json || text.trimStart().startsWith("[")) {
    try { return fromJson(JSON.parse(text), path); } catch (e) {
      if (e instanceof ReparamError) throw e;
      // A text file whose first name happens to start with "[" is still a text file.
      if (json) throw new ReparamError(`${path}: not valid JSON (${(e as Error).message})`);
    }
  }
  return finish(text.split(/\r?\n|\r/), path);
}

/** --classes "person,bus,traffic light": comma-separated, spaces around names ignored. */
export function parseClassesOption(value: string): NameList {
  return finish(value.split(","), "--classes");
}
