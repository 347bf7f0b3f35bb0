// Class-name lists: a text (one name a line) or a JSON array of strings, or the
// --classes "a,b,c" option. A name is kept exactly as given: only a file's leading BOM and
// each line's trailing \r (CRLF files) are removed. An empty or blank name, or one holding a
// control character, is refused naming its row (1-based), never dropped or trimmed: row i
// stays line i's name. Duplicates are kept but warned about, since two rows would compete
// for one class. No file system here (the page parses a dropped file); names-list.ts reads files.
import { ReparamError } from "../errors.ts";
import { nameDefect, namesFileText } from "../io/names-format.ts";

export { namesFileText };

export interface NameList { names: string[]; warnings: string[] }

const MAX_LISTED = 10;

export function duplicateWarnings(names: readonly string[]): string[] {
  const first = new Map<string, number>();
  const warnings: string[] = [];
  names.forEach((n, i) => {
    const seen = first.get(n);
    if (seen === undefined) first.set(n, i);
    else warnings.push(`class name ${JSON.stringify(n)} appears more than once (names ${seen + 1} and ${i + 1})`);
  });
  // A list with hundreds of repeats should not bury the output: the first few, then a count.
  if (warnings.length > MAX_LISTED) return [...warnings.slice(0, MAX_LISTED), `${warnings.length - MAX_LISTED} more repeated class names`];
  return warnings;
}

/** Refuses the first bad name, naming its row: "name 3 of names.json is empty". */
export function checkNameList(names: readonly string[], source: string, hint = ""): void {
  names.forEach((n, i) => {
    const why = nameDefect(n);
    if (why) throw new ReparamError(`name ${i + 1} of ${source} ${why}${why === "is empty" ? hint : ""}`);
  });
}

function finish(names: string[], source: string, warnings: string[] = [], emptyHint = ""): NameList {
  if (names.length === 0) throw new ReparamError(`${source}: no class names`);
  checkNameList(names, source, emptyHint);
  return { names, warnings: [...warnings, ...duplicateWarnings(names)] };
}

function fromJson(value: unknown, path: string): NameList {
  if (!Array.isArray(value)) throw new ReparamError(`${path}: a JSON names file must be an array of strings`);
  value.forEach((v, i) => {
    if (typeof v !== "string") throw new ReparamError(`name ${i + 1} of ${path} is ${v === null ? "null" : typeof v}; a JSON names file must be an array of strings`);
  });
  return finish(value as string[], path);
}

function fromLines(text: string, path: string, warnings: string[] = []): NameList {
  if (text === "") throw new ReparamError(`${path}: no class names`);
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop(); // the last line's own line break
  return finish(lines.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l)), path, warnings, " (a blank line)");
}

/**
 * A names file's text. `.json` is a JSON array of strings and `.txt` one name a line (so
 * embed's OUT.names.txt always reads back as lines); any other file name is JSON when its
 * text parses as an array, else lines.
 */
export function parseNamesText(text: string, path: string): NameList {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (/\.json$/i.test(path)) {
    let value: unknown;
    try { value = JSON.parse(text); } catch (e) { throw new ReparamError(`${path}: not valid JSON (${(e as Error).message})`); }
    return fromJson(value, path);
  }
  const looksJson = text.trimStart().startsWith("[");
  if (looksJson && !/\.txt$/i.test(path)) {
    let value: unknown;
    try { value = JSON.parse(text); } catch { value = undefined; } // a first name that starts with "["
    if (value !== undefined) return fromJson(value, path);
  }
  const warnings = looksJson && /\.txt$/i.test(path) && isStringArray(text)
    ? [`${path} holds a JSON array; read as one name a line since it is a .txt (name it .json to read it as JSON)`] : [];
  return fromLines(text, path, warnings);
}

function isStringArray(text: string): boolean {
  try { const v = JSON.parse(text); return Array.isArray(v) && v.every((x) => typeof x === "string"); } catch { return false; }
}

/** --classes "person,bus,traffic light": comma-separated, spaces around names ignored. */
export function parseClassesOption(value: string): NameList {
  return finish(value.split(",").map((n) => n.trim()), "--classes");
}
