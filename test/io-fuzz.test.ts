// Mutation fuzzing (deterministic): corrupted copies of real exports must either load and
// go through the pass, or fail with a one-line ReparamError; never another exception.
// Then generated hostile inputs (test/helpers/fuzz-gen.ts), a few thousand cases: size bombs,
// .npy headers, names files. Each case has its own seed; a failure names it, and
// FUZZ_SEED=<seed> runs only that case of each generator.
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModel } from "../passes/io/model-io.ts";
import { encodeModel } from "../passes/io/codec.ts";
import { reparamModel } from "../passes/pipeline/reparam-model.ts";
import { ReparamError } from "../passes/errors.ts";
import { fixturePath, loadManifest } from "./helpers/fixtures.ts";
import { seeded } from "./helpers/graph-builder.ts";
import { parseNpy } from "../passes/io/npy.ts";
import { SizeCapError } from "../passes/io/size-cap.ts";
import { parseClassesOption, parseNamesText, readNamesFile } from "../passes/vocab/names-list.ts";
import { hostileNames, hostileNpy, rng, sizeBombModel, type Rnd } from "./helpers/fuzz-gen.ts";

const SEEDS = ["head-bn-einsum-op12-static", "full-bn-matmul-op12-dynamic"];
const present = loadManifest().filter((f) => SEEDS.includes(f.name));

describe.skipIf(present.length === 0)("mutated models", () => {
  it.each(present.map((f) => [f.name, f.file] as const))("%s: 150 mutants", (_n, file) => {
    const original = readFileSync(fixturePath(file));
    const rnd = seeded(original.length);
    const outcome = { loaded: 0, rejected: 0 };
    for (let i = 0; i < 150; i++) {
      const b = Uint8Array.from(original);
      let bytes: Uint8Array = b;
      const at = () => Math.floor((rnd() + 0.5) * b.length) % b.length;
      if (i % 3 === 0) for (let j = 0; j < 1 + (i % 8); j++) b[at()] = Math.floor((rnd() + 0.5) * 256) & 255;
      else if (i % 3 === 1) bytes = b.subarray(0, at());
      else b[at()] ^= 1 << (i % 8);
      try {
        const model = loadModel(bytes);
        reparamModel(model);
        encodeModel(model.proto);
        outcome.loaded++;
      } catch (e) {
        if (!(e instanceof ReparamError)) throw new Error(`mutant ${i}: ${(e as Error)?.stack ?? e}`);
        expect(e.message).not.toContain("\n");
        outcome.rejected++;
      }
    }
    // Both paths must actually be taken, or the test proves nothing.
    expect(outcome.loaded).toBeGreaterThan(10);
    expect(outcome.rejected).toBeGreaterThan(10);
  });
});

