// Builds the page into web/dist: main.js (the page), worker.js (the pass and the proof),
// index.html, and onnxruntime-web's WASM binary and loader copied into ort/, so the folder
// works from any static server with no network. The package's copy (dist/web, `npm run
// build`) leaves ort/ out: `onnx-reparam web` serves those two files from the installed
// onnxruntime-web, and `web --out` copies them from there. Node's own modules and onnxruntime-node must
// never reach the bundle: the build fails if anything imports them.
import { builtinModules } from "node:module";
import { copyFileSync, mkdirSync, rmSync, renameSync, existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { ortFiles } from "../cli/web/page-files.ts";

export const WEB_DIR = dirname(fileURLToPath(import.meta.url));
export const DIST_DIR = join(WEB_DIR, "dist");

const NODE_ONLY = new Set([...builtinModules, "onnxruntime-node", "esbuild", "tsx", "yargs"]);

/** The `browser` map of the package holding `file` (a package maps a Node module it probes for to false). */
function browserMap(file: string): Record<string, unknown> {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const pj = join(dir, "package.json");
    if (!existsSync(pj)) continue;
    const browser = (JSON.parse(readFileSync(pj, "utf8")) as { browser?: unknown }).browser;
    return browser && typeof browser === "object" ? browser as Record<string, unknown> : {};
  }
  return {};
}

/**
 * Fails the build on any import of a Node built-in (fs, node:fs, path, os...) or a Node-only
 * package. The one exception is what a package's own `browser` field maps to false (protobufjs
 * probes for fs inside a try): esbuild replaces that with an empty module.
 */
export const nodeFree: esbuild.Plugin = {
  name: "node-free",
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      const bare = args.path.replace(/^node:/, "");
      const pkg = bare.startsWith("@") ? bare.split("/").slice(0, 2).join("/") : bare.split("/")[0];
      if (args.path.startsWith("node:") || NODE_ONLY.has(bare) || NODE_ONLY.has(pkg)) {
        if (!args.path.startsWith("node:") && args.importer && browserMap(args.importer)[args.path] === false) return undefined;
        return { errors: [{ text: `'${args.path}' is Node-only and must not reach the browser bundle (imported by ${args.importer || "an entry point"})` }] };
      }
      return undefined;
    });
  },
};

/** Builds the page; returns its folder and the bundle's inputs (esbuild's metafile: what reached the browser). */
export async function buildWeb(outDir = DIST_DIR, { ort = true } = {}): Promise<{ dir: string; inputs: string[] }> {
  // Build beside, then swap: a failed build never leaves a half-written page.
  const tmp = `${outDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const result = await esbuild.build({
      entryPoints: { main: join(WEB_DIR, "src/main.ts"), worker: join(WEB_DIR, "src/worker.ts") },
      bundle: true, format: "esm", platform: "browser", target: "es2022", outdir: tmp,
      minify: true, sourcemap: false, logLevel: "silent", plugins: [nodeFree], metafile: true,
      // onnxruntime-web's loader (ort-wasm-simd-threaded.mjs) stays a file of its own, loaded
      // from ort/: its threads are Workers started from that file, which the bundled variant
      // would start from worker.js (the whole page's worker) instead.
      conditions: ["onnxruntime-web-use-extern-wasm", "import", "default"],
    });
    copyFileSync(join(WEB_DIR, "index.html"), join(tmp, "index.html"));
    if (ort) {
      mkdirSync(join(tmp, "ort"));
      for (const [url, file] of ortFiles()) copyFileSync(file, join(tmp, url));
    }
    rmSync(outDir, { recursive: true, force: true });
    renameSync(tmp, outDir);
    return { dir: outDir, inputs: Object.keys(result.metafile.inputs) };
  } finally {
    if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = performance.now();
  // tsx web/build.ts [OUT] [--no-ort]
  const args = process.argv.slice(2);
  buildWeb(args.find((a) => !a.startsWith("--")), { ort: !args.includes("--no-ort") }).then(
    ({ dir }) => console.log(`built the page into ${dir} in ${((performance.now() - t0) / 1000).toFixed(1)} s`),
    (e: unknown) => {
      const errors = (e as { errors?: Array<{ text: string }> }).errors;
      process.stderr.write(`build:web: ${errors?.length ? errors.map((x) => x.text).join("; ") : (e as Error).message}\n`);
      process.exit(1);
    });
}
