// `embed` on the CLIP text encoder a user downloads (issue 18): the ONNX export of
// openai/clip-vit-base-patch32's text model, as Hugging Face's Xenova/clip-vit-base-patch32
// publishes it (onnx/text_model.onnx: input_ids int64 only, text_embeds projected and not
// normalized, pooling by ArgMax over the ids) and Optimum's variants of it. The committed
// stand-in has exactly that interface; its references are PyTorch's, one name at a time.
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { embedClasses } from "../passes/text-encoder/embed.ts";
import { openTextModel } from "../passes/text-encoder/text-model.ts";
import { readNpy } from "../passes/io/npy.ts";
import { loadModel } from "../passes/io/model-io.ts";
import { readNamesFile } from "../passes/vocab/names-list.ts";
import { modelNames } from "../passes/vocab/report.ts";
import { reparamFile } from "../passes/index.ts";
import { fixturePath } from "./helpers/fixtures.ts";
import { ownStderrLines, runCli } from "./helpers/cli.ts";
import { fp16Output, int32Ids, optimumDeclaredDims, PUBLISHED_MODEL, publishedEmbeds, publishedFolder, publishedIds, publishedNames, publishedPyDict } from "./helpers/clip-published.ts";

const root = mkdtempSync(join(tmpdir(), "embed-published-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const names = publishedNames();
const ref = publishedEmbeds();
const D = 512;

function worst(a: ArrayLike<number>, b: ArrayLike<number>, rows: number): { cos: number; maxAbs: number } {
  let minCos = 1, maxAbs = 0;
  for (let r = 0; r < rows; r++) {
    let dot = 0, na = 0, nb = 0;
    for (let j = r * D; j < (r + 1) * D; j++) {
      dot += a[j] * b[j]; na += a[j] * a[j]; nb += b[j] * b[j];
      maxAbs = Math.max(maxAbs, Math.abs(a[j] - b[j]));
    }
    minCos = Math.min(minCos, dot / Math.sqrt(na * nb));
  }
  return { cos: minCos, maxAbs };
}

describe("the published CLIP text model", () => {
  it("the stand-in has the published interface: input_ids int64 [batch_size, sequence_length] -> text_embeds [batch_size, 512]", async () => {
    const s = await ort.InferenceSession.create(PUBLISHED_MODEL);
    try {
      expect(s.inputNames).toEqual(["input_ids"]);
      expect(s.outputNames).toEqual(["text_embeds"]);
      const [ids] = s.inputMetadata, [emb] = s.outputMetadata;
      expect(ids.isTensor && ids.type).toBe("int64");
      expect(ids.isTensor && ids.shape).toEqual(["batch_size", "sequence_length"]);
      expect(emb.isTensor && emb.shape).toEqual(["batch_size", 512]);
    } finally { await s.release(); }
    const m = await openTextModel(PUBLISHED_MODEL);
    expect({ hasMask: m.hasMask, fixedLength: m.fixedLength, fixedBatch: m.fixedBatch }).toEqual({ hasMask: false, fixedLength: undefined, fixedBatch: undefined });
    await m.release();
    expect(loadModel(PUBLISHED_MODEL).proto.graph!.node!.some((n) => n.op_type === "ArgMax")).toBe(true); // legacy eos_token_id = 2 pooling
  });

  it("`embed --encoder DIR` on the downloaded folder: PyTorch's rows, in padded batches; the names file reads back verbatim", async () => {
    const dir = publishedFolder(join(root, "clip-vit-base-patch32"));
    const namesJson = join(root, "names.json");
    writeFileSync(namesJson, JSON.stringify(names));
    for (const batch of ["5", "64"]) {
      const out = join(root, `texts-b${batch}.npy`);
      const r = await runCli(["embed", "--encoder", dir, "--names", namesJson, "-o", out, "--batch", batch, "--json"], 120_000);
      expect(r.code, r.stderr).toBe(0);
      expect(ownStderrLines(r.stderr)).toEqual([expect.stringMatching(/^onnx-reparam: warning: class name "a class name much longer .*" is \d+ tokens; truncated to 77/)]);
      expect(JSON.parse(r.stdout).model).toBe(join(dir, "onnx", "text_model.onnx"));
      const got = readNpy(out);
      expect(got.dims).toEqual([names.length, D]);
      const e = worst(got.data, ref.data, names.length);
      expect(e.cos).toBeGreaterThanOrEqual(0.99999);
      expect(e.maxAbs).toBeLessThanOrEqual(1e-5);
      const txt = out.replace(/\.npy$/, ".names.txt");
      expect(readFileSync(txt, "utf8")).toBe(names.join("\n") + "\n");
      expect(readNamesFile(txt).names).toEqual(names);
    }
  });

  it("the same rows as onnxruntime run on Python's token ids, one name at a time (no tokenizer, no padding of ours)", async () => {
    const r = await embedClasses(names, { encoder: publishedFolder(join(root, "ids")) });
    const ids = publishedIds();
    expect(r.tokens).toEqual(ids);
    const s = await ort.InferenceSession.create(PUBLISHED_MODEL);
    const alone = new Float32Array(names.length * D);
    try {
      for (const [i, row] of ids.entries()) {
        const out = await s.run({ input_ids: new ort.Tensor("int64", BigInt64Array.from(row, BigInt), [1, row.length]) });
        const v = out.text_embeds.data as Float32Array;
        const norm = Math.hypot(...v);
        expect(Math.abs(norm - 1), "text_embeds come out unnormalized").toBeGreaterThan(0.1);
        v.forEach((x, j) => { alone[i * D + j] = x / norm; });
      }
    } finally { await s.release(); }
    expect(worst(r.data, alone, names.length).maxAbs).toBeLessThanOrEqual(1e-5);
  });

  it("Optimum's and the other published variants: text_embeds declared [batch_size, sequence_length], int32 ids, float16 output", async () => {
    const cases: Array<[string, (g: Parameters<typeof optimumDeclaredDims>[0]) => void, number]> = [
      ["optimum-dims", optimumDeclaredDims, 1e-5], ["int32-ids", int32Ids, 1e-5], ["fp16", fp16Output, 2e-3],
    ];
    for (const [what, edit, tol] of cases) {
      const r = await embedClasses(names, { encoder: publishedFolder(join(root, what), edit), batch: 7 });
      expect(r.dims, what).toEqual([names.length, D]);
      expect(worst(r.data, ref.data, names.length).maxAbs, what).toBeLessThanOrEqual(tol);
    }
  });

  it("`reparam --names` reads back what `embed` wrote; the model's names are Python's str() of the dict, byte for byte", async () => {
    const dir = publishedFolder(join(root, "to-reparam"));
    const texts = join(root, "k16.npy");
    const namesJson = join(root, "k16.json");
    writeFileSync(namesJson, JSON.stringify(names));
    expect((await runCli(["embed", "--encoder", dir, "--names", namesJson, "-o", texts], 120_000)).code).toBe(0);
    const out = join(root, "k16.onnx");
    const r = await reparamFile({ input: fixturePath("ultralytics-world-op20-static-meta.onnx"), output: out, textEmbed: texts, names: texts.replace(/\.npy$/, ".names.txt") });
    expect(r.exitCode, r.message).toBe(0);
    expect(r.vocabulary).toMatchObject({ from: 80, to: names.length, names: "set" });
    const meta = modelNames(loadModel(out));
    expect(meta.names).toEqual(names);
    expect(meta.raw).toBe(publishedPyDict());
  });
});
