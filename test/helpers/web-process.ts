// Starts `onnx-reparam web --port 0` as a child process and reads the URL it prints; the
// caller fetches from it and stops it. Bounded: a command that prints no URL in time fails.
import { spawn, type ChildProcess } from "node:child_process";

export interface WebProcess { url: string; child: ChildProcess; stop(): Promise<void> }

export function startWeb(command: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<WebProcess> {
  return new Promise((resolve, reject) => {
    // its own process group: `npx` runs the CLI as a child of its own, and stop() ends both
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let out = "", err = "";
    const stop = () => new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once("exit", () => done());
      try { process.kill(-child.pid!, "SIGTERM"); } catch { child.kill("SIGTERM"); }
    });
    const timer = setTimeout(() => { void stop(); reject(new Error(`no URL from ${command} ${args.join(" ")} in time:\n${out}\n${err}`)); }, opts.timeoutMs ?? 120_000);
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const m = /serving the page at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ url: m[1], child, stop }); }
    });
    child.stderr!.setEncoding("utf8").on("data", (d: string) => { err += d; });
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`${command} ${args.join(" ")} exited (${code}) before serving:\n${out}\n${err}`)); });
  });
}
