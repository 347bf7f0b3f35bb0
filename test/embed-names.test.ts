// Class-name lists: text lines, JSON arrays, --classes; and embedFile's two outputs.
import { afterAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { namesFileText, parseClassesOption, parseNamesText, readNamesFile } from "../passes/vocab/names-list.ts";
import { embedFile, namesFileFor } from "../passes/text-encoder/embed-file.ts";
import { formatNames, parseNames } from "../passes/vocab/names-metadata.ts";
import { readNpy } from "../passes/io/npy.ts";
import { CLIP_TINY } from "./helpers/clip-tiny.ts";

const root = mkdtempSync(join(tmpdir(), "embed-names-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const file = (name: string, text: string) => { const p = join(root, name); writeFileSync(p, text); return p; };

describe("names files", () => {
  it("one name a line, verbatim: only the BOM and CRLF's \\r go; duplicates kept and warned", () => {
    const r = readNamesFile(file("a.txt", "\uFEFFperson\r\n  traffic light  \n\u00a0bus\nperson\n"));
    expect(r.names).toEqual(["person", "  traffic light  ", "\u00a0bus", "person"]);
    expect(r.warnings).toEqual(['class name "person" appears more than once (names 1 and 4)']);
  });

  it("a JSON array of strings, verbatim; a blank entry is refused naming its row", () => {
    expect(readNamesFile(file("b0.json", JSON.stringify(["person", " bus ", "\uFEFFhot dog"]))).names).toEqual(["person", " bus ", "\uFEFFhot dog"]);
    expect(() => readNamesFile(file("b.json", JSON.stringify(["person", " bus ", "", "hot dog"])))).toThrow(/name 3 of .*b\.json is empty$/);
    expect(readNamesFile(file("b.names", '["a", "b"]\n')).names).toEqual(["a", "b"]); // JSON without the .json name
    const txt = readNamesFile(file("b.txt", '["a", "b"]\n')); // but a .txt is always lines
    expect(txt.names).toEqual(['["a", "b"]']);
    expect(txt.warnings[0]).toMatch(/b\.txt holds a JSON array; read as one name a line/);
  });

  it("a text file whose first name starts with '[' is still a text file", () => {
    expect(readNamesFile(file("c.txt", "[unused] slot\ncat\n")).names).toEqual(["[unused] slot", "cat"]);
    expect(readNamesFile(file("c.names", "[unused] slot\ncat\n")).names).toEqual(["[unused] slot", "cat"]);
  });

  it("refusals name the file and the row, 1-based", () => {
    expect(() => readNamesFile(join(root, "nope.txt"))).toThrow(/nope\.txt: names file not found/);
    expect(() => readNamesFile(file("d0.txt", ""))).toThrow(/d0\.txt: no class names/);
    expect(() => readNamesFile(file("d.txt", "cat\n  \n\n"))).toThrow(/name 2 of .*d\.txt is blank/);
    expect(() => readNamesFile(file("d2.txt", "cat\n\ndog\n"))).toThrow(/name 2 of .*d2\.txt is empty \(a blank line\)/);
    expect(() => readNamesFile(file("e.json", "[1, 2]"))).toThrow(/name 1 of .*e\.json is number/);
    expect(() => readNamesFile(file("f.json", '{"names": ["a"]}'))).toThrow(/f\.json: a JSON names file must be an array/);
    expect(() => readNamesFile(file("g.json", '["a", '))).toThrow(/g\.json: not valid JSON/);
    expect(() => readNamesFile(file("h.json", '["ok", "a\\nb"]'))).toThrow(/name 2 of .*h\.json holds a control character \(U\+000A, a line break\)/);
    expect(() => readNamesFile(file("i.json", "[]"))).toThrow(/no class names/);
  });

  it("--classes: comma-separated, spaces around names ignored, an empty entry refused", () => {
    expect(parseClassesOption(" person, bus ,traffic light").names).toEqual(["person", "bus", "traffic light"]);
    expect(parseClassesOption("a,b,a").warnings).toHaveLength(1);
    expect(() => parseClassesOption("person,bus,")).toThrow(/^name 3 of --classes is empty$/);
    expect(() => parseClassesOption(" , ,")).toThrow(/name 1 of --classes is empty/);
    const many = parseClassesOption(Array.from({ length: 30 }, () => "cat").join(",")).warnings;
    expect(many).toHaveLength(11);
    expect(many[10]).toBe("19 more repeated class names");
  });
});

describe("names verbatim: what embed writes reads back the same", () => {
  const tricky = [
    "  leading and trailing  ", "\u00a0nbsp\u00a0", "'single' \"double\"", "back\\slash\\", "comma, inside", "# hash",
    "寿司", "🍕 pizza", "{0: 'x'}", "\\n not a newline", "\u200bzero\u200dwidth", "\u202eright-to-left", "\ufeffinner BOM", "\ud83d\ude00",
  ];
  const lists: Record<string, string[]> = {
    tricky,
    "a first name starting with a BOM": ["\ufeffperson", "bus"],
    "a first name starting with '['": ["[a]", "b"],
    "one name that is a JSON array": ['["a", "b"]'],
    "a name that is JSON": ["{\"k\": 1}", "null"],
  };
  for (const [what, names] of Object.entries(lists)) {
    it(what, () => {
      const text = namesFileText(names);
      expect(text.split("\n")).toHaveLength(names.length + 1); // one line a name, and the last line break
      expect(parseNamesText(text, "out.names.txt").names).toEqual(names);
      const disk = readNamesFile(file(`rt-${what.length}.names.txt`, text));
      expect(disk.names).toEqual(names);
      expect(readNamesFile(file(`rt-${what.length}.json`, JSON.stringify(names))).names).toEqual(names);
    });
  }

  const refused: Array<[string, string, RegExp]> = [
    ["NUL", "a\u0000b", /U\+0000/], ["tab", "a\tb", /U\+0009, a tab/], ["line feed", "a\nb", /U\+000A, a line break/],
    ["carriage return", "a\rb", /U\+000D/], ["escape", "\u001b[31mred", /U\+001B/], ["DEL", "a\u007f", /U\+007F/],
    ["C1 NEL", "a\u0085b", /U\+0085/], ["C1 CSI", "\u009b31m", /U\+009B/], ["line separator", "a\u2028b", /U\+2028/],
    ["paragraph separator", "a\u2029b", /U\+2029/], ["lone surrogate", "a\ud800", /lone surrogate \(U\+D800\)/],
    ["empty", "", /is empty$/], ["blank", " \u00a0 ", /is blank/],
  ];
  for (const [what, bad, why] of refused) {
    it(`refused, naming its row: ${what}`, () => {
      expect(() => readNamesFile(file(`bad-${what.replace(/\W/g, "")}.json`, JSON.stringify(["ok", bad])))).toThrow(new RegExp(`^name 2 of .*bad-\\w+\\.json (holds a .*)?${why.source}`));
      expect(() => parseClassesOption(`ok,ok2,${bad}`)).toThrow(what === "blank" || what === "empty" ? /^name 3 of --classes is empty$/ : new RegExp(`^name 3 of --classes holds a .*${why.source}`));
    });
  }
  it("a text file: a lone \\r inside a line is a control character, CRLF is a line end", () => {
    expect(() => readNamesFile(file("cr.txt", "a\r\nb\rc\r\n"))).toThrow(/name 2 of .*cr\.txt holds a control character \(U\+000D\)/);
  });
});

describe("a model's names metadata (Python dict literal)", () => {
  it("bad escapes make it unreadable (null), never an exception", () => {
    for (const t of ["{0: '\\xZZ'}", "{0: '\\U0011ffff'}", "{0: '\\u12'}", "{0: '\\q'}", "{0: 'a'"]) expect(parseNames(t), t).toBeNull();
    expect(parseNames("{0: 'a\\x41', 1: '\\u00e9'}")).toEqual({ names: ["aA", "é"], format: "python-dict" });
  });
  it("reads back what it writes, for every name a names file accepts", () => {
    const names = ["  a  ", "\u00a0b", "'q' \"d\"", "c\\d", "寿司", "🍕", "{0: 'x'}", "\ufeffbom", "\u200bzw"];
    expect(parseNames(formatNames(names, "python-dict"))?.names).toEqual(names);
    const big = Array.from({ length: 20000 }, (_, i) => `class ${i}`);
    expect(parseNames(formatNames(big, "python-dict"))?.names).toEqual(big);
  });
});

describe("embedFile", () => {
  it("writes OUT.npy (float32, (N, D)) and OUT.names.txt, and nothing else", async () => {
    const dir = mkdtempSync(join(root, "out-"));
    const out = join(dir, "classes.npy");
    const r = await embedFile({ names: ["person", "bus"], output: out, encoder: CLIP_TINY });
    expect(r.namesFile).toBe(join(dir, "classes.names.txt"));
    expect(readdirSync(dir).sort()).toEqual(["classes.names.txt", "classes.npy"]);
    expect(readFileSync(r.namesFile, "utf8")).toBe("person\nbus\n");
    const npy = readNpy(out);
    expect(npy.dims).toEqual([2, 512]);
    expect(readFileSync(out).subarray(0, 80).toString("latin1")).toMatch(/'descr': '<f4', 'fortran_order': False, 'shape': \(2, 512\)/);
    expect(namesFileFor("x/emb")).toBe("x/emb.names.txt");
  });

  it("may re-read the names file it wrote; refuses to overwrite a different names file", async () => {
    const dir = mkdtempSync(join(root, "again-"));
    const out = join(dir, "c.npy");
    await embedFile({ names: ["cat", "dog"], output: out, encoder: CLIP_TINY });
    const again = readNamesFile(namesFileFor(out));
    await embedFile({ names: again.names, namesSource: namesFileFor(out), output: out, encoder: CLIP_TINY });
    writeFileSync(namesFileFor(out), "  cat\r\ndog\r\n");
    const crlf = readNamesFile(namesFileFor(out));
    expect(crlf.names).toEqual(["  cat", "dog"]);
    rmSync(out);
    await expect(embedFile({ names: crlf.names, namesSource: namesFileFor(out), output: out, encoder: CLIP_TINY })).rejects.toThrow(/would rewrite the names file .* it reads/);
    expect(existsSync(out)).toBe(false);
    expect(readFileSync(namesFileFor(out), "utf8")).toBe("  cat\r\ndog\r\n");
  });
});
