// Mutation fuzzing (deterministic): corrupted copies of real exports must either load and
// go through the pass, or fail with a one-line ReparamError; never another exception.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { loadModel } from "../passes/io/model-io.ts";
import { encodeModel } from "../passes/io/codec.ts";
import { reparamModel } from "../passes/pipeline/reparam-model.ts";
import { ReparamError } from "../passes/errors.ts";
import { fixturePath, loadManifest } from "./helpers/fixtures.ts";
import { seeded } from "./helpers/graph-builder.ts";

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
