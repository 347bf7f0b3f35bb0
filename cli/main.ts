#!/usr/bin/env node
// onnx-reparam command line. Every user-facing failure is one line on stderr with a
// documented exit code (docs/cli.md "Exit codes"); stack traces only with DEBUG set.
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { join } from "node:path";
import { reparamFile } from "../passes/job/reparam-file.ts";
import { parseInputShapes } from "../passes/pipeline/probe-shapes.ts";
import { EXIT, ReparamError } from "../passes/errors.ts";
import { printClasses, printSites, printSummary } from "./summary.ts";
import { reparamModel } from "../passes/pipeline/reparam-model.ts";
import { modelClasses } from "../passes/pipeline/model-classes.ts";
import { parseClassesOption, readNamesFile } from "../passes/vocab/names-list.ts";
import { loadModel } from "../passes/io/model-io.ts";
import { readNpy } from "../passes/io/npy.ts";
import { embedCommand } from "./embed.ts";
import type { ProgressFn } from "../passes/progress.ts";
import { PACKAGE_ROOT, PACKAGE_VERSION } from "./package-root.ts";
import { clearProgress, progressLine } from "./progress.ts";
import { validateCommand } from "./validate.ts";
import { benchCommand } from "./bench.ts";
import { demoSpeedup } from "./demo.ts";
import { runWeb } from "./web.ts";
import { single } from "./input-data.ts";

export const DEFAULT_MODEL = join(PACKAGE_ROOT, "models/fixtures/full-bn-einsum-op17-static.onnx");

function die(message: string, code: number): never {
  clearProgress();
  // yargs puts the reason on a second line ("Invalid values:\n  Argument: ..."): fold, don't cut.
  process.stderr.write(`onnx-reparam: ${message.trim().replace(/\s*\n\s*/g, " ")}\n`);
  process.exit(code);
}

const SINGLE = ["output", "classes", "text-embed", "text-input", "sites", "neck-form", "report", "atol", "rtol", "external-data", "names", "encoder", "encoder-model"];
/** A value option given twice arrives as an array: say so instead of failing later. */
function once(argv: Record<string, unknown>): void {
  single(argv, SINGLE);
  if (argv["text-input"] !== undefined && argv["text-embed"] === undefined && argv.encoder === undefined) throw new ReparamError("--text-input names the input --text-embed binds: give --text-embed too");
}

const textOptions = (y: ReturnType<typeof yargs>) => y
  .option("text-embed", { type: "string", requiresArg: true, describe: "the vocabulary's text embeddings, a .npy (float32/16/64, (K',D) or (1,K',D)): binds a text input, or replaces a baked-in text for any K'" })
  .option("text-input", { type: "string", requiresArg: true, describe: "the graph input or constant --text-embed replaces (when several could)" })
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
  .option("classes", { type: "string", requiresArg: true, describe: "keep only these of the model's classes, in this order: names from its names metadata or 0-based indices, comma-separated (\"person,car,bus\"), or @FILE with one a line" })
  .option("names", { type: "string", requiresArg: true, describe: "class names of the new vocabulary (one per line, or a JSON array) for the model's names metadata" })
  .option("encoder", { type: "string", requiresArg: true, describe: "CLIP text encoder folder (tokenizer.json + ONNX text model): embed --names and use them as the vocabulary" })
  .option("encoder-model", { type: "string", requiresArg: true, describe: "the ONNX text model, when not at DIR/text_model.onnx, DIR/onnx/text_model.onnx or DIR/model.onnx" })
  .option("json", { type: "boolean", default: false, describe: "print the result as JSON on stdout" });

/** More work after a successful reparam (demo's timing): its JSON joins the result, its text follows the summary. */
type AfterReparam = (onProgress?: ProgressFn) => Promise<{ json: Record<string, unknown>; text: string }>;

/** --classes "a,b,c" or @FILE (one a line, or a JSON array); an entry of digits is a 0-based index. */
function classesOption(value: string | undefined): Array<string | number> | undefined {
  if (value === undefined) return undefined;
  const list = value.startsWith("@") ? readNamesFile(value.slice(1)) : parseClassesOption(value);
  for (const w of list.warnings) process.stderr.write(`onnx-reparam: warning: ${w}\n`);
  return list.names.map((n) => (/^\d+$/.test(n) ? Number(n) : n));
}

async function runReparam(argv: Record<string, unknown>, input: string, output: string, after?: AfterReparam): Promise<never> {
  once(argv);
  const progress = progressLine(argv.quiet);
  const tol: { atol?: number; rtol?: number } = {};
  if (argv.atol !== undefined) tol.atol = argv.atol as number;
  if (argv.rtol !== undefined) tol.rtol = argv.rtol as number;
  const r = await reparamFile({
    input, output, classes: classesOption(argv.classes as string | undefined),
    textEmbed: argv["text-embed"] as string | undefined, textInput: argv["text-input"] as string | undefined,
    sites: argv.sites as "head" | "neck" | "all", neckForm: argv["neck-form"] as "conv" | "per-head" | "matmul" | "auto",
    inputShapes: parseInputShapes(argv["input-shape"] as string[]), validate: argv.validate as boolean,
    force: argv.force as boolean, tolerance: tol, report: argv.report as string | undefined,
    externalData: argv["external-data"] as string | undefined, names: argv.names as string | undefined,
    encoder: argv.encoder as string | undefined, encoderModel: argv["encoder-model"] as string | undefined, onProgress: progress.onProgress,
  }).finally(progress.clear);
  for (const w of r.warnings) process.stderr.write(`onnx-reparam: warning: ${w}\n`);
  const extra = after && r.exitCode === EXIT.OK && r.written ? await after(progress.onProgress).finally(progress.clear) : undefined;
  if (argv.json) process.stdout.write(JSON.stringify({ exitCode: r.exitCode, message: r.message, sites: r.sites, unmatched: r.unmatched, vocabulary: r.vocabulary, warnings: r.warnings, validation: r.validation, ...(r.neckForm ? { neckForm: r.neckForm } : {}), ...extra?.json }, null, 2) + "\n");
  else { printSummary(r); if (extra) process.stdout.write(extra.text); }
  if (r.exitCode !== EXIT.OK) process.stderr.write(`onnx-reparam: ${r.message}\n`);
  process.exit(r.exitCode);
}

