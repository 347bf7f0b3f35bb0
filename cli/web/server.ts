// The page's HTTP server: Node's own http, loopback only, read-only, and hardened so that
// no request (malformed, hostile, half-sent) can stop it. Every request gets an answer
// with the page's security headers; only the page's own files are ever read.
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createReadStream, readFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import { extname, join } from "node:path";
import type { Duplex } from "node:stream";
import { ReparamError } from "../../passes/errors.ts";
import { parseTarget } from "./target.ts";
import { contentSecurityPolicy, EVAL_SCRIPT, hostAllowed, inlineStyleHashes, pageHeaders } from "./headers.ts";
import { pageFiles } from "./page-files.ts";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm", ".css": "text/css; charset=utf-8", ".json": "application/json", ".png": "image/png", ".svg": "image/svg+xml",
};
const ALLOW = "GET, HEAD";
/** Request line plus headers; a browser's request for the page is well under 2 KiB. */
const MAX_HEADER_BYTES = 16 * 1024;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ /;

export interface PageServer { server: Server; url: string; port: number }

/** How long a client may take (ms): a slow or stalled client is answered 408 and dropped. */
export interface Timeouts { headers: number; request: number; keepAlive: number; checkEvery: number }
const TIMEOUTS: Timeouts = { headers: 10_000, request: 30_000, keepAlive: 5_000, checkEvery: 2_000 };

/** Serves the built page in `dir` on host:port (0: any free port); resolves once listening. */
export function serveStatic(dir: string, port: number, host = "127.0.0.1", timeouts: Partial<Timeouts> = {}): Promise<PageServer> {
  const t = { ...TIMEOUTS, ...timeouts };
  const files = pageFiles(dir);
  const styles = inlineStyleHashes(readFileSync(join(dir, "index.html"), "utf8"));
  const security = pageHeaders(contentSecurityPolicy(styles));
  const evaluating = pageHeaders(contentSecurityPolicy(styles, true));
  let served = port;

  const plain = (status: number, extra: Record<string, string> = {}) => {
    const body = `${status} ${STATUS_CODES[status] ?? ""}\n`;
    return { body, headers: { ...security, "Content-Type": "text/plain; charset=utf-8", "Content-Length": String(Buffer.byteLength(body)), "Cache-Control": "no-store", ...extra } };
  };
  /** A refusal: the answer, then the connection closes (whatever else the client sent is not read). */
  const refuse = (req: IncomingMessage, res: ServerResponse, status: number, extra: Record<string, string> = {}) => {
    const { body, headers } = plain(status, { ...extra, Connection: "close" });
    res.writeHead(status, headers).end(req.method === "HEAD" ? undefined : body);
  };
  /** The same, written on a bare socket (the parser gave up, or a CONNECT). */
  const refuseRaw = (socket: Duplex, status: number, extra: Record<string, string> = {}) => {
    const { body, headers } = plain(status, { ...extra, Connection: "close" });
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n${body}`);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = parseTarget(req.url ?? "");
    if ("status" in target) return refuse(req, res, target.status);
    const hosts = req.rawHeaders.filter((_, i) => i % 2 === 0 && req.rawHeaders[i].toLowerCase() === "host").length;
    if (hosts !== 1) return refuse(req, res, 400);
    if (!hostAllowed(req.headers.host ?? "", served) || (target.authority !== undefined && !hostAllowed(target.authority, served))) return refuse(req, res, 421);
    if (req.method !== "GET" && req.method !== "HEAD") return refuse(req, res, 405, { Allow: ALLOW });
    const key = target.path.slice(1);
    const file = files.get(key === "" || key.endsWith("/") ? `${key}index.html` : key);
    if (!target.path.startsWith("/") || file === undefined) return refuse(req, res, 404);
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      return refuse(req, res, 404);
    }
    res.writeHead(200, { ...(key === EVAL_SCRIPT ? evaluating : security), "Content-Type": TYPES[extname(file)] ?? "application/octet-stream", "Content-Length": String(size), "Cache-Control": "no-cache" });
    if (req.method === "HEAD") { res.end(); return; }
    createReadStream(file).on("error", () => res.destroy()).pipe(res);
  }

  const server = createServer({
    requireHostHeader: false, // answered here, with the page's headers
    maxHeaderSize: MAX_HEADER_BYTES,
    headersTimeout: t.headers, requestTimeout: t.request, keepAliveTimeout: t.keepAlive, connectionsCheckingInterval: t.checkEvery,
  }, (req, res) => {
    handle(req, res).catch(() => { if (!res.headersSent) refuse(req, res, 500); else res.destroy(); });
  });
  // A client may send its request and half-close (`nc -N`, raw sockets): answer what it asked
  // before closing. Node's default ends the socket at once, cutting off a response not yet written.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  // The parser gave up on what the client sent: answer once if nothing was answered yet.
  server.on("clientError", (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => {
    const busy = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
    if (err.code === "ECONNRESET" || !socket.writable || busy) { socket.destroy(); return; }
    const raw = err.rawPacket?.subarray(0, MAX_HEADER_BYTES).toString("latin1") ?? "";
    if (err.code === "HPE_HEADER_OVERFLOW") refuseRaw(socket, TOKEN.test(raw) && !raw.includes("\n") ? 414 : 431);
    else if (err.code === "HPE_INVALID_METHOD" && TOKEN.test(raw)) refuseRaw(socket, 405, { Allow: ALLOW });
    else if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") refuseRaw(socket, 408);
    else refuseRaw(socket, 400);
  });
  // Node closes a CONNECT's socket unanswered unless someone listens.
  server.on("connect", (_req: IncomingMessage, socket: Duplex) => refuseRaw(socket, 405, { Allow: ALLOW }));

  return new Promise((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => reject(new ReparamError(`cannot listen on ${host}:${port} (${e.code ?? e.message})`)));
    server.listen(port, host, () => {
      const addr = server.address();
      served = typeof addr === "object" && addr ? addr.port : port;
      resolve({ server, url: `http://${host}:${served}/`, port: served });
    });
  });
}
