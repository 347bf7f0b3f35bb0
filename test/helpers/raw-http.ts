// A raw HTTP/1.1 client over net.Socket for the server's hostile-request tests: writes the
// bytes exactly as given (optionally in pieces, with pauses), then half-closes or drops the
// connection, and reads every response the server sends until it closes. Bounded: a
// connection the server leaves open past `timeoutMs` is dropped and flagged.
import { connect } from "node:net";

export interface RawResponse { status: number; headers: Record<string, string>; body: Buffer }
export interface Exchange { responses: RawResponse[]; bytes: number; timedOut: boolean; error?: string }

/** Parses consecutive responses; `head`: no bodies (answers to HEAD). */
export function parseResponses(data: Buffer, head = false): RawResponse[] {
  const out: RawResponse[] = [];
  let at = 0;
  while (at < data.length) {
    const end = data.indexOf("\r\n\r\n", at);
    if (end < 0) break;
    const [statusLine, ...lines] = data.subarray(at, end).toString("latin1").split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
    const headers: Record<string, string> = {};
    for (const l of lines) { const c = l.indexOf(":"); headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim(); }
    const length = head ? 0 : Number(headers["content-length"] ?? 0);
    out.push({ status, headers, body: data.subarray(end + 4, end + 4 + length) });
    at = end + 4 + length;
  }
  return out;
}

export function exchange(port: number, pieces: Array<string | Buffer>, opts: { gapMs?: number; close?: "end" | "destroy"; timeoutMs?: number; head?: boolean } = {}): Promise<Exchange> {
  const { gapMs = 0, close = "end", timeoutMs = 15_000, head = false } = opts;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let timedOut = false, error: string | undefined, settled = false;
    const socket = connect(port, "127.0.0.1");
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const data = Buffer.concat(chunks);
      resolve({ responses: parseResponses(data, head), bytes: data.length, timedOut, error });
    };
    const timer = setTimeout(() => { timedOut = true; socket.destroy(); finish(); }, timeoutMs);
    socket.on("data", (d) => chunks.push(d));
    socket.on("error", (e: NodeJS.ErrnoException) => { error = e.code ?? e.message; });
    socket.on("close", finish);
    socket.on("connect", async () => {
      for (const [i, p] of pieces.entries()) {
        if (socket.destroyed) return;
        socket.write(p);
        if (gapMs && i < pieces.length - 1) await new Promise((r) => setTimeout(r, gapMs));
      }
      if (close === "destroy") { socket.destroy(); finish(); } else socket.end();
    });
  });
}