function runInspect(argv: Record<string, unknown>): never {
  once(argv);
  const input = argv.input as string;
  const embedPath = argv["text-embed"] as string | undefined;
  const progress = progressLine(argv.quiet);
  progress.onProgress?.({ message: `loading ${input}` });
  const model = loadModel(input);
  progress.onProgress?.({ message: "finding sites and folding the text path" });
  const r = reparamModel(model, {
    textEmbed: embedPath ? { value: readNpy(embedPath), source: embedPath } : undefined,
    textInput: argv["text-input"] as string | undefined, inputShapes: parseInputShapes(argv["input-shape"] as string[]),
    sites: argv.sites as "head" | "neck" | "all",
  });
  progress.clear();
  const exitCode = r.sites.some((s) => s.status === "rewritten") ? EXIT.OK : EXIT.NOTHING_TO_DO;
  const classes = modelClasses(model, r);
  if (argv.json) process.stdout.write(JSON.stringify({ exitCode, sites: r.sites, unmatched: r.unmatched, removed: r.removed, boundTextInput: r.bound?.name ?? null, classes }, null, 2) + "\n");
  else { printSites(r.sites, r.unmatched); printClasses(classes); }
  process.exit(exitCode);
}

async function main(): Promise<void> {
  await yargs(hideBin(process.argv))
    .scriptName("onnx-reparam")
    .usage("$0 <command> [options]\n\nRewrites YOLO-World text contractions (Einsum / MatMul against a fixed vocabulary) into 1x1 Conv and proves the result numerically.")
    .command("reparam <input>", "rewrite head and neck sites of an ONNX model", (y) => reparamOptions(y).positional("input", { type: "string", describe: "ONNX model" }).demandOption("output"),
      (argv) => runReparam(argv, argv.input as string, argv.output as string))
    .command("inspect <input>", "list the sites reparam would rewrite or skip, and why; writes nothing (exit 0, or 3 when nothing is rewritable)", (y) => textOptions(y)
      .positional("input", { type: "string", describe: "ONNX model" })
      .option("json", { type: "boolean", default: false, describe: "print the sites as JSON on stdout" }),
      (argv) => runInspect(argv))
    .command("demo", "run reparam on the embedded default model (a tiny YOLO-World export), then time original against rewritten", (y) => reparamOptions(y).default("output", "yolo-world-demo.rep.onnx"),
      (argv) => runReparam(argv, DEFAULT_MODEL, argv.output as string, (onProgress) => demoSpeedup(DEFAULT_MODEL, argv.output as string, onProgress)))
    .command(embedCommand)
    .command(validateCommand)
    .command(benchCommand)
    .command("web", "serve the browser page (rewrite and prove in the browser, nothing installed) on 127.0.0.1, or write it for a static host", (y) => y
      .option("port", { type: "string", requiresArg: true, describe: "port to listen on, 0 to 65535 (0: any free port; default 8080)" })
      .option("out", { type: "string", requiresArg: true, describe: "write the static page (html, js, onnxruntime-web's wasm) to this folder instead of serving it, and print the headers a static host needs" })
      .option("force", { type: "boolean", default: false, describe: "with --out: replace a folder that is not empty" }),
      (argv) => { single(argv, ["port", "out"]); return runWeb({ port: argv.port as string | undefined, out: argv.out as string | undefined, force: argv.force as boolean }); })
    .option("quiet", { alias: "q", type: "boolean", default: false, describe: "no progress line on stderr" })
    .epilogue("Exit codes: 0 rewritten and validated (validate: the models agree); 1 validation failed (validate: they disagree); 2 usage or input error; 3 nothing to rewrite; 70 internal error (a bug).")
    .demandCommand(1, "give a command: reparam, inspect, embed, validate, bench, demo or web")
    .strict()
    .fail((msg, err) => {
      // yargs' own parse errors (YError) are usage errors; anything else came from a handler.
      if (err && err.name !== "YError") throw err;
      die(msg || err?.message || "invalid arguments", EXIT.USAGE);
    })
    .help()
    .version(PACKAGE_VERSION)
    .parseAsync();
}

main().catch((e: unknown) => {
  if (e instanceof ReparamError) die(e.message, e.exitCode);
  if (process.env.DEBUG) console.error(e);
  die(`internal error: ${(e as Error)?.message ?? e} (set DEBUG=1 for a stack trace)`, 70);
});
