// Which files the page's server hands out: the built page's folder, listed once at start,
// plus onnxruntime-web's WASM binary and its loader, resolved from the installed
// onnxruntime-web package (never a second copy). A request can only ever name one of these.
import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative, sep } from "node:path";
import { EXIT, ReparamError } from "../../passes/errors.ts";

/** onnxruntime-web's files the page loads from its ort/ folder (web/src/runtime-web.ts). */
export const ORT_FILES = ["ort-wasm-simd-threaded.wasm", "ort-wasm-simd-threaded.mjs"] as const;

/** Paths of the installed onnxruntime-web's files, resolved as this package sees its dependency. */
export function ortFiles(): Map<string, string> {
  const require = createRequire(import.meta.url);
  const out = new Map<string, string>();
  for (const f of ORT_FILES) {
    let path: string;
    try {
      path = require.resolve(`onnxruntime-web/${f}`);
    } catch {
      // an optional dependency: `npm install --omit=optional` leaves it out
      throw new ReparamError(`the page needs onnxruntime-web, which is not installed (${f} not found): npm install onnxruntime-web@1.30`, EXIT.USAGE);
    }
    out.set(`ort/${f}`, path);
  }
  return out;
}

/** Every file under `dir` by its URL path ("/index.html"), at most `limit` of them. */
function listFiles(dir: string, limit = 1000): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (out.size >= limit) throw new Error(`${dir} holds more than ${limit} files: not a built page`);
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.set(relative(dir, p).split(sep).join("/"), p);
    }
  };
  walk(dir);
  return out;
}

/** URL path (without the leading "/") -> file, for the page in `dir` and onnxruntime-web's files. */
export function pageFiles(dir: string): Map<string, string> {
  if (!existsSync(join(dir, "index.html")) || !statSync(join(dir, "index.html")).isFile()) throw new Error(`${dir} holds no index.html`);
  const files = listFiles(dir);
  for (const [url, path] of ortFiles()) files.set(url, path);
  return files;
}
