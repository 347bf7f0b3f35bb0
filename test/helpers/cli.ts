// Runs the real CLI (node cli/bin.js) as a child process, from the repo root.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { REPO } from "./fixtures.ts";

export interface CliRun { code: number | null; stdout: string; stderr: string }

// The timeout only catches a hung CLI: on a loaded 2-core machine, with a test file's CLI
// runs started together, one run of a K=1203 model took over 30 s.
export function runCli(args: string[], timeoutMs = 90_000): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(REPO, "cli", "bin.js"), ...args], {
      cwd: REPO, env: { ...process.env, NODE_NO_WARNINGS: "1", DEBUG: "" }, stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "", stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => { stdout += d; });
    child.stderr.setEncoding("utf8").on("data", (d: string) => { stderr += d; });
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`CLI timed out: ${args.join(" ")}`)); }, timeoutMs);
    child.on("error", (e) => { clearTimeout(timer); reject(e); });
    child.on("close", (code) => { clearTimeout(timer); resolvePromise({ code, stdout, stderr }); });
  });
}

/** stderr lines that are not ONNX Runtime's own log output. */
export const ownStderrLines = (stderr: string): string[] => stderr.split("\n").filter((l) => l !== "" && !/onnxruntime:/.test(l));
