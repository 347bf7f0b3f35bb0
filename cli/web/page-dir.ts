// Where the built page is. The package ships it in dist/web (built by `npm run build`,
// which `prepare` runs before packing), so an installed onnx-reparam serves it with no build
// on the user's side. Run from a clone's sources, the page is web/dist, built when missing
// from the repository's web/ sources with esbuild (a dev dependency), through tsx as
// `npm run build:web` does: the CLI cannot import the TypeScript build script itself.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { PACKAGE_ROOT } from "../package-root.ts";
import { EXIT, ReparamError } from "../../passes/errors.ts";

const COMPILED = import.meta.url.endsWith(".js");

export function pageDir(): string {
  if (COMPILED) {
    const dist = join(PACKAGE_ROOT, "dist", "web");
    if (!existsSync(join(dist, "index.html"))) throw new ReparamError(`the web page is missing from this installation (${dist}): reinstall onnx-reparam, or run \`npm run build\` in a clone`, EXIT.USAGE);
    return dist;
  }
  const dist = join(PACKAGE_ROOT, "web", "dist");
  if (existsSync(join(dist, "index.html"))) return dist;
  process.stderr.write("onnx-reparam: building the web page (npm run build:web)...\n");
  const r = spawnSync(process.execPath, ["--import", "tsx", join(PACKAGE_ROOT, "web", "build.ts")], { cwd: PACKAGE_ROOT, encoding: "utf8" });
  if (r.status !== 0 || !existsSync(join(dist, "index.html"))) {
    const why = (r.stderr || r.error?.message || "").trim().split("\n").pop() ?? "";
    throw new ReparamError(`the web page is not built and the build failed (${why}): run \`npm run build:web\``, EXIT.USAGE);
  }
  return dist;
}
