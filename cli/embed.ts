// `onnx-reparam embed`: class names to L2-normalized CLIP text embeddings (.npy), a thin
// layer over embedFile. stdout carries the result (one JSON object with --json); warnings
// and the TTY progress line go to stderr.
import type { Argv, CommandModule } from "yargs";
import { embedFile } from "../passes/text-encoder/embed-file.ts";
import { DEFAULT_BATCH } from "../passes/text-encoder/embed.ts";
import { parseClassesOption, readNamesFile, type NameList } from "../passes/vocab/names-list.ts";
import { ReparamError } from "../passes/errors.ts";

const SINGLE = ["encoder", "encoder-model", "names", "classes", "output", "batch"];

function nameList(argv: Record<string, unknown>): NameList & { source?: string } {
  const file = argv.names as string | undefined, classes = argv.classes as string | undefined;
  if ((file === undefined) === (classes === undefined)) throw new ReparamError("give the class names with --names FILE or --classes \"a,b,c\" (one of the two)");
  return file !== undefined ? { ...readNamesFile(file), source: file } : parseClassesOption(classes!);
}

function progress(): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (done, total) => {
    process.stderr.write(`\rembedding ${done}/${total} names`);
    if (done === total) process.stderr.write("\r\x1b[K");
  };
}

async function run(argv: Record<string, unknown>): Promise<never> {
  for (const name of SINGLE) if (Array.isArray(argv[name])) throw new ReparamError(`--${name} was given more than once`);
  const batch = argv.batch as number;
  if (!Number.isInteger(batch) || batch < 1) throw new ReparamError(`--batch: give a whole number of at least 1${Number.isNaN(batch) ? "" : ` (got ${batch})`}`);
  const list = nameList(argv);
  const r = await embedFile({
    names: list.names, namesSource: list.source, output: argv.output as string,
    encoder: argv.encoder as string, encoderModel: argv["encoder-model"] as string | undefined,
    batch, onProgress: progress(),
  });
  const warnings = [...list.warnings, ...r.warnings];
  for (const w of warnings) process.stderr.write(`onnx-reparam: warning: ${w}\n`);
  if (argv.json) {
    process.stdout.write(JSON.stringify({ output: r.output, namesFile: r.namesFile, count: r.count, dims: r.dims, model: r.model, warnings, seconds: r.seconds }) + "\n");
  } else {
    process.stdout.write(`wrote ${r.output} (${r.dims[0]} × ${r.dims[1]} float32, L2-normalized rows) and ${r.namesFile} in ${r.seconds.toFixed(2)} s\n`);
  }
  process.exit(0);
}

export const embedCommand: CommandModule = {
  command: "embed",
  describe: "class names to L2-normalized CLIP text embeddings (.npy) with a CLIP text encoder in ONNX",
  builder: (y: Argv) => y
    .option("encoder", { type: "string", requiresArg: true, demandOption: true, describe: "folder with tokenizer.json and the ONNX text model (text_model.onnx, onnx/text_model.onnx or model.onnx)" })
    .option("encoder-model", { type: "string", requiresArg: true, describe: "the ONNX text model, when it is elsewhere" })
    .option("names", { type: "string", requiresArg: true, describe: "class names, each kept as written: one per line (.txt), or a JSON array of strings (.json)" })
    .option("classes", { type: "string", requiresArg: true, describe: "class names as one comma-separated string" })
    .option("output", { alias: "o", type: "string", requiresArg: true, demandOption: true, describe: "the .npy to write (OUT.names.txt is written beside it)" })
    .option("batch", { type: "number", requiresArg: true, default: DEFAULT_BATCH, describe: "names per onnxruntime run" })
    .option("json", { type: "boolean", default: false, describe: "print the result as one JSON object on stdout" }),
  handler: (argv) => run(argv as Record<string, unknown>),
};
