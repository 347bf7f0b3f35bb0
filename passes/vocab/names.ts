// Names files on disk (Node only); parsing and the metadata formats are in names-text.ts.
import { readFileSync } from "node:fs";
import { ReparamError } from "../errors.ts";
import { parseNamesText, type NamesFile } from "./names-text.ts";

export * from "./names-text.ts";

export function readNamesFile(path: string): NamesFile {
  let text: string;
  try { text = readFileSync(path, "utf8"); } catch (e) { throw new ReparamError(`${path}: cannot read names file (${(e as NodeJS.ErrnoException).code ?? "error"})`); }
  return parseNamesText(text, path);
}
