// .npy files as a hostile user would make them (issue 17): every defect is one clear message
// naming the file, the same from the CLI's reader (readNpy), the page's job on bytes
// (reparamBytes) and the CLI itself; the header is capped and read in linear time; the size
// is checked against the data and a cap before anything is allocated.
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeNpy, nodeRuntime, parseNpy, readNpy, reparamBytes, ReparamError } from "../passes/index.ts";
import { NPY_MAX_ELEMENTS, NPY_MAX_HEADER } from "../passes/io/npy-parse.ts";
import { HeaderSyntaxError, parseHeaderDict } from "../passes/io/npy-header.ts";
import { fixturePath } from "./helpers/fixtures.ts";
import { ownStderrLines, runCli } from "./helpers/cli.ts";

const root = mkdtempSync(join(tmpdir(), "npy-hostile-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Magic, version, header length and header as given (no padding), then the body. */
function npy(header: string, body: Uint8Array | number = 0, version = 1): Uint8Array {
  const h = new TextEncoder().encode(header);
  const pre = version === 1 ? 10 : 12;
  const data = typeof body === "number" ? new Uint8Array(body) : body;
  const out = new Uint8Array(pre + h.length + data.length);
  out.set([0x93, ..."NUMPY".split("").map((c) => c.charCodeAt(0)), version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, h.length, true); else view.setUint32(8, h.length, true);
  out.set(h, pre);
  out.set(data, pre + h.length);
  return out;
}
const dict = (shape: string, descr = "<f4", fortran = "False") => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }\n`;

const DEFECTS: Array<[string, Uint8Array, RegExp]> = [
  ["no magic", new TextEncoder().encode("just some text, not numpy at all"), /missing NUMPY magic/],
  ["empty file", new Uint8Array(0), /missing NUMPY magic/],
  ["unknown version", npy(dict("(3,)"), 12, 4), /format version 4\.0; 1\.0, 2\.0 and 3\.0 are read/],
  ["header past the end", npy(dict("(3,)"), 12).subarray(0, 30), /the header runs past the end of the file \(\d+ bytes announced, 20 there\)/],
  ["header over the cap", npy(`{}${" ".repeat(NPY_MAX_HEADER)}`, 0, 2), new RegExp(`the header says it is ${NPY_MAX_HEADER + 2} bytes; numpy's are a few hundred \\(at most ${NPY_MAX_HEADER} accepted\\)`)],
  ["not a dict", npy("['descr', '<f4']\n", 12), /unreadable header: "\[" where the dict's opening \{ was expected at character 1/],
  ["unclosed shape", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4", 48), /unreadable header: header ends inside the shape tuple/],
  ["shape (n) without comma", npy(dict("(3)"), 12), /the shape \(n\) is not a tuple; numpy writes \(n,\)/],
  ["missing key", npy("{'descr': '<f4', 'shape': (3,), }\n", 12), /the header has no 'fortran_order'/],
  ["extra key", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'evil': True}\n", 12), /a key numpy does not write: "evil"/],
  ["duplicate key", npy("{'shape': (3,), 'descr': '<f4', 'fortran_order': False, 'shape': (4,)}\n", 12), /key "shape" given twice/],
  ["negative dim", npy(dict("(-1, 3)"), 12), /dim 1 of the shape is negative \(-1\)/],
  ["NaN dim", npy(dict("(2, nan)"), 8), /dim 2 of the shape is nan, not a whole number/],
  ["fractional dim", npy(dict("(2.5, 2)"), 20), /dim 1 of the shape is "2\.5", not a whole number/],
  ["exponent dim", npy(dict("(1e3,)"), 4000), /dim 1 of the shape is "1e3", not a whole number/],
  ["huge dim", npy(dict("(123456789012345678901234567890,)"), 4), /dim 1 of the shape is "123456789012345678901234\.\.\.", far beyond/],
  ["element cap", npy(dict("(65536, 65536)"), 4), new RegExp(`shape \\(65536, 65536\\) holds more than ${NPY_MAX_ELEMENTS} elements`)],
  ["too little data", npy(dict("(2, 3)"), 20), /shape \(2, 3\) of float32 needs 24 bytes of data, the file has 20$/],
  ["too much data", npy(dict("(2, 3)"), 28), /shape \(2, 3\) of float32 needs 24 bytes of data, the file has 28 \(a second array appended\?\)/],
  ["big-endian", npy(dict("(3,)", ">f4"), 12), /dtype '>f4' is not supported \(little-endian float32, float16 or float64/],
  ["structured dtype", npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,)}\n", 12), /a list or dict value \(a structured dtype\?\) is not supported/],
  ["fortran order", npy(dict("(2, 3)", "<f4", "True"), 24), /Fortran order; save it C-ordered/],
  ["fortran_order not a bool", npy(dict("(3,)", "<f4", "'yes'"), 12), /'fortran_order' is not True or False/],
  ["shape not a tuple", npy("{'descr': '<f4', 'fortran_order': False, 'shape': 'big'}\n", 12), /'shape' is not a tuple/],
  ["unterminated string", npy("{'descr': '<f4", 12), /unterminated string/],
];

describe(".npy defects: one message naming the file, from every reader", () => {
  const model = readFileSync(fixturePath("ultralytics-world-op20-static-meta.onnx"));
  for (const [what, bytes, message] of DEFECTS) {
    it(what, async () => {
      const path = join(root, `${what.replace(/\W+/g, "-")}.npy`);
      writeFileSync(path, bytes);
      const expectRefusal = (f: () => unknown) => {
        let err: unknown;
        try { f(); } catch (e) { err = e; }
        expect(err, what).toBeInstanceOf(ReparamError);
        const m = (err as Error).message;
        expect(m).toMatch(message);
        expect(m.startsWith(`${path}: not a usable .npy file: `), m).toBe(true);
        expect(m).not.toContain("\n");
      };
      expectRefusal(() => parseNpy(bytes, path));
      expectRefusal(() => readNpy(path));
      // The page runs reparamBytes on the bytes a user dropped.
      await expect(reparamBytes({ model, modelName: "m.onnx", textEmbed: bytes, textEmbedName: path, validate: false }, nodeRuntime)).rejects.toThrow(message);
    });
  }

  it("the CLI: exit 2, one line, no output written", async () => {
    const bad = join(root, "cli-bad.npy"), out = join(root, "cli-out.onnx");
    writeFileSync(bad, npy(dict("(80, nan)"), 4));
    const r = await runCli(["reparam", fixturePath("ultralytics-world-op20-static-meta.onnx"), "-o", out, "--text-embed", bad]);
    expect(r.code, r.stderr).toBe(2);
    expect(ownStderrLines(r.stderr)).toEqual([`onnx-reparam: ${bad}: not a usable .npy file: dim 2 of the shape is nan, not a whole number`]);
    expect(() => readFileSync(out)).toThrow();
  });
});

describe("sizes before reading", () => {
  it("a 1.5 GiB file whose header asks for 400 bytes is refused from its header, its data never read", () => {
    const path = join(root, "sparse.npy");
    writeFileSync(path, npy(dict("(100,)"), 400));
    truncateSync(path, 1.5 * 2 ** 30); // sparse: no disk, and reading it would take 1.5 GiB of memory
    const before = process.memoryUsage().rss;
    expect(() => readNpy(path)).toThrow(/sparse\.npy: not a usable \.npy file: shape \(100,\) of float32 needs 400 bytes of data, the file has \d+ \(a second array appended\?\)/);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 2 ** 20);
  });
});

describe(".npy files numpy writes still read", () => {
  it("every accepted dtype, versions 1 to 3, 0-d, empty and Python 2 shapes, Fortran order of a vector", () => {
    for (const d of ["<f4", "<f2", "<f8", "<i8", "<i4"] as const) {
      expect(Array.from(parseNpy(encodeNpy([2, 2], [1, -2, 3, 0.5].map((v) => (d.includes("i") ? Math.trunc(v) : v)), d)).data)).toEqual([1, -2, 3, d.includes("i") ? 0 : 0.5]);
    }
    const f4 = (vals: number[]) => new Uint8Array(Float32Array.from(vals).buffer);
    expect(parseNpy(npy(dict("(3,)"), f4([1, 2, 3]), 2)).dims).toEqual([3]);
    expect(parseNpy(npy(dict("(3,)"), f4([1, 2, 3]), 3)).dims).toEqual([3]);
    expect(parseNpy(npy(dict("()"), f4([7]))).data[0]).toBe(7);
    expect(parseNpy(npy(dict("(0, 512)"))).dims).toEqual([0, 512]);
    expect(parseNpy(npy(dict("(3L, 1L)"), f4([1, 2, 3]))).dims).toEqual([3, 1]);
    expect(parseNpy(npy(dict("(1, 3)", "<f4", "True"), f4([1, 2, 3]))).dims).toEqual([1, 3]); // one layout either way
    expect(parseNpy(npy('{"descr": "<f4", "fortran_order": False, "shape": (2,)}', f4([1, 2]))).dims).toEqual([2]);
  });
});

describe("the header is read in linear time", () => {
  const MiB = 1 << 20;
  // A 1 MiB header of repeated `'shape': (` took 48 s with the old regular expressions.
  const hostile = "{" + "'shape': (".repeat(Math.ceil(MiB / 10));

  it("a 1 MiB hostile header is refused at once (the issue: < 100 ms; asserted < 1 s)", () => {
    const bytes = npy(hostile, 0, 2);
    const t0 = performance.now();
    expect(() => parseNpy(bytes, "hostile.npy")).toThrow(/hostile\.npy: not a usable \.npy file: the header says it is \d+ bytes/);
    const ms = performance.now() - t0;
    console.log(`[npy] 1 MiB hostile header refused in ${ms.toFixed(2)} ms`);
    expect(ms).toBeLessThan(1000);
  });

  it("the tokenizer alone on that 1 MiB header, and on headers of the cap's size in every hostile shape", () => {
    const K = NPY_MAX_HEADER;
    const patterns: Record<string, string> = {
      "1 MiB of repeated 'shape': (": hostile,
      "an unclosed shape of 20k dims": "{'descr': '<f4', 'fortran_order': False, 'shape': (" + "1, ".repeat(K / 3),
      "an unterminated string of escapes": "{'descr': '" + "\\'a".repeat(K / 3),
      "nested parentheses": "{'shape': " + "(".repeat(K),
      "4k keys, one repeated at the end": "{" + Array.from({ length: K / 16 }, (_, i) => `'k${i}': True`).join(", ") + ", 'k0': True}",
    };
    for (const [what, text] of Object.entries(patterns)) {
      const t0 = performance.now();
      expect(() => parseHeaderDict(text), what).toThrow(HeaderSyntaxError);
      const ms = performance.now() - t0;
      console.log(`[npy] tokenizer on ${what} (${text.length} characters): ${ms.toFixed(1)} ms`);
      expect(ms, what).toBeLessThan(1000);
    }
  });
});
