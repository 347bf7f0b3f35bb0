// reparamBytes with a text encoder given as bytes (the page's slot) runs the CLI's embed code:
// on onnxruntime-node it writes exactly what `reparam --encoder DIR --names FILE` writes, and it
// refuses what the CLI refuses, with the same messages.
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { reparamBytes, type EncoderBytes } from "../passes/job/reparam-bytes.ts";
import { reparamFile } from "../passes/job/reparam-file.ts";
import { nodeRuntime } from "../passes/runtime/node-runtime.ts";
import { EXIT } from "../passes/errors.ts";
import { fixturePath } from "./helpers/fixtures.ts";
import { CLIP_MODEL, CLIP_TINY } from "./helpers/clip-tiny.ts";

const tmp = mkdtempSync(join(tmpdir(), "bytes-encoder-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const MODEL = fixturePath("ultralytics-world-op20-static-meta.onnx");
const NAMES = ["forklift", "hard hat", "person", "pallet jack", "叉车"];
const json = (f: string) => ({ label: f, text: readFileSync(join(CLIP_TINY, f), "utf8") });
const encoder = (): EncoderBytes => ({
  model: new Uint8Array(readFileSync(CLIP_MODEL)), modelName: "text_model.onnx",
  tokenizer: json("tokenizer.json"), tokenizerConfig: json("tokenizer_config.json"), specialTokensMap: json("special_tokens_map.json"),
});

describe("reparamBytes with a text encoder as bytes", () => {
  it("writes the CLI's bytes (same runtime), with the embed stage reported", async () => {
    const namesFile = join(tmp, "names.txt");
    writeFileSync(namesFile, NAMES.join("\n") + "\n");
    const stages = new Set<string>();
    const r = await reparamBytes({ model: new Uint8Array(readFileSync(MODEL)), modelName: "m.onnx", names: NAMES.join("\n") + "\n", encoder: encoder(), onProgress: (s) => stages.add(s) }, nodeRuntime);
    expect(r.exitCode, r.message).toBe(EXIT.OK);
    expect(stages).toContain("embed");
    const cli = await reparamFile({ input: MODEL, output: join(tmp, "cli.onnx"), encoder: CLIP_TINY, names: namesFile });
    expect(cli.exitCode, cli.message).toBe(EXIT.OK);
    expect(Buffer.compare(Buffer.from(r.bytes!), readFileSync(join(tmp, "cli.onnx")))).toBe(0);
    expect(r.vocabulary).toMatchObject({ from: 80, to: NAMES.length, names: "set", source: "--encoder text_model.onnx" });
  });

  it("refuses as the CLI does: no names, or text embeddings as well", async () => {
    const model = () => new Uint8Array(readFileSync(MODEL));
    await expect(reparamBytes({ model: model(), encoder: encoder() }, nodeRuntime)).rejects.toThrow(/--encoder embeds the class names of --names: give --names too/);
    await expect(reparamBytes({ model: model(), encoder: encoder(), names: "a\nb", textEmbed: new Uint8Array(readFileSync(fixturePath("vocab/texts-k20.npy"))) }, nodeRuntime))
      .rejects.toThrow(/--encoder computes the text embeddings --text-embed would give/);
    await expect(reparamBytes({ model: model(), names: "a\nb" }, nodeRuntime)).rejects.toThrow(/give --text-embed \(or --encoder\) too/);
  });

  it("a tokenizer.json that is not JSON, and a model that is no text model, are named by the file names given", async () => {
    const model = () => new Uint8Array(readFileSync(MODEL));
    await expect(reparamBytes({ model: model(), names: "cat", encoder: { ...encoder(), tokenizer: { label: "tokenizer.json", text: "{not json" } } }, nodeRuntime))
      .rejects.toThrow(/^tokenizer\.json: not valid JSON/);
    await expect(reparamBytes({ model: model(), names: "cat", encoder: { ...encoder(), model: model(), modelName: "yolo.onnx" } }, nodeRuntime))
      .rejects.toThrow(/^yolo\.onnx: the model has no text_embeds output/);
  });
});
