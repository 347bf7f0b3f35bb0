// Class-name lists: text lines, JSON arrays, --classes; and embedFile's two outputs.
import { afterAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseClassesOption, readNamesFile } from "../passes/vocab/names-list.ts";
import { embedFile, namesFileFor } from "../passes/text-encoder/embed-file.ts";
import { readNpy } from "../passes/io/npy.ts";
import { CLIP_TINY } from "./helpers/clip-tiny.ts";

const root = mkdtempSync(join(tmpdir(), "embed-names-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const file = (name: string, text: string) => { const p = join(root, name); writeFileSync(p, text); return p; };

describe("names files", () => {
  it("one name a line: BOM, CRLF, blank lines and surrounding spaces ignored; duplicates kept and warned", () => {
    const r = readNamesFile(file("a.txt", "\uFEFFperson\r\n\r\n  traffic light  \n\tbus\nperson\n\n"));
    expect(r.names).toEqual(["person", "traffic light", "bus", "person"]);
    expect(r.warnings).toEqual(['class name "person" appears more than once (entries 1 and 4)']);
  });

  it("a JSON array of strings; a blank entry is dropped with a warning", () => {
    const r = readNamesFile(file("b.json", JSON.stringify(["person", " bus ", "", "hot dog"])));
    expect(r.names).toEqual(["person", "bus", "hot dog"]);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/entry 3 is blank/);
    expect(readNamesFile(file("b.txt", '["a", "b"]\n')).names).toEqual(["a", "b"]); // JSON without the .json name
  });

  it("a text file whose first name starts with '[' is still a text file", () => {
    expect(readNamesFile(file("c.txt", "[unused] slot\ncat\n")).names).toEqual(["[unused] slot", "cat"]);
  });

  it("refusals name the file", () => {
    expect(() => readNamesFile(join(root, "nope.txt"))).toThrow(/nope\.txt: names file not found/);
    expect(() => readNamesFile(file("d.txt", "\n  \n\n"))).toThrow(/d\.txt: no class names/);
    expect(() => readNamesFile(file("e.json", "[1, 2]"))).toThrow(/e\.json: entry 1 is number/);
    expect(() => readNamesFile(file("f.json", '{"names": ["a"]}'))).toThrow(/f\.json: a JSON names file must be an array/);
    expect(() => readNamesFile(file("g.json", '["a", '))).toThrow(/g\.json: not valid JSON/);
    expect(() => readNamesFile(file("h.json", '["a\\nb"]'))).toThrow(/line break/);
    expect(() => readNamesFile(file("i.json", "[]"))).toThrow(/no class names/);
  });

  it("--classes: comma-separated, spaces and empty entries ignored", () => {
    expect(parseClassesOption(" person, bus ,traffic light,").names).toEqual(["person", "bus", "traffic light"]);
    expect(parseClassesOption("a,b,a").warnings).toHaveLength(1);
    expect(() => parseClassesOption(" , ,")).toThrow(/--classes: no class names/);
    const many = parseClassesOption(Array.from({ length: 30 }, () => "cat").join(",")).warnings;
    expect(many).toHaveLength(11);
    expect(many[10]).toBe("19 more repeated class names");
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
    writeFileSync(namesFileFor(out), "  cat\n\ndog\n");
    const messy = readNamesFile(namesFileFor(out));
    rmSync(out);
    await expect(embedFile({ names: messy.names, namesSource: namesFileFor(out), output: out, encoder: CLIP_TINY })).rejects.toThrow(/would overwrite the names file/);
    expect(existsSync(out)).toBe(false);
    expect(readFileSync(namesFileFor(out), "utf8")).toBe("  cat\n\ndog\n");
  });
});
