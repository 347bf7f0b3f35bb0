// `onnx-reparam web`: serves the built page on 127.0.0.1 (cli/web/server.ts), or with --out
// writes it as a folder for any static host. The page does everything itself; this only
// hands out its files.
import { EXIT, ReparamError } from "../passes/errors.ts";
import { serveStatic } from "./web/server.ts";
import { pageDir } from "./web/page-dir.ts";
import { writeStaticPage } from "./web/write-static.ts";

export { serveStatic } from "./web/server.ts";
export { pageDir } from "./web/page-dir.ts";

/** A port as typed: a decimal integer from 0 to 65535, nothing else (no '', 0x1F90, 1e3, -1, 8080.0). */
export function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new ReparamError(`--port expects a decimal integer from 0 to 65535, got ${JSON.stringify(text)}`, EXIT.USAGE);
  return Number(text);
}

export async function runWeb(opts: { port?: string; out?: string; force?: boolean }): Promise<void> {
  if (opts.out !== undefined) {
    if (opts.port !== undefined) throw new ReparamError("--out writes the page and serves nothing: give --out or --port, not both");
    const page = writeStaticPage(pageDir(), opts.out, opts.force);
    process.stdout.write(`onnx-reparam: wrote the page to ${page.dir} (${page.files.join(", ")})\n`);
    process.stdout.write("Serve it with these response headers (COOP and COEP make the page cross-origin isolated, so onnxruntime-web can use threads; without them it runs on one thread), and .wasm as application/wasm:\n");
    for (const [k, v] of Object.entries(page.headers)) process.stdout.write(`  ${k}: ${v}\n`);
    process.stdout.write(`and for /${page.workerPolicy.path} only (protobufjs compiles its decoders there):\n  Content-Security-Policy: ${page.workerPolicy.csp}\n`);
    return;
  }
  const port = parsePort(opts.port ?? "8080");
  const { url } = await serveStatic(pageDir(), port);
  process.stdout.write(`onnx-reparam: serving the page at ${url} (Ctrl-C stops)\n`);
}
