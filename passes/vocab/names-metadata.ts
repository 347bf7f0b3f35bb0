// Class names in the model's `names` metadata, in the format its exporter used. Ultralytics writes str() of a Python dict, {0: 'person', ...},
// and parses it back with ast.literal_eval, so the quoting must be Python's repr.

/** Python's repr() of a str: single quotes unless the text has one and no double quote. */
export function pyRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === q) out += "\\" + q;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
    // str.isprintable() is false for other separators and format/control characters.
    else if (ch !== " " && /[\p{C}\p{Z}]/u.test(ch)) out += c <= 0xff ? "\\x" + c.toString(16).padStart(2, "0") : c <= 0xffff ? "\\u" + c.toString(16).padStart(4, "0") : "\\U" + c.toString(16).padStart(8, "0");
    else out += ch;
  }
  return out + q;
}

export type NamesFormat = "python-dict" | "json-dict" | "json-list";

export function formatNames(names: string[], format: NamesFormat): string {
  switch (format) {
    case "json-list": return JSON.stringify(names);
    case "json-dict": return JSON.stringify(Object.fromEntries(names.map((n, i) => [String(i), n])));
    default: return `{${names.map((n, i) => `${i}: ${pyRepr(n)}`).join(", ")}}`;
  }
}

/** Reads a `names` entry in any of the three formats; null when it is none of them. */
export function parseNames(text: string): { names: string[]; format: NamesFormat } | null {
  const t = text.trim();
  try {
    const j = JSON.parse(t);
    if (Array.isArray(j) && j.every((v) => typeof v === "string")) return { names: j, format: "json-list" };
    if (j && typeof j === "object" && !Array.isArray(j)) {
      const entries = Object.entries(j as Record<string, unknown>);
      if (entries.every(([k, v], i) => k === String(i) && typeof v === "string")) return { names: entries.map(([, v]) => v as string), format: "json-dict" };
    }
    return null;
  } catch { /* not JSON: maybe a Python dict literal */ }
  const py = parsePythonDict(t);
  return py ? { names: py, format: "python-dict" } : null;
}

const INDEX = /-?\d+/y;

// {0: 'a', 1: "b's"}: integer keys in order, Python string literals (with escapes) as values.
function parsePythonDict(t: string): string[] | null {
  let i = 0;
  const ws = () => { while (i < t.length && /\s/.test(t[i])) i++; };
  const eat = (c: string) => { ws(); if (t[i] !== c) return false; i++; return true; };
  if (!eat("{")) return null;
  const out: string[] = [];
  ws();
  if (eat("}")) return out;
  for (;;) {
    ws();
    INDEX.lastIndex = i; // sticky: matched in place, not on a copy of the rest (linear on any length)
    const m = INDEX.exec(t);
    if (!m || Number(m[0]) !== out.length) return null;
    i += m[0].length;
    if (!eat(":")) return null;
    ws();
    const s = readPyString();
    if (s === null) return null;
    out.push(s);
    if (eat("}")) break;
    if (!eat(",")) return null;
    ws();
    if (eat("}")) break;
  }
  ws();
  return i === t.length ? out : null;

  function readPyString(): string | null {
    const q = t[i];
    if (q !== "'" && q !== '"') return null;
    i++;
    let s = "";
    while (i < t.length && t[i] !== q) {
      if (t[i] !== "\\") { s += t[i++]; continue; }
      const e = t[i + 1];
      const simple: Record<string, string> = { n: "\n", r: "\r", t: "\t", "\\": "\\", "'": "'", '"': '"', "0": "\0" };
      if (e in simple) { s += simple[e]; i += 2; continue; }
      const len = e === "x" ? 2 : e === "u" ? 4 : e === "U" ? 8 : 0;
      const digits = t.slice(i + 2, i + 2 + len);
      if (!len || !/^[0-9a-fA-F]+$/.test(digits) || digits.length !== len) return null;
      const c = parseInt(digits, 16);
      if (c > 0x10ffff) return null;
      s += String.fromCodePoint(c);
      i += 2 + len;
    }
    if (t[i] !== q) return null;
    i++;
    return s;
  }
}
