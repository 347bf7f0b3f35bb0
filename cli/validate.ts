// `onnx-reparam validate A.onnx B.onnx`: do two models with the same inputs and outputs
// compute the same thing? Exit 0 they agree, 1 they do not, 2 bad input.
import type { Argv, CommandModule } from "yargs";
import { EXIT, plural } from "../passes/errors.ts";
import { shapesDiffer } from "../passes/validate/compare.ts";
import { validateFiles } from "../passes/validate/validate-files.ts";
import { inputOptions, parsedInputs, single } from "./input-data.ts";
import { progressLine } from "./progress.ts";
import { outputLine } from "./summary.ts";

export const validateCommand: CommandModule = {
  command: "validate <a> <b>",
  describe: "run two models with the same inputs and outputs in onnxruntime on the same seeded inputs and compare every output (exit 0 agree, 1 disagree)",
  builder: (y: Argv) => inputOptions(y)
    .positional("a", { type: "string", describe: "reference ONNX model" })
    .positional("b", { type: "string", describe: "ONNX model compared against it" })
    .option("runs", { type: "number", requiresArg: true, default: 3, describe: "seeded runs (seeds 0..N-1)" })
    .option("atol", { type: "number", requiresArg: true, describe: "absolute tolerance (default 1e-3, 5e-2 for fp16 models)" })
    .option("rtol", { type: "number", requiresArg: true, describe: "relative tolerance (default 1e-3, 1e-2 for fp16 models)" })
    .option("json", { type: "boolean", default: false, describe: "print the result as one JSON object on stdout" }),
  handler: async (argv) => {
    single(argv, ["runs", "atol", "rtol"]);
    const tolerance: { atol?: number; rtol?: number } = {};
    if (argv.atol !== undefined) tolerance.atol = argv.atol as number;
    if (argv.rtol !== undefined) tolerance.rtol = argv.rtol as number;
    const progress = progressLine(argv.quiet);
    const r = await validateFiles(argv.a as string, argv.b as string, {
      ...parsedInputs(argv),
      runs: argv.runs as number, tolerance, onProgress: progress.onProgress,
    }).finally(progress.clear);
    const exitCode = r.passed ? EXIT.OK : EXIT.VALIDATION_FAILED;
    const out = process.stdout;
    if (argv.json) out.write(JSON.stringify({ exitCode, ...r }, null, 2) + "\n");
    else {
      const inputs = r.runs[0].inputs.map((i) => `${i.name}:${i.shape.join("x")}`).join(" ");
      out.write(`validate ${r.a} (A) against ${r.b} (B): atol ${r.atol}, rtol ${r.rtol}; ${plural(r.runs.length, "run")}, seeds ${r.runs.map((x) => x.seed).join(", ")}; inputs ${inputs}\n`);
      out.write(`worst per output over the runs:\n`);
      for (const o of r.outputs) out.write(outputLine(o, "A", "B"));
      out.write(r.passed ? "PASSED: the models agree\n" : "");
    }
    if (!r.passed) process.stderr.write(`onnx-reparam: the models disagree (${r.outputs.filter((o) => !o.passed).map((o) => (o.shapeMismatch ? `${o.name}: ${shapesDiffer(o.shapeMismatch, "A", "B")}` : `${o.name}: needs atol ${o.minPassingAtol.toExponential(2)}`)).join("; ")})\n`);
    process.exit(exitCode);
  },
};
