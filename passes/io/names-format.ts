// The names file format, shared by the vocabulary (reading) and embed (writing OUT.names.txt).
// What a class name may be: any text kept verbatim (spaces, NBSP, quotes, emoji), except
// what cannot survive a names file of one name a line or would be invisible in a message:
// empty or blank names, and control characters. Control characters are C0 (U+0000-U+001F,
// tab included), DEL (U+007F), C1 (U+0080-U+009F) and the line and paragraph separators
// U+2028/U+2029, which some readers treat as line breaks. A lone UTF-16 surrogate (possible in
// a JSON string) cannot be written as UTF-8 at all, so it is refused too.

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ud800-\udfff]/u; // with the u flag, a surrogate range matches only lone ones

const hex = (c: number) => `U+${c.toString(16).toUpperCase().padStart(4, "0")}`;

/** Why `name` cannot be a class name ("is empty", "holds a control character (U+000A)"), or null. */
export function nameDefect(name: string): string | null {
  if (name === "") return "is empty";
  const m = CONTROL.exec(name);
  if (m) {
    const c = m[0].charCodeAt(0);
    return c >= 0xd800 && c <= 0xdfff ? `holds a lone surrogate (${hex(c)})` : `holds a control character (${hex(c)}${c === 10 ? ", a line break" : c === 9 ? ", a tab" : ""})`;
  }
  if (/^\s+$/u.test(name)) return "is blank (only white space)";
  return null;
}

/** The text of a names file that reads back as exactly `names`: one name a line, each line ended by \n. */
export function namesFileText(names: readonly string[]): string {
  // Readers strip one leading BOM: a first name starting with one gets a BOM of the file's own.
  return (names[0]?.charCodeAt(0) === 0xfeff ? "\ufeff" : "") + names.join("\n") + "\n";
}
