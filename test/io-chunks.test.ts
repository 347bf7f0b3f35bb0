// Chunked encoding (saveModel writes large initializers straight from the input's bytes):
// the chunks must concatenate to exactly encodeModel's bytes, on every fixture and corpus
// model, with every tensor split around its raw_data.
import { describe, expect, it } from "vitest";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { decodeModelBytes, encodeModel, encodeModelChunks } from "../passes/io/codec.ts";
import { FIXTURES, REPO } from "./helpers/fixtures.ts";

const SHARED = join(REPO, "..", "shared");
function onnxFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? onnxFiles(join(dir, e.name)) : e.name.endsWith(".onnx") ? [join(dir, e.name)] : []));
}

describe("encodeModelChunks", () => {
  const files = [...onnxFiles(FIXTURES), ...onnxFiles(join(SHARED, "onnx-corpus")), ...onnxFiles(join(SHARED, "onnx-fidelity"))];
  if (!existsSync(SHARED)) console.warn("[io-chunks] ../shared absent: fixtures only");

  it(`concatenates to encodeModel's bytes (${files.length} models, every raw_data split out)`, () => {
    let split = 0;
    for (const f of files) {
      let m;
      try { m = decodeModelBytes(readFileSync(f), f); } catch { continue; } // corrupt-on-purpose corpus entries
      const chunks = encodeModelChunks(m, 1);
      if (chunks.length > 1) split++;
      expect(Buffer.compare(Buffer.concat(chunks), Buffer.from(encodeModel(m))), f).toBe(0);
    }
    expect(split).toBeGreaterThan(10);
  });

  it("hands out a large raw_data as the decoded view itself, not a copy", () => {
    const m = decodeModelBytes(readFileSync(join(FIXTURES, "full-bn-einsum-k1203-op17-static.onnx")));
    const big = m.graph!.initializer!.reduce((a, t) => ((t.raw_data?.length ?? 0) > (a.raw_data?.length ?? 0) ? t : a));
    const chunks = encodeModelChunks(m, big.raw_data!.length);
    expect(chunks.some((c) => c === big.raw_data)).toBe(true);
    expect(Buffer.compare(Buffer.concat(chunks), Buffer.from(encodeModel(m)))).toBe(0);
  });
});
