// The .npy header: a Python dict literal that numpy writes with repr() and reads with
// ast.literal_eval. Read here by one left-to-right pass over the text (no regular expression
// that can backtrack), so any header, however hostile, costs time linear in its length.
// Only what numpy writes is accepted: str keys; str, bool and tuple-of-int values.

export type HeaderValue = string | boolean | HeaderInt[];
/** An integer literal as written ("3", "-1", "1.5", "nan"): checked by the caller, who can quote it. */
export interface HeaderInt { text: string }

export class HeaderSyntaxError extends Error {}

const isSpace = (c: string) => c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v";
// Letters, digits, _ . + - : enough to take in 3, -1, 1.5, 1e3, nan, True whole, so a bad dim can be quoted.
const isWordChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46 || c === 43 || c === 45;

export function parseHeaderDict(text: string): Map<string, HeaderValue> {
  let i = 0;
  const fail = (why: string): never => { throw new HeaderSyntaxError(`${why} at character ${i + 1} of the header`); };
  const ws = () => { while (i < text.length && isSpace(text[i])) i++; };
  const expect = (c: string, what: string) => { ws(); if (text[i] !== c) fail(text[i] === undefined ? `header ends where ${what} was expected` : `${JSON.stringify(text[i])} where ${what} was expected`); i++; };

  function str(): string {
    if (text[i] === "u" || text[i] === "b") i++; // Python 2 numpy wrote u'...'
    const q = text[i];
    if (q !== "'" && q !== '"') fail("a string was expected");
    i++;
    let out = "";
    let from = i;
    for (;;) {
      if (i >= text.length) fail("unterminated string");
      const c = text[i];
      if (c === q) break;
      if (c === "\n") fail("line break inside a string");
      if (c === "\\") {
        out += text.slice(from, i);
        const e = text[i + 1];
        if (e === undefined) fail("unterminated string");
        out += e === "n" ? "\n" : e === "t" ? "\t" : e === "r" ? "\r" : e; // \\ \' \" stand for themselves
        i += 2;
        from = i;
        continue;
      }
      i++;
    }
    out += text.slice(from, i);
    i++;
    return out;
  }

  function word(): string {
    const from = i;
    while (i < text.length && isWordChar(text.charCodeAt(i))) i++;
    if (i === from) fail(`${JSON.stringify(text[i])} where a value was expected`);
    return text.slice(from, i);
  }

  function tuple(): HeaderInt[] {
    i++; // "("
    const items: HeaderInt[] = [];
    let comma = false;
    for (;;) {
      ws();
      if (text[i] === ")") { i++; break; }
      if (text[i] === undefined) fail("header ends inside the shape tuple");
      if (items.length > 0 && !comma) fail(`${JSON.stringify(text[i])} inside the shape tuple`);
      if (!isWordChar(text.charCodeAt(i))) fail("the shape may only hold integers");
      items.push({ text: word() });
      ws();
      comma = text[i] === ",";
      if (comma) i++;
    }
    // (3) is the integer 3 in Python, not a tuple: numpy always writes (3,).
    if (items.length === 1 && !comma) fail("the shape (n) is not a tuple; numpy writes (n,)");
    return items;
  }

  function value(): HeaderValue {
    ws();
    const c = text[i];
    if (c === "'" || c === '"' || ((c === "u" || c === "b") && (text[i + 1] === "'" || text[i + 1] === '"'))) return str();
    if (c === "(") return tuple();
    if (c === "[" || c === "{") fail("a list or dict value (a structured dtype?) is not supported");
    const w = word();
    if (w === "True") return true;
    if (w === "False") return false;
    return fail(`${JSON.stringify(w.length > 20 ? w.slice(0, 20) + "..." : w)} is not a value numpy writes here`);
  }

  const out = new Map<string, HeaderValue>();
  expect("{", "the dict's opening {");
  for (;;) {
    ws();
    if (text[i] === "}") { i++; break; }
    if (text[i] === undefined) fail("header ends inside the dict");
    const key = str();
    if (out.has(key)) fail(`key ${JSON.stringify(key.length > 24 ? `${key.slice(0, 24)}...` : key)} given twice`);
    expect(":", "':'");
    out.set(key, value());
    ws();
    if (text[i] === "}") { i++; break; }
    expect(",", "',' or '}'");
  }
  ws();
  if (i < text.length) fail("text after the dict");
  return out;
}
