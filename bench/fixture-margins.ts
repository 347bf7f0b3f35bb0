// Validation margins over the committed fixtures: `reparam --report` on each, and the
// smallest atol that would have passed (worst output), per fixture and worst over all, for
// float32 and float16 models. With FIXTURE_CLI_BEFORE=/older/checkout/cli/bin.js the same
// for that checkout, side by side: how a change to the folding kernels moves the margins.
//
//   npm run bench -- fixture-margins
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const REPO = join(here, "..");
const FIX = join(REPO, "models", "fixtures");

interface Entry { name: string; file: string; fp16: boolean; textInput: { name: string; npy: string } | null }

/** Worst minPassingAtol over the outputs and runs of one `reparam --report`, or null (not rewritten). */
function margin(cli: string, f: Entry, dir: string): number | null {
  const report = join(dir, `${f.name}.json`);
  const args = [cli, "reparam", join(FIX, f.file), "-o", join(dir, `${f.name}.onnx`), "--report", report, "--force"];
  if (f.textInput) args.push("--text-embed", join(FIX, f.textInput.npy), "--text-input", f.textInput.name);
  const r = spawnSync(process.execPath, args, { encoding: "utf8" });
  if (r.status === 3) return null;
  const rep = JSON.parse(readFileSync(report, "utf8")) as { validation: { runs?: Array<{ outputs: Array<{ minPassingAtol: number }> }>; outputs: Array<{ minPassingAtol: number }> } | null };
  const outs = rep.validation?.runs?.flatMap((x) => x.outputs) ?? rep.validation?.outputs ?? [];
  return outs.reduce((m, o) => Math.max(m, o.minPassingAtol), 0);
}

export async function run(): Promise<void> {
  const fixtures = (JSON.parse(readFileSync(join(FIX, "manifest.json"), "utf8")) as { fixtures: Entry[] }).fixtures;
  const clis: Array<[string, string]> = [["this checkout", join(REPO, "cli", "bin.js")]];
  if (process.env.FIXTURE_CLI_BEFORE) clis.unshift(["before", process.env.FIXTURE_CLI_BEFORE]);
  const dir = mkdtempSync(join(tmpdir(), "margins-"));
  try {
    const worst = clis.map(() => ({ f32: 0, f16: 0 }));
    console.log(`| fixture | ${clis.map(([n]) => `min passing atol (${n})`).join(" | ")} |`);
    console.log(`|---|${clis.map(() => "---:").join("|")}|`);
    for (const f of fixtures) {
      const m = clis.map(([, cli]) => margin(cli, f, dir));
      m.forEach((v, i) => { if (v !== null) { const w = worst[i]; if (f.fp16) w.f16 = Math.max(w.f16, v); else w.f32 = Math.max(w.f32, v); } });
      console.log(`| ${f.name}${f.fp16 ? " (fp16)" : ""} | ${m.map((v) => (v === null ? "not rewritten" : v.toExponential(2))).join(" | ")} |`);
    }
    console.log(`| **worst float32** | ${worst.map((w) => w.f32.toExponential(2)).join(" | ")} |`);
    console.log(`| **worst float16** | ${worst.map((w) => w.f16.toExponential(2)).join(" | ")} |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
