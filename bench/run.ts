// Runs benches: the modules named on the command line, or every bench/*.ts that exports
// run(). One process for all, in sequence, so no two benches compete for the CPU.
import { readdirSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

function benchFiles(args: string[]): string[] {
  if (args.length) {
    // "codec-throughput", "bench/codec-throughput.ts" and an absolute path all work.
    return args.map((a) => (a.includes("/") || a.endsWith(".ts") ? resolve(a) : join(here, `${a}.ts`)));
  }
  return readdirSync(here).filter((f) => f.endsWith(".ts") && f !== "run.ts" && !f.endsWith(".d.ts")).sort().map((f) => join(here, f));
}

let failed = 0;
for (const file of benchFiles(process.argv.slice(2))) {
  const mod = (await import(pathToFileURL(file).href)) as { run?: () => Promise<void> };
  if (typeof mod.run !== "function") continue;
  console.log(`\n## ${basename(file, ".ts")}\n`);
  try {
    await mod.run();
  } catch (e) {
    failed++;
    console.error(`${basename(file)} failed: ${e instanceof Error ? e.stack : e}`);
  }
}
if (failed) process.exitCode = 1;
