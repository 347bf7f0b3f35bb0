// What every response of the page's server carries, and which Host a request may name.
// Cross-origin isolation (COOP + COEP) is what gives the page SharedArrayBuffer, hence
// onnxruntime-web's threads; the CSP allows the page's own files and nothing else, plus
// the one thing WASM needs ('wasm-unsafe-eval': compiling a module is not eval).
import { createHash } from "node:crypto";

/** sha256 sources for each inline <style> of the page (the CSP allows exactly those). */
export function inlineStyleHashes(html: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/<style(?:\s[^>]*)?>([\s\S]*?)<\/style>/gi)) out.push(`'sha256-${createHash("sha256").update(m[1], "utf8").digest("base64")}'`);
  return out;
}

/** The file whose script may compile functions from strings (see contentSecurityPolicy). */
export const EVAL_SCRIPT = "worker.js";

/**
 * The page's policy. `evaluates`: for the worker's own script only, which runs the pass and
 * the proof; protobufjs builds its ONNX decoders with `Function` from the fixed schema (never
 * from a model's bytes) and has no other mode. A dedicated worker takes its policy from its
 * script's response, so the document itself keeps 'unsafe-eval' out.
 */
export function contentSecurityPolicy(styleHashes: string[], evaluates = false): string {
  return [
    "default-src 'none'",
    `script-src 'self' 'wasm-unsafe-eval'${evaluates ? " 'unsafe-eval'" : ""}`,
    "worker-src 'self'",
    "connect-src 'self'",
    `style-src 'self' ${styleHashes.join(" ")}`.trim(),
    "img-src 'self' data: blob:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** The headers a static host must send for the page to be isolated (threads) and locked down. */
export function pageHeaders(csp: string): Record<string, string> {
  return {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Content-Security-Policy": csp,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
  };
}

/**
 * A Host naming this server on loopback: 127.0.0.1, localhost or [::1], with the served port.
 * Anything else is refused, so that a page on another site whose name a DNS server points
 * at 127.0.0.1 (DNS rebinding) cannot read the page's server.
 */
export function hostAllowed(host: string, port: number): boolean {
  const m = /^(127\.0\.0\.1|localhost|\[::1\])(?::(\d{1,5}))?$/i.exec(host);
  // A browser leaves the port out of Host when it is the scheme's default.
  return m !== null && (m[2] === undefined ? port === 80 : Number(m[2]) === port);
}
