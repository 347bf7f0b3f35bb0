// `onnx-reparam web --out DIR`: the page as a folder for any static host, onnxruntime-web's
// files copied in from the installed dependency. Written beside DIR and renamed into place,
// so DIR is either the whole page or untouched.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ReparamError } from "../../passes/errors.ts";
import { pageFiles } from "./page-files.ts";
import { contentSecurityPolicy, EVAL_SCRIPT, inlineStyleHashes, pageHeaders } from "./headers.ts";

export interface StaticPage {
  dir: string; files: string[];
  /** Headers for every file, and the one that differs for the worker's script. */
  headers: Record<string, string>; workerPolicy: { path: string; csp: string };
}

export function writeStaticPage(page: string, out: string, force = false): StaticPage {
  const dir = resolve(out);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new ReparamError(`--out ${out} exists and is not a directory`);
    if (readdirSync(dir).length > 0 && !force) throw new ReparamError(`--out ${out} is not empty (--force replaces it)`);
  }
  const files = pageFiles(page);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    for (const [url, file] of files) {
      mkdirSync(dirname(join(tmp, url)), { recursive: true });
      copyFileSync(file, join(tmp, url));
    }
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw new ReparamError(`cannot write the page to ${out}: ${(e as Error).message}`);
  }
  const styles = inlineStyleHashes(readFileSync(join(dir, "index.html"), "utf8"));
  return { dir, files: [...files.keys()].sort(), headers: pageHeaders(contentSecurityPolicy(styles)), workerPolicy: { path: EVAL_SCRIPT, csp: contentSecurityPolicy(styles, true) } };
}
