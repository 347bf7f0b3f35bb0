// The pass against plain I/O, as a user runs it: `onnx-reparam reparam IN -o OUT --no-validate`
// (a fresh process: start-up, decode, fold, rewrite, encode, write) against CLI start-up
// (`--help`) plus Node reading and writing the same file, with wall time and peak RSS
// (GNU time's %M), and CPU time (user + sys), which a loaded machine distorts less. Target (issue 10): wall <= 2 x (start-up + read/write), peak RSS <=
// file size + 200 MB.
//
//   PASS_MODELS=$(ls /tmp/v2s/v2s-einsum-*.onnx /tmp/v2l/v2l-einsum-*.onnx | paste -sd,) npm run bench -- pass-io
//
// PASS_CLI_BEFORE=/path/to/older/checkout/cli/bin.js adds that checkout's reparam as a row,
// timed in the same alternating rounds (how "before" numbers are taken on a shared machine).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROUNDS = Number(process.env.PASS_ROUNDS ?? 5);
const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, "..", "cli", "bin.js");
const TIME = "/usr/bin/time";

interface Sample { wall: number; cpu: number; rssMB: number }

/** Runs a command under GNU time; wall seconds and peak RSS in MB. */
function timed(cmd: string[]): Sample {
  const r = spawnSync(TIME, ["-f", "%e %U %S %M", ...cmd], { encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} failed (${r.status}): ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`);
  const last = r.stderr.trim().split("\n").pop()!.trim().split(/\s+/);
  return { wall: Number(last[0]), cpu: Number(last[1]) + Number(last[2]), rssMB: Number(last[3]) / 1024 };
}

const median = (v: number[]) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const spread = (v: number[]) => { const m = median(v); return m ? median(v.map((x) => Math.abs(x - m))) / m : 0; };

export async function run(): Promise<void> {
  const paths = (process.env.PASS_MODELS ?? "").split(",").map((p) => p.trim()).filter(Boolean);
  if (!paths.length) {
    console.log("pass-io: set PASS_MODELS=a.onnx,... (e.g. /tmp/v2s/v2s-einsum-k1203-op12.onnx from models/gen/export_v2s.py); skipped.");
    return;
  }
  if (!existsSync(TIME)) { console.log(`pass-io: needs GNU time at ${TIME}; skipped.`); return; }
  const before = process.env.PASS_CLI_BEFORE;
  const dir = mkdtempSync(join(tmpdir(), "pass-io-"));
  const out = join(dir, "out.onnx");
  try {
    const rows: string[] = [];
    for (const model of paths) {
      const sizeMB = statSync(model).size / 2 ** 20;
      const variants: Array<[string, string[]]> = [
        ["start-up (--help)", [process.execPath, CLI, "--help"]],
        ["node read+write", [process.execPath, "-e", `const fs=require("fs");fs.writeFileSync(${JSON.stringify(out)},fs.readFileSync(${JSON.stringify(model)}))`]],
        ["reparam --no-validate", [process.execPath, CLI, "reparam", model, "-o", out, "--no-validate"]],
        ...(before ? [["reparam (before)", [process.execPath, before, "reparam", model, "-o", out, "--no-validate"]] as [string, string[]]] : []),
      ];
      const s = new Map(variants.map(([n]) => [n, [] as Sample[]]));
      timed(variants[2][1]); // warm the page cache and tsx's transform cache
      for (let r = 0; r < ROUNDS; r++) {
        for (let j = 0; j < variants.length; j++) {
          const [name, cmd] = variants[(j + r) % variants.length];
          s.get(name)!.push(timed(cmd));
        }
      }
      const wall = (n: string) => median(s.get(n)!.map((x) => x.wall));
      const cpu = (n: string) => median(s.get(n)!.map((x) => x.cpu));
      const rss = (n: string) => median(s.get(n)!.map((x) => x.rssMB));
      const io = wall("start-up (--help)") + wall("node read+write");
      const ioCpu = cpu("start-up (--help)") + cpu("node read+write");
      const line = (n: string) => {
        const w = s.get(n)!.map((x) => x.wall);
        return `| ${basename(model)} | ${sizeMB.toFixed(1)} | ${n} | ${wall(n).toFixed(2)} (±${(100 * spread(w)).toFixed(0)} %) | ${(wall(n) / io).toFixed(2)} | ${cpu(n).toFixed(2)} | ${(cpu(n) / ioCpu).toFixed(2)} | ${rss(n).toFixed(0)} | ${(rss(n) - sizeMB).toFixed(0)} |`;
      };
      rows.push(...variants.map(([n]) => line(n)));
      console.log(rows.slice(-variants.length).join("\n"));
    }
    console.log(`\n### The pass against plain I/O (${ROUNDS} alternating rounds, medians; ± is the median absolute deviation)\n`);
    console.log("| model | MiB | run | wall s | ÷ (start-up + read/write) | CPU s (user+sys) | CPU ÷ (start-up + read/write) | peak RSS MiB | RSS − size MiB |");
    console.log("|---|---:|---|---:|---:|---:|---:|---:|---:|");
    console.log(rows.join("\n"));
    console.log(`\nnode ${process.version}; ${execFileSync("nproc", { encoding: "utf8" }).trim()} cores; load average at the end ${(await import("node:os")).loadavg().map((x) => x.toFixed(1)).join(" ")}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
