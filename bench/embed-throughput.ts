// `embed` throughput with the test CLIP text encoder (models/fixtures/clip-tiny: the real
// CLIP tokenizer, a 2-layer width-16 text model): names per second for N = 1203 (LVIS-sized)
// at a few batch sizes, and peak RSS for N = 4800 to show memory stays bounded. A real
// ViT-B/32 text tower (12 layers, width 512) is far slower per name; the tokenizer and
// the batching overhead are what this measures.
import { fileURLToPath } from "node:url";
import { embedClasses } from "../passes/text-encoder/embed.ts";

const ENCODER = fileURLToPath(new URL("../models/fixtures/clip-tiny", import.meta.url));
const WORDS = ["red", "small", "wooden", "traffic", "light", "fire", "hydrant", "teddy", "bear", "cell", "phone",
  "baseball", "glove", "tennis", "racket", "wine", "glass", "hot", "dog", "potted", "plant", "dining", "table",
  "hair", "drier", "toothbrush", "sailboat", "crème", "brûlée", "pokémon", "t-shirt", "man's", "umbrella", "kite"];

/** Deterministic LVIS-like names: 1-4 words, a few with digits or punctuation. */
export function syntheticNames(n: number): string[] {
  let s = 12345;
  const next = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s; };
  return Array.from({ length: n }, (_, i) => {
    const words = Array.from({ length: 1 + (next() % 4) }, () => WORDS[next() % WORDS.length]);
    return i % 7 === 0 ? `${words.join(" ")} ${i}` : words.join(" ");
  });
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

async function timed(names: string[], batch: number): Promise<number> {
  const t0 = performance.now();
  await embedClasses(names, { encoder: ENCODER, batch });
  return (performance.now() - t0) / 1000;
}

export async function run(): Promise<void> {
  const setup = await timed(["cat"], 1); // tokenizer.json parse + onnxruntime session
  const names = syntheticNames(1203);
  console.log(`setup (tokenizer.json + session, 1 name): ${setup.toFixed(2)} s`);
  console.log("| N | batch | seconds (median of 3) | names/s | names/s without setup |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const batch of [16, 64, 256]) {
    const t = [await timed(names, batch), await timed(names, batch), await timed(names, batch)].sort((a, b) => a - b)[1];
    console.log(`| ${names.length} | ${batch} | ${t.toFixed(2)} | ${(names.length / t).toFixed(0)} | ${t > setup ? (names.length / (t - setup)).toFixed(0) : "— (setup measured longer than the run)"} |`);
  }
  const before = process.resourceUsage().maxRSS * 1024;
  const t = await timed(syntheticNames(4800), 64);
  const after = process.resourceUsage().maxRSS * 1024;
  console.log(`\nN = 4800, batch 64: ${t.toFixed(2)} s (${(4800 / t).toFixed(0)} names/s); peak RSS ${mb(before)} before, ${mb(after)} after`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
