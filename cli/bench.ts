// `onnx-reparam bench A.onnx [B.onnx]`: onnxruntime-node latency, A and B alternating.
import type { Argv, CommandModule } from "yargs";
import { EXIT, plural } from "../passes/errors.ts";
import { benchModels, type BenchModelsResult } from "../passes/job/bench-models.ts";
import { inputOptions, parsedInputs, single } from "./input-data.ts";
import { progressLine } from "./progress.ts";

export const benchCommand: CommandModule = {
  command: "bench <a> [b]",
  describe: "time one model, or two alternating round by round, in onnxruntime-node (graph optimization all)",
  builder: (y: Argv) => inputOptions(y)
    .positional("a", { type: "string", describe: "ONNX model" })
    .positional("b", { type: "string", describe: "second ONNX model with the same inputs and outputs" })
    .option("runs", { type: "number", requiresArg: true, default: 20, describe: "timed rounds (each runs A and B once)" })
    .option("warmup", { type: "number", requiresArg: true, default: 3, describe: "untimed runs of each model first" })
    .option("threads", { type: "number", requiresArg: true, describe: "onnxruntime intra-op threads (default: onnxruntime's own, one per core)" })
    .option("json", { type: "boolean", default: false, describe: "print the result as one JSON object on stdout" }),
  handler: async (argv) => {
    single(argv, ["runs", "warmup", "threads", "b"]);
    const progress = progressLine(argv.quiet);
    const a = argv.a as string, b = argv.b as string | undefined;
    const r = await benchModels({ path: a }, b ? { path: b } : null, {
      runs: argv.runs as number, warmup: argv.warmup as number, threads: argv.threads as number | undefined,
      ...parsedInputs(argv),
      onProgress: progress.onProgress,
    }).finally(progress.clear);
    if (argv.json) process.stdout.write(JSON.stringify(benchJson(r, a, b), null, 2) + "\n");
    else process.stdout.write(benchText(r, a, b));
    process.exit(EXIT.OK);
  },
};

export function benchJson(r: BenchModelsResult, a: string, b?: string) {
  return {
    exitCode: EXIT.OK, rounds: r.rounds, warmup: r.warmup, threads: r.threads, inputs: r.inputs,
    a: { model: a, ...r.a }, b: r.b && { model: b, ...r.b }, ratio: r.ratio,
  };
}

const ms = (t: number) => `${t < 10 ? t.toFixed(2) : t.toFixed(1)} ms`;

export function benchText(r: BenchModelsResult, a: string, b?: string): string {
  const inputs = r.inputs.map((i) => `${i.name}:${i.shape.join("x")}`).join(" ");
  const lines = [`bench: ${plural(r.rounds, "round")} after ${plural(r.warmup, "warm-up run")} each; onnxruntime-node CPU, ${r.threads == null ? "default threads" : plural(r.threads, "thread")}, optimization all; inputs ${inputs}`];
  lines.push(`  A ${a}: median ${ms(r.a.median)}, min ${ms(r.a.min)}`);
  if (r.b && r.ratio !== null) {
    lines.push(`  B ${b}: median ${ms(r.b.median)}, min ${ms(r.b.min)}`);
    lines.push(`  A/B ${r.ratio.toFixed(2)} (median of per-round ratios): ${r.ratio >= 1 ? `B is ${r.ratio.toFixed(2)}x as fast as A` : `A is ${(1 / r.ratio).toFixed(2)}x as fast as B`}`);
  }
  return lines.join("\n") + "\n";
}
