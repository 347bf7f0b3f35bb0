// onnx-reparam command line. Every user-facing failure is one line on stderr with a
// documented exit code (README "Exit codes"); stack traces only with DEBUG set.
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { fileURLToPath } from "node:url";
import { reparamFile } from "../passes/reparam-file.ts";
import { parseInputShapes } from "../passes/input-shapes.ts";
import { EXIT, ReparamError } from "../passes/errors.ts";
import { printSites, printSummary } from "./summary.ts";
import { reparamModel } from "../passes/pipeline.ts";
import { loadModel } from "../passes/io/model-io.ts";
import { readNpy } from "../passes/io/npy.ts";

export const DEFAULT_MODEL = fileURLToPath(new URL("../models/fixtures/full-bn-einsum-op17-static.onnx", import.meta.url));

function die(message: string, code: number): never {
  // yargs puts the reason on a second line ("Invalid values:\n  Argument: ..."): fold, don't cut.
  process.stderr.write(`onnx-reparam: ${message.trim().replace(/\s*\n\s*/g, " ")}\n`);
  process.exit(code);
}

const SINGLE = ["output", "text-embed", "text-input", "sites", "neck-form", "report", "atol", "rtol", "external-data"];
/** A value option given twice arrives as an array: say so instead of failing later. */
function once(argv: Record<string, unknown>): void {
  for (const name of SINGLE) if (Array.isArray(argv[name])) throw new ReparamError(`--${name} was given more than once`);
  if (argv["text-input"] !== undefined && argv["text-embed"] === undefined) throw new ReparamError("--text-input names the input --text-embed binds: give --text-embed too");
}

const textOptions = (y: ReturnType<typeof yargs>) => y
  .option("text-embed", { type: "string", requiresArg: true, describe: "bind a text-embedding graph input from a .npy file (float32/float16, (K,D) or (1,K,D))" })
  .option("text-input", { type: "string", requiresArg: true, describe: "name of the graph input --text-embed binds (when several could)" })
  .option("input-shape", { type: "string", array: true, requiresArg: true, default: [] as string[], describe: "concrete shape for a dynamic input, NAME:1x3x640x640" })
  .option("sites", { choices: ["head", "neck", "all"] as const, requiresArg: true, default: "all" as const, describe: "which sites to rewrite" });

const reparamOptions = (y: ReturnType<typeof yargs>) => textOptions(y)
  .option("output", { alias: "o", type: "string", requiresArg: true, describe: "where to write the rewritten model" })
  .option("conv-neck", { type: "boolean", describe: "accepted for upstream compatibility; the neck is always rewritten unless --sites head" })
  .option("neck-form", { choices: ["conv", "per-head", "matmul", "auto"] as const, requiresArg: true, default: "conv" as const, describe: "neck replacement form (auto: time all three in onnxruntime, keep the fastest)" })
  .option("report", { type: "string", requiresArg: true, describe: "write a JSON report of every site and the validation" })
  .option("validate", { type: "boolean", default: true, describe: "prove the rewrite in onnxruntime (--no-validate skips)" })
  .option("atol", { type: "number", requiresArg: true, describe: "validation absolute tolerance" })
  .option("rtol", { type: "number", requiresArg: true, describe: "validation relative tolerance" })
  .option("force", { type: "boolean", default: false, describe: "write the output even if validation fails (exit code stays 1)" })
  .option("external-data", { type: "string", requiresArg: true, describe: "save weights of 1 KiB and more to this file beside the output (automatic past the 2 GiB protobuf limit)" })
  .option("json", { type: "boolean", default: false, describe: "print the result as JSON on stdout" });

async function runReparam(argv: Record<string, unknown>, input: string, output: string): Promise<never> {
  once(argv);
  const tol: { atol?: number; rtol?: number } = {};
  if (argv.atol !== undefined) tol.atol = argv.atol as number;
  if (argv.rtol !== undefined) tol.rtol = argv.rtol as number;
  const r = await reparamFile({
    input, output,
    textEmbed: argv["text-embed"] as string | undefined, textInput: argv["text-input"] as string | undefined,
    sites: argv.sites as "head" | "neck" | "all", neckForm: argv["neck-form"] as "conv" | "per-head" | "matmul" | "auto",
    inputShapes: parseInputShapes(argv["input-shape"] as string[]), validate: argv.validate as boolean,
    force: argv.force as boolean, tolerance: tol, report: argv.report as string | undefined,
    externalData: argv["external-data"] as string | undefined,
  });
  if (argv.json) process.stdout.write(JSON.stringify({ exitCode: r.exitCode, message: r.message, sites: r.sites, unmatched: r.unmatched, validation: r.validation }, null, 2) + "\n");
  else printSummary(r);
  if (r.exitCode !== EXIT.OK) process.stderr.write(`onnx-reparam: ${r.message}\n`);
  process.exit(r.exitCode);
}

function runInspect(argv: Record<string, unknown>): never {
  once(argv);
  const input = argv.input as string;
  const embedPath = argv["text-embed"] as string | undefined;
  const r = reparamModel(loadModel(input), {
    textEmbed: embedPath ? { value: readNpy(embedPath), source: embedPath } : undefined,
    textInput: argv["text-input"] as string | undefined, inputShapes: parseInputShapes(argv["input-shape"] as string[]),
    sites: argv.sites as "head" | "neck" | "all",
  });
  printSites(r.sites, r.unmatched);
  process.exit(r.sites.some((s) => s.status === "rewritten") ? EXIT.OK : EXIT.NOTHING_TO_DO);
}

async function main(): Promise<void> {
  await yargs(hideBin(process.argv))
    .scriptName("onnx-reparam")
    .usage("$0 <command> [options]\n\nRewrites YOLO-World text contractions (Einsum / MatMul against a fixed vocabulary) into 1x1 Conv and proves the result numerically.")
    .command("reparam <input>", "rewrite head and neck sites of an ONNX model", (y) => reparamOptions(y).positional("input", { type: "string", describe: "ONNX model" }).demandOption("output"),
      (argv) => runReparam(argv, argv.input as string, argv.output as string))
    .command("inspect <input>", "list the sites reparam would rewrite or skip, and why; writes nothing (exit 0, or 3 when nothing is rewritable)", (y) => textOptions(y)
      .positional("input", { type: "string", describe: "ONNX model" }),
      (argv) => runInspect(argv))
    .command("demo", "run reparam on the embedded default model (a tiny YOLO-World export)", (y) => reparamOptions(y).default("output", "yolo-world-demo.rep.onnx"),
      (argv) => runReparam(argv, DEFAULT_MODEL, argv.output as string))
    .epilogue("Exit codes: 0 rewritten and validated; 1 validation failed; 2 usage or input error; 3 nothing to rewrite; 70 internal error (a bug).")
    .demandCommand(1, "give a command: reparam, inspect or demo")
    .strict()
    .fail((msg, err) => {
      // yargs' own parse errors (YError) are usage errors; anything else came from a handler.
      if (err && err.name !== "YError") throw err;
      die(msg || err?.message || "invalid arguments", EXIT.USAGE);
    })
    .help()
    .version(false)
    .parseAsync();
}

main().catch((e: unknown) => {
  if (e instanceof ReparamError) die(e.message, e.exitCode);
  if (process.env.DEBUG) console.error(e);
  die(`internal error: ${(e as Error)?.message ?? e} (set DEBUG=1 for a stack trace)`, 70);
});
