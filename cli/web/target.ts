// The request target, read by hand rather than by `new URL`: WHATWG URL parsing is lenient
// where a server must be strict (it repairs `\`, resolves `..`, treats `//host` as an
// authority) and throws on the rest. Linear in the target's length; never throws.

/** The longest target the page's server reads; its own file names are a few dozen bytes. */
export const MAX_TARGET = 2048;

export type Target = { path: string; authority?: string } | { status: 400 | 414; reason: string };

// RFC 3986 pchar without pct-encoded (handled apart), plus `/`; `?` starts the query.
// A raw backslash is accepted here and answered 404 by the file lookup (no page file has one).
const PATH_CHAR = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/\\]$/;
const QUERY_CHAR = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?%\\]$/;

/** Decodes %XX escapes; null when an escape is malformed or the bytes are not UTF-8. */
function percentDecode(s: string): string | null {
  if (!s.includes("%")) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== "%") { bytes.push(s.charCodeAt(i)); continue; }
    const hex = s.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
    bytes.push(parseInt(hex, 16));
    i += 2;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
}

/** Splits an origin-form target (`/path?query`) and decodes its path. */
function originForm(target: string): Target {
  if (target.startsWith("//")) return { status: 400, reason: "a target starting with // is ambiguous (a network-path reference)" };
  const q = target.indexOf("?");
  const rawPath = q < 0 ? target : target.slice(0, q);
  for (const c of rawPath) if (c !== "%" && !PATH_CHAR.test(c)) return { status: 400, reason: `character ${JSON.stringify(c)} is not allowed in a path` };
  if (q >= 0) {
    const query = target.slice(q + 1);
    for (const c of query) if (!QUERY_CHAR.test(c)) return { status: 400, reason: `character ${JSON.stringify(c)} is not allowed in a query` };
    if (/%(?![0-9A-Fa-f]{2})/.test(query)) return { status: 400, reason: "malformed percent-encoding in the query" };
  }
  const path = percentDecode(rawPath);
  if (path === null) return { status: 400, reason: "malformed percent-encoding" };
  return { path };
}

/**
 * Reads a request target: origin-form (`/index.html?x`) or absolute-form
 * (`http://127.0.0.1:8080/index.html`). The decoded path is returned as is (`..`, NUL and `\`
 * included): the caller only ever looks it up among the page's own files.
 */
export function parseTarget(target: string): Target {
  if (target.length > MAX_TARGET) return { status: 414, reason: `target longer than ${MAX_TARGET} bytes` };
  if (target.startsWith("/")) return originForm(target);
  const abs = /^http:\/\/([^/?#]*)(.*)$/i.exec(target);
  if (!abs) return { status: 400, reason: "the target is neither /path nor http://host/path" };
  const [, authority, rest] = abs;
  if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~]+)(:\d{1,5})?$/.test(authority)) return { status: 400, reason: "malformed authority" };
  const port = /:(\d+)$/.exec(authority);
  if (port && Number(port[1]) > 65535) return { status: 400, reason: "port out of range" };
  const r = originForm(rest === "" || rest.startsWith("?") ? `/${rest}` : rest);
  return "path" in r ? { ...r, authority } : r;
}