const ONLY = process.env.FUZZ_SEED === undefined ? null : Number(process.env.FUZZ_SEED);
const tmp = mkdtempSync(join(tmpdir(), "io-fuzz-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Tally { ok: number; refused: number; slowestMs: number; slowestSeed: number; peakGrowthMiB: number }

/**
 * Runs `one` on seeds base..base+count-1 (or only FUZZ_SEED). A case passes when it returns or
 * throws a one-line ReparamError; anything else fails the test with the seed that reproduces it.
 */
function fuzz(label: string, base: number, count: number, one: (r: Rnd, seed: number) => void): Tally {
  const seeds = ONLY !== null ? [ONLY] : Array.from({ length: count }, (_, i) => base + i);
  const tally: Tally = { ok: 0, refused: 0, slowestMs: 0, slowestSeed: -1, peakGrowthMiB: 0 };
  const rss0 = process.resourceUsage().maxRSS;
  for (const seed of seeds) {
    const t0 = performance.now();
    try {
      one(rng(seed), seed);
      tally.ok++;
    } catch (e) {
      const again = `re-run it alone: FUZZ_SEED=${seed} npx vitest run test/io-fuzz.test.ts -t '${label}'`;
      if (!(e instanceof ReparamError)) throw new Error(`${label}: seed ${seed} threw ${(e as Error)?.name ?? typeof e}, not a ReparamError (${again}): ${(e as Error)?.stack ?? e}`);
      if (e.message.includes("\n")) throw new Error(`${label}: seed ${seed}: a message of several lines (${again}): ${JSON.stringify(e.message)}`);
      tally.refused++;
    }
    const ms = performance.now() - t0;
    if (ms > tally.slowestMs) Object.assign(tally, { slowestMs: ms, slowestSeed: seed });
  }
  tally.peakGrowthMiB = (process.resourceUsage().maxRSS - rss0) / 1024;
  console.log(`[io-fuzz] ${label}: ${seeds.length} cases, ${tally.ok} ok, ${tally.refused} refused; slowest ${tally.slowestMs.toFixed(0)} ms (seed ${tally.slowestSeed}); peak RSS grew ${tally.peakGrowthMiB.toFixed(0)} MiB`);
  // Bounded: a case is a small input, so anything near a second is a hang in the making
  // (the 1 MiB .npy header took 48 s). Generous for a loaded 2-core CI machine.
  expect(tally.slowestMs, `slowest case, seed ${tally.slowestSeed}`).toBeLessThan(5000);
  return tally;
}

// Issue 17 items 2 and 4 (another branch) make the shared parsers refuse negative or NaN dims
// and control characters in names. Until they land, the .npy fuzz is skipped (the old parser
// throws RangeError on some headers) and names are held to the base properties (a value or a
// one-line ReparamError, bounded, no line break in a name); once they land, to all of them.
const refuses = (f: () => unknown) => { try { f(); return false; } catch (e) { return e instanceof ReparamError; } };
const npyOf = (header: string) => { const h = new TextEncoder().encode(header); const b = new Uint8Array(10 + h.length); b.set([0x93, 78, 85, 77, 80, 89, 1, 0]); new DataView(b.buffer).setUint16(8, h.length, true); b.set(h, 10); return b; };
const STRICT_NPY = refuses(() => parseNpy(npyOf("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }\n")));
const STRICT_NAMES = refuses(() => parseNamesText("a\u0000b\n", "x.txt"));
if (!STRICT_NPY) console.warn("[io-fuzz] SKIP the .npy header fuzz: this parser still takes a negative dim (issue 17, item 2 not merged)");
if (!STRICT_NAMES) console.warn("[io-fuzz] names fuzz on base properties only: control characters still pass (issue 17, item 4 not merged)");

describe("generated hostile inputs", () => {
  it("size bombs: 500 graphs with hostile shape constants, dims, repeats, pads, ranges", () => {
    let capped = 0;
    const t = fuzz("size bombs", 10_000, 500, (r) => {
      const { model } = sizeBombModel(r);
      try {
        reparamModel(loadModel(encodeModel(model)));
      } catch (e) {
        if (e instanceof SizeCapError) capped++;
        throw e;
      }
    });
    // Legitimate folds stay under 16^3 x 512 elements (fuzz-gen.ts), so a peak far above that
    // means something over the cap was allocated before being refused.
    expect(t.peakGrowthMiB).toBeLessThan(400);
    if (ONLY === null) { expect(capped).toBeGreaterThan(80); expect(t.ok).toBeGreaterThan(20); }
  });

  // The parser on main before item 2 throws RangeError on some of these (that is item 2's bug).
  it.skipIf(!STRICT_NPY)("hostile .npy headers: 1500 files through parseNpy", () => {
    const t = fuzz(".npy headers", 20_000, 1500, (r) => {
      const v = parseNpy(hostileNpy(r), "fuzz.npy");
      // What parses is a real tensor: non-negative integer dims, as many values as they say.
      expect(v.dims.every((d) => Number.isSafeInteger(d) && d >= 0), `dims [${v.dims}]`).toBe(true);
      expect(v.data.length).toBe(v.dims.reduce((a, b) => a * b, 1));
    });
    if (ONLY === null) { expect(t.ok).toBeGreaterThan(20); expect(t.refused).toBeGreaterThan(500); }
  });

  it("hostile names files: 1500 texts through parseNamesText, readNamesFile and parseClassesOption", () => {
    const check = (names: string[]) => {
      for (const n of names) {
        expect(typeof n).toBe("string");
        expect(n.trim(), JSON.stringify(n)).not.toBe("");
        expect(n, JSON.stringify(n)).not.toMatch(/[\r\n]/);
        // Verbatim or refused (issue 17, item 4): no control character, line separator or lone surrogate gets through.
        if (STRICT_NAMES) expect(n, JSON.stringify(n)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\ud800-\udfff]/u);
      }
    };
    const t = fuzz("names files", 30_000, 1500, (r, seed) => {
      const { text, json } = hostileNames(r);
      const path = json ? "names.json" : "names.txt";
      let parsed: string[] | null = null;
      try { parsed = parseNamesText(text, path).names; check(parsed); } catch (e) { if (!(e instanceof ReparamError)) throw e; }
      // The file reader must agree with the text parser (the page parses text, the CLI files).
      if (seed % 10 === 0) {
        const file = join(tmp, `${seed}.${json ? "json" : "txt"}`);
        writeFileSync(file, text);
        let fromFile: string[] | null = null, fromText: string[] | null = null;
        try { fromFile = readNamesFile(file).names; } catch (e) { if (!(e instanceof ReparamError)) throw e; }
        // As UTF-8 on disk (a lone surrogate becomes U+FFFD on the way).
        try { fromText = parseNamesText(readFileSync(file, "utf8"), path).names; } catch (e) { if (!(e instanceof ReparamError)) throw e; }
        expect(fromFile).toEqual(fromText);
      }
      check(parseClassesOption(text.replace(/[\r\n]+/g, ",")).names);
    });
    if (ONLY === null) { expect(t.ok).toBeGreaterThan(100); expect(t.refused).toBeGreaterThan(20); }
  });
});
