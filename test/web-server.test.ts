// The page's server under hostile requests, over raw TCP on loopback: each class of bad
// request gets its own status, every response carries the security headers, and after
// 1,000 seeded hostile requests the server still answers GET / with 200. A failure
// names the seed (WEB_FUZZ_SEED=... reproduces it).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "node:http";
import { serveStatic } from "../cli/web.ts";
import { parseTarget } from "../cli/web/target.ts";
import { hostAllowed } from "../cli/web/headers.ts";
import { exchange, type Exchange, type RawResponse } from "./helpers/raw-http.ts";
import { seeded } from "./helpers/graph-builder.ts";

const SEED = Number(process.env.WEB_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const HTML = "<!doctype html><html><head><style>body { color: red }</style></head><body><script type=module src=./main.js></script></body></html>\n";

let dir: string, server: Server, port: number, host: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "web-server-"));
  writeFileSync(join(dir, "index.html"), HTML);
  writeFileSync(join(dir, "main.js"), "console.log('main');\n");
  writeFileSync(join(dir, "worker.js"), "self.onmessage = () => {};\n");
  mkdirSync(join(dir, "sub"));
  writeFileSync(join(dir, "sub", "a b.js"), "// a file whose name needs %20\n");
  writeFileSync(join(tmpdir(), "web-server-outside.txt"), "outside\n");
  // Short timeouts so that the stalled-client case is answered within the test.
  ({ server, port } = await serveStatic(dir, 0, "127.0.0.1", { headers: 600, request: 2_000, checkEvery: 200 }));
  host = `127.0.0.1:${port}`;
});
afterAll(() => {
  server?.close();
  server?.closeAllConnections();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const req = (method: string, target: string, headers: string[] = [`Host: ${host}`]) => `${method} ${target} HTTP/1.1\r\n${headers.map((h) => `${h}\r\n`).join("")}\r\n`;
const only = (ex: Exchange, why: string): RawResponse => {
  expect(ex.timedOut, `${why}: the server left the connection open (seed ${SEED})`).toBe(false);
  expect(ex.responses.length, `${why}: expected one response, got ${ex.responses.length} (seed ${SEED})`).toBe(1);
  return ex.responses[0];
};
function secure(r: RawResponse, why: string): void {
  expect(r.headers["x-content-type-options"], why).toBe("nosniff");
  expect(r.headers["cross-origin-opener-policy"], why).toBe("same-origin");
  expect(r.headers["cross-origin-embedder-policy"], why).toBe("require-corp");
  expect(r.headers["cross-origin-resource-policy"], why).toBe("same-origin");
  expect(r.headers["content-security-policy"], why).toMatch(/^default-src 'none'; script-src 'self' 'wasm-unsafe-eval'/);
  expect(r.headers["content-length"], why).toMatch(/^\d+$/);
}
async function status(pieces: Array<string | Buffer>, opts: Parameters<typeof exchange>[2] = {}): Promise<number> {
  const why = JSON.stringify(Buffer.concat(pieces.map((p) => Buffer.from(p as string, "latin1"))).toString("latin1").slice(0, 120));
  const r = only(await exchange(port, pieces, opts), why);
  secure(r, why);
  return r.status;
}

// The hostile classes, each with the one status it must get. `pick` chooses a case with the seeded generator.
type Case = { pieces: Array<string | Buffer>; status: number | null; opts?: Parameters<typeof exchange>[2] };
type Rnd = () => number;
const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[Math.floor((rnd() + 0.5) * xs.length)];
const int = (rnd: Rnd, n: number) => Math.floor((rnd() + 0.5) * n);
const CLASSES: Record<string, (rnd: Rnd) => Case> = {
  "malformed percent-encoding": (rnd) => ({ pieces: [req("GET", pick(rnd, ["/%", "/%z", "/%zz", "/a%", "/%e9", "/%c3%28", "/%ff%fe", "/%%", "/index.html%", "/%c0%af", "/ok?x=%"]))], status: 400 }),
  "malformed target": (rnd) => ({ pieces: [req("GET", pick(rnd, ["//[", "http://[", "//x:99999/", "http://x:99999/", "//", "*", "/a#b", "/[x]", "/a{b}", "/a|b", "/a^b", "/a`b", "/a\"b", "/<x>", "http://", "https://127.0.0.1/", "ftp://x/", "index.html", "http://a b/"]))], status: 400 }),
  "outside the page's files": (rnd) => ({ pieces: [req(pick(rnd, ["GET", "HEAD"]), pick(rnd, ["/../web-server-outside.txt", "/%2e%2e/web-server-outside.txt", "/%2E%2E%2Fweb-server-outside.txt", "/..%2f..%2f..%2fetc%2fpasswd", "/sub/../index.html", "/./index.html", "/sub/..%5c..%5cindex.html", "/..\\..\\etc\\passwd", "/sub\\a%20b.js", "/index.html%00", "/%00", "/index.html%00.js", "/etc/passwd", "/nope", "/sub", "/sub/", "/INDEX.HTML", "/index.html/", "/%2findex.html"]))], status: 404, opts: { head: true } }),
  "method other than GET or HEAD": (rnd) => ({ pieces: [req(pick(rnd, ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "MKCOL", "FOO", "get", "Get", "XYZZY"]), "/")], status: 405 }),
  "CONNECT": () => ({ pieces: [req("CONNECT", "127.0.0.1:22")], status: 405 }),
  "over-long target": (rnd) => ({ pieces: [req("GET", `/${"a".repeat(2048 + int(rnd, 60_000))}`)], status: 414 }),
  "foreign Host (DNS rebinding)": (rnd) => ({ pieces: [req("GET", "/", [`Host: ${pick(rnd, ["evil.example", `evil.example:${port}`, `127.0.0.1:${port + 1}`, `127.0.0.2:${port}`, `localhost.evil.example:${port}`, `0.0.0.0:${port}`, `[::2]:${port}`, "127.0.0.1", `127.0.0.1:0${port}`, `127.0.0.1:${port}.`, `user@127.0.0.1:${port}`])}`])], status: 421 }),
  "absolute-form naming another host": (rnd) => ({ pieces: [req("GET", pick(rnd, ["http://evil.example/", `http://evil.example:${port}/index.html`, `http://127.0.0.1:${port + 1}/`]))], status: 421 }),
  "missing or repeated Host": (rnd) => ({ pieces: [req("GET", "/", pick(rnd, [[], [`Host: ${host}`, `Host: ${host}`], [`Host: ${host}`, "host: evil.example"]]))], status: 400 }),
  "malformed request line or header": (rnd) => ({ pieces: [pick(rnd, [
    "GET\r\n\r\n", "GET /\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET / FOO/1.1\r\n\r\n", " GET / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1 extra\r\n\r\n",
    `GET / HTTP/1.1\r\nHost: ${host}\r\nno colon here\r\n\r\n`, `GET / HTTP/1.1\r\nHost : ${host}\r\n\r\n`, `GET / HTTP/1.1\r\nHost: ${host}\r\nX\u0001: y\r\n\r\n`,
    `GET / HTTP/1.1\r\nHost: ${host}\r\nContent-Length: -1\r\n\r\n`, `GET / HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n`,
    `POST / HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc`, `GET /a\u0000b HTTP/1.1\r\nHost: ${host}\r\n\r\n`, `GET /\u00e9 HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u01fc\u0003\u0003\r\n\r\n",
  ])], status: 400 }),
  "huge headers": (rnd) => ({ pieces: [pick(rnd, [
    req("GET", "/", [`Host: ${host}`, `X-Big: ${"b".repeat(17_000 + int(rnd, 40_000))}`]),
    req("GET", "/", [`Host: ${host}`, ...Array.from({ length: 400 + int(rnd, 400) }, (_, i) => `X-H${i}: ${"v".repeat(40)}`)]),
  ])], status: 431 }),
  "random bytes": (rnd) => {
    const bytes = Buffer.from(Array.from({ length: 1 + int(rnd, 600) }, () => int(rnd, 256)));
    return { pieces: [bytes, "\r\n\r\n"], status: null }; // any 4xx: random bytes may happen to read as a method or a long line
  },
  "partial request, then the client half-closes": (rnd) => {
    const full = req("GET", "/index.html", [`Host: ${host}`, "X-Slow: 1"]);
    const cut = 1 + int(rnd, full.length - 3);
    return { pieces: [full.slice(0, Math.ceil(cut / 2)), full.slice(Math.ceil(cut / 2), cut)], status: 400, opts: { gapMs: 5 } };
  },
  "partial request, then the client drops the connection": (rnd) => {
    const full = req("GET", "/", [`Host: ${host}`, `X-Slow: ${"s".repeat(int(rnd, 200))}`]);
    return { pieces: [full.slice(0, 1 + int(rnd, full.length - 5))], status: null, opts: { close: "destroy" } };
  },
};

describe("the page's server", () => {
  it("serves the page's files, with the security headers, HEAD with Content-Length", async () => {
    const get = only(await exchange(port, [req("GET", "/")]), "GET /");
    expect(get.status).toBe(200);
    secure(get, "GET /");
    expect(get.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(get.body.toString()).toBe(HTML);
    // the CSP allows the page's one inline <style> by its hash, and nothing else inline
    expect(get.headers["content-security-policy"]).toMatch(/style-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
    expect(get.headers["content-security-policy"]).not.toMatch(/unsafe-inline|'unsafe-eval'/);
    const head = only(await exchange(port, [req("HEAD", "/index.html")], { head: true }), "HEAD");
    expect([head.status, head.headers["content-length"], head.body.length]).toEqual([200, String(Buffer.byteLength(HTML)), 0]);
    // the worker's own script is the one place protobufjs may compile its decoders
    expect(only(await exchange(port, [req("GET", "/worker.js")]), "worker").headers["content-security-policy"]).toMatch(/'unsafe-eval'/);
    for (const target of ["/sub/a%20b.js", "/index.html?x=1&y=%2F", `http://${host}/main.js`]) expect(only(await exchange(port, [req("GET", target)]), target).status).toBe(200);
    for (const h of [`localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) expect(only(await exchange(port, [req("GET", "/", [`Host: ${h}`])]), h).status).toBe(200);
    // onnxruntime-web's files come from the installed dependency, not the page's folder
    const wasm = only(await exchange(port, [req("HEAD", "/ort/ort-wasm-simd-threaded.wasm")], { head: true }), "wasm");
    expect([wasm.status, wasm.headers["content-type"]]).toEqual([200, "application/wasm"]);
    expect(Number(wasm.headers["content-length"])).toBe(statSync(join("node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm")).size);
    const mjs = only(await exchange(port, [req("GET", "/ort/ort-wasm-simd-threaded.mjs")]), "mjs");
    expect(mjs.body.equals(readFileSync("node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.mjs"))).toBe(true);
    // pipelined: each request its own answer, in order; a refusal closes the connection
    const piped = await exchange(port, [req("GET", "/main.js") + req("GET", "/") + req("GET", "/%") + req("GET", "/")]);
    expect(piped.responses.map((r) => r.status)).toEqual([200, 200, 400]);
  });

  for (const [name, make] of Object.entries(CLASSES)) {
    it(`${name}: ${make(seeded(1)).status ?? "any 4xx or a dropped connection"}`, async () => {
      const rnd = seeded(SEED);
      for (let i = 0; i < 6; i++) {
        const c = make(rnd);
        if (c.opts?.close === "destroy") {
          expect((await exchange(port, c.pieces, c.opts)).timedOut).toBe(false);
          continue;
        }
        const s = await status(c.pieces, c.opts);
        if (c.status === null) expect([400, 405, 414, 431], `seed ${SEED}`).toContain(s);
        else expect(s, `seed ${SEED}`).toBe(c.status);
      }
      expect(only(await exchange(port, [req("GET", "/")]), "after").status).toBe(200);
    });
  }

  it("a client that stalls mid-request (and keeps the connection open) is answered 408 and dropped", async () => {
    // the server's header timeout is 600 ms here (10 s by default): 10 s is the test's own bound
    const { connect } = await import("node:net");
    const answer = await new Promise<string>((resolve) => {
      const s = connect(port, "127.0.0.1", () => s.write(req("GET", "/").slice(0, 25)));
      let data = "";
      const give = setTimeout(() => { s.destroy(); resolve(`${data}(still open after 10 s)`); }, 10_000);
      s.on("data", (d) => { data += d; });
      s.on("close", () => { clearTimeout(give); resolve(data); });
      s.on("error", () => {});
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toMatch(/\r\nX-Content-Type-Options: nosniff\r\n/i);
  });

  it(`keeps serving through 1,000 hostile requests (seed ${SEED})`, async () => {
    const rnd = seeded(SEED);
    const names = Object.keys(CLASSES);
    const counts: Record<string, number> = {};
    for (let batch = 0; batch < 50; batch++) {
      await Promise.all(Array.from({ length: 20 }, async () => {
        const name = pick(rnd, names);
        const c = CLASSES[name](rnd);
        counts[name] = (counts[name] ?? 0) + 1;
        const ex = await exchange(port, c.pieces, c.opts);
        expect(ex.timedOut, `${name}: left open (seed ${SEED})`).toBe(false);
        if (c.opts?.close === "destroy") return;
        expect(ex.responses.length, `${name}: no answer to ${JSON.stringify(String(c.pieces[0]).slice(0, 80))} (seed ${SEED})`).toBe(1);
        const got = ex.responses[0].status;
        if (c.status === null) expect([400, 405, 414, 431], `${name} (seed ${SEED})`).toContain(got);
        else expect(got, `${name}: ${JSON.stringify(String(c.pieces[0]).slice(0, 80))} (seed ${SEED})`).toBe(c.status);
      }));
    }
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1000);
    const after = only(await exchange(port, [req("GET", "/")]), "GET / after the storm");
    expect(after.status).toBe(200);
    expect(after.body.toString()).toBe(HTML);
  }, 300_000);
});

describe("request targets and Host, as parsed", () => {
  it("decodes strictly and never throws", () => {
    expect(parseTarget("/a%20b?q")).toEqual({ path: "/a b" });
    expect(parseTarget("/%2e%2e/x")).toEqual({ path: "/../x" });
    expect(parseTarget("http://localhost:8080")).toEqual({ path: "/", authority: "localhost:8080" });
    for (const t of ["/%", "//[", "http://[", "//x:99999/", "/%c3%28", ""]) expect(parseTarget(t), t).toMatchObject({ status: 400 });
    expect(parseTarget(`/${"x".repeat(5000)}`)).toMatchObject({ status: 414 });
    const rnd = seeded(SEED);
    for (let i = 0; i < 2000; i++) {
      const s = String.fromCharCode(...Array.from({ length: int(rnd, 40) }, () => pick(rnd, [37, 47, 46, 92, 0, 65, 50, 101, 63, 58, 91, 93, int(rnd, 0x110) ])));
      const r = parseTarget(s);
      expect("path" in r || [400, 414].includes(r.status), `seed ${SEED}`).toBe(true);
    }
  });
  it("accepts loopback names with the served port only", () => {
    expect(hostAllowed("127.0.0.1:8080", 8080)).toBe(true);
    expect(hostAllowed("localhost", 80)).toBe(true);
    expect(hostAllowed("localhost", 8080)).toBe(false);
    expect(hostAllowed("127.0.0.1:8081", 8080)).toBe(false);
    expect(hostAllowed("example.com:8080", 8080)).toBe(false);
  });
});
