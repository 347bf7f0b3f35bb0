// Names files on disk (Node only); the parsing is in names-text.ts, shared with the page.
import { readFileSync } from "node:fs";
import { ReparamError } from "../errors.ts";
import { parseNamesText, type NameList } from "./names-text.ts";

export * from "./names-text.ts";

/** One name per line, or a JSON array of strings, each name verbatim (see names-text.ts). */
export function readNamesFile(path: string): NameList {
  let text: string;
  try { text = readFileSync(path, "utf8"); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ReparamError(`${path}: ${code === "ENOENT" ? "names file not found" : `cannot read names file (${code ?? "error"})`}`);
  }
  return parseNamesText(text, path);
}
