// `onnx-reparam web`: serves the built page (web/dist) on 127.0.0.1 with Node's own http
// server. The page does everything itself; this only hands out its files.
import { createServer, type Server } from "node:http";
import { existsSync, readFileSync, statSync } from "node:fs";
import { extname, join, normalize, sep } from "node:path";
import { spawnSync } from "node:child_process";
import { PACKAGE_ROOT } from "./package-root.ts";
import { EXIT, ReparamError } from "../passes/errors.ts";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm", ".css": "text/css; charset=utf-8", ".json": "application/json", ".png": "image/png", ".svg": "image/svg+xml",
};

/** Serves `dir` on host:port (0: any free port); resolves once listening. */
export function serveStatic(dir: string, port: number, host = "127.0.0.1"): Promise<{ server: Server; url: string }> {
  const root = normalize(dir + sep);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const file = normalize(join(root, path.endsWith("/") ? `${path}index.html` : path));
    if (req.method !== "GET" && req.method !== "HEAD") { res.writeHead(405).end(); return; }
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) { res.writeHead(404, { "content-type": "text/plain" }).end("not found\n"); return; }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
    res.end(req.method === "HEAD" ? undefined : readFileSync(file));
  });
  return new Promise((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => reject(new ReparamError(`cannot listen on ${host}:${port} (${e.code ?? e.message})`)));
    server.listen(port, host, () => {
      const addr = server.address();
      resolve({ server, url: `http://${host}:${typeof addr === "object" && addr ? addr.port : port}/` });
    });
  });
}

/**
 * The page's folder (web/dist beside package.json), built first when missing. Building needs
 * the repository's web/ sources and esbuild (a dev dependency), run through tsx as
 * `npm run build:web` does: the compiled CLI cannot import the TypeScript build script.
 */
export async function pageDir(): Promise<string> {
  const dist = join(PACKAGE_ROOT, "web", "dist");
  if (existsSync(join(dist, "index.html"))) return dist;
  const script = join(PACKAGE_ROOT, "web", "build.ts");
  if (!existsSync(script)) throw new ReparamError("the web page is not built and cannot be built here (it ships with the repository, not the package): clone onnx-reparam and run `npm run build:web`", EXIT.USAGE);
  process.stderr.write("onnx-reparam: building the web page (npm run build:web)...\n");
  const r = spawnSync(process.execPath, ["--import", "tsx", script], { cwd: PACKAGE_ROOT, encoding: "utf8" });
  if (r.status !== 0 || !existsSync(join(dist, "index.html"))) {
    const why = (r.stderr || r.error?.message || "").trim().split("\n").pop() ?? "";
    throw new ReparamError(`the web page is not built and the build failed (${why}): run \`npm run build:web\``, EXIT.USAGE);
  }
  return dist;
}

export async function runWeb(port: number): Promise<void> {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ReparamError(`--port expects an integer from 0 to 65535, got ${port}`);
  const { url } = await serveStatic(await pageDir(), port);
  process.stdout.write(`onnx-reparam: serving the page at ${url} (Ctrl-C stops)\n`);
}
