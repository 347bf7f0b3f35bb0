// embedClasses against the committed tiny CLIP text encoder: token ids equal the Python
// tokenizer's (both merges formats), rows equal PyTorch's normalized text_embeds, and
// padding, batching and concurrency do not change a row.
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { embedClasses, type EmbedResult } from "../passes/text-encoder/embed.ts";
import { findEncoderFiles } from "../passes/text-encoder/encoder-folder.ts";
import { loadTokenizer } from "../passes/text-encoder/tokenize.ts";
import { openTextModel } from "../passes/text-encoder/text-model.ts";
import { ReparamError } from "../passes/errors.ts";
import { CLIP_MODEL, CLIP_TINY, encoderCopy, legacyMergesTokenizer, refEmbeds, refIds, refNames, withoutMask } from "./helpers/clip-tiny.ts";

const root = mkdtempSync(join(tmpdir(), "text-encoder-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const names = refNames();
const D = 512;
const row = (r: EmbedResult, i: number) => r.data.subarray(i * r.dims[1], (i + 1) * r.dims[1]);

function rowDiff(a: ArrayLike<number>, b: ArrayLike<number>): { cos: number; maxAbs: number } {
  let dot = 0, na = 0, nb = 0, maxAbs = 0;
  for (let j = 0; j < a.length; j++) {
    dot += a[j] * b[j]; na += a[j] * a[j]; nb += b[j] * b[j];
    maxAbs = Math.max(maxAbs, Math.abs(a[j] - b[j]));
  }
  return { cos: dot / Math.sqrt(na * nb), maxAbs };
}

describe("tokenization", () => {
  const ids = refIds();

  it("the reference list exercises what it should", () => {
    expect(names.length).toBe(ids.length);
    expect(ids.some((x) => x.length === 77)).toBe(true); // the long name, truncated by Python
    expect(names.some((n) => /[\u4e00-\u9fff]/.test(n))).toBe(true);
    expect(names.some((n) => /\p{Extended_Pictographic}/u.test(n))).toBe(true);
  });

  it("token ids equal the Python tokenizer's for every name (tokenizer.json as committed: merges as pairs)", () => {
    const tok = loadTokenizer(findEncoderFiles(CLIP_TINY));
    expect(tok.maxLength).toBe(77);
    expect(tok.padId).toBe(49407);
    names.forEach((n, i) => expect(tok.encode(n).ids, n).toEqual(ids[i]));
  });

  it("the old merges format (\"a b\" strings) loads and gives the same ids", () => {
    const { json, committedForm } = legacyMergesTokenizer();
    expect(committedForm).toBe("pairs"); // so the two runs really cover both formats
    const dir = encoderCopy(join(root, "legacy"), { tokenizer: json, model: null });
    const tok = loadTokenizer(findEncoderFiles(dir, CLIP_MODEL));
    expect(typeof (json.model as { merges: unknown[] }).merges[0]).toBe("string");
    names.forEach((n, i) => expect(tok.encode(n).ids, n).toEqual(ids[i]));
  });

  it("a name past 77 tokens is cut to 76 ids plus <|endoftext|>, and says how long it was", () => {
    const tok = loadTokenizer(findEncoderFiles(CLIP_TINY));
    const long = Array.from({ length: 100 }, () => "dog").join(" ");
    const t = tok.encode(long);
    expect(t.ids).toHaveLength(77);
    expect(t.truncatedFrom).toBe(102);
    expect(t.ids[0]).toBe(49406);
    expect(t.ids[76]).toBe(49407);
    expect(tok.encode("dog").truncatedFrom).toBeUndefined();
  });

  it("without tokenizer_config.json and special_tokens_map.json it still pads with <|endoftext|> and cuts at 77", () => {
    const dir = encoderCopy(join(root, "bare"), { skip: ["tokenizer_config.json", "special_tokens_map.json"], model: null });
    const files = findEncoderFiles(dir, CLIP_MODEL);
    expect(files.tokenizerConfig).toBeUndefined();
    const tok = loadTokenizer(files);
    expect(tok.padId).toBe(49407);
    expect(tok.maxLength).toBe(77);
    names.forEach((n, i) => expect(tok.encode(n).ids, n).toEqual(ids[i]));
  });
});

describe("embedClasses", () => {
  const ref = refEmbeds();
  // A class name may not hold a tab (io/names-format.ts); CLIP's normalizer turns any run of
  // white space into one space, so the reference row of the tab name is this name's row too.
  const names = refNames().map((n) => n.replace(/\t/g, " "));

  it("rows match PyTorch's L2-normalized text_embeds (cosine >= 0.99999, max abs diff <= 1e-5)", async () => {
    const r = await embedClasses(names, { encoder: CLIP_TINY });
    expect(r.dims).toEqual([names.length, D]);
    expect(ref.dims).toEqual([names.length, D]);
    expect(r.tokens).toEqual(refIds());
    for (let i = 0; i < names.length; i++) {
      const { cos, maxAbs } = rowDiff(row(r, i), ref.data.subarray(i * D, (i + 1) * D));
      expect(cos, names[i]).toBeGreaterThanOrEqual(0.99999);
      expect(maxAbs, names[i]).toBeLessThanOrEqual(1e-5);
      expect(rowDiff(row(r, i), row(r, i)).cos).toBeCloseTo(1, 6);
      let norm = 0;
      for (const v of row(r, i)) norm += v * v;
      expect(Math.sqrt(norm)).toBeCloseTo(1, 6);
    }
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/is 122 tokens; truncated to 77/);
  });

  it("the references can tell names apart (a wrong token would show)", () => {
    let worst = -1;
    for (let i = 0; i < names.length; i++) for (let k = i + 1; k < names.length; k++) {
      worst = Math.max(worst, rowDiff(ref.data.subarray(i * D, (i + 1) * D), ref.data.subarray(k * D, (k + 1) * D)).cos);
    }
    expect(worst).toBeLessThan(0.999);
  });

  it("padding does not change a name: alone equals inside a padded batch of longer names", async () => {
    const longest = names.reduce((a, b) => (a.length > b.length ? a : b));
    const alone = await embedClasses(["cat"], { encoder: CLIP_TINY });
    const padded = await embedClasses([longest, "cat", "traffic light"], { encoder: CLIP_TINY });
    expect(alone.tokens[0].length).toBeLessThan(padded.tokens[0].length);
    const d = rowDiff(row(alone, 0), row(padded, 1));
    expect(d.maxAbs).toBeLessThanOrEqual(1e-6);
  });

  it("a model that declares no attention_mask (causal attention alone) gives the same rows, padded or not", async () => {
    const dir = encoderCopy(join(root, "nomask"), { model: null });
    const model = await openTextModel(withoutMask(join(dir, "onnx", "text_model.onnx")));
    expect(model.hasMask).toBe(false);
    await model.release();
    const r = await embedClasses(names, { encoder: dir, batch: 64 });
    for (let i = 0; i < names.length; i++) expect(rowDiff(row(r, i), ref.data.subarray(i * D, (i + 1) * D)).maxAbs, names[i]).toBeLessThanOrEqual(1e-5);
  });

  it("--batch 2 and 64 give the same rows; progress counts batches", async () => {
    const seen: number[] = [];
    const [small, big] = await Promise.all([
      embedClasses(names, { encoder: CLIP_TINY, batch: 2, onProgress: (done, total) => { expect(total).toBe(names.length); seen.push(done); } }),
      embedClasses(names, { encoder: CLIP_TINY, batch: 64 }), // concurrently: calls share nothing
    ]);
    expect(seen).toEqual(Array.from({ length: names.length / 2 }, (_, i) => 2 * (i + 1)));
    for (let i = 0; i < names.length; i++) expect(rowDiff(row(small, i), row(big, i)).maxAbs).toBeLessThanOrEqual(1e-6);
  });

  it("a long list runs in batches of at most --batch names and matches a single run", async () => {
    const N = 600, batch = 64;
    const many = Array.from({ length: N }, (_, i) => `${names[i % names.length]} ${i}`);
    const steps: number[] = [];
    let last = 0;
    const r = await embedClasses(many, { encoder: CLIP_TINY, batch, onProgress: (done) => { steps.push(done - last); last = done; } });
    expect(r.dims).toEqual([N, D]);
    expect(steps).toHaveLength(Math.ceil(N / batch));
    expect(Math.max(...steps)).toBe(batch);
    expect(steps.reduce((a, b) => a + b, 0)).toBe(N);
    const picks = [0, 63, 64, 333, 599];
    const one = await embedClasses(picks.map((i) => many[i]), { encoder: CLIP_TINY });
    picks.forEach((p, k) => expect(rowDiff(row(r, p), row(one, k)).maxAbs).toBeLessThanOrEqual(1e-6));
  });

  it("refuses an empty list, blank names and names with line breaks", async () => {
    await expect(embedClasses([], { encoder: CLIP_TINY })).rejects.toThrow(ReparamError);
    await expect(embedClasses(["cat", ""], { encoder: CLIP_TINY })).rejects.toThrow(/class name 2 is empty/);
    await expect(embedClasses(["cat", " "], { encoder: CLIP_TINY })).rejects.toThrow(/class name 2 is blank/);
    await expect(embedClasses(["cat", "a\tb"], { encoder: CLIP_TINY })).rejects.toThrow(/class name 2 holds a control character \(U\+0009, a tab\)/);
    await expect(embedClasses(["cat\ndog"], { encoder: CLIP_TINY })).rejects.toThrow(/line break/);
    await expect(embedClasses(["cat"], { encoder: CLIP_TINY, batch: 0 })).rejects.toThrow(/batch 0: give a whole number/);
  });
});
