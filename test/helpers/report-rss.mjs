// Preloaded into a CLI child (node --import): at exit, the process's peak resident set
// (VmHWM, kB) as one stderr line the test reads. process.exit() still runs 'exit' handlers.
import { writeSync } from "node:fs";
process.on("exit", () => writeSync(2, `peak-rss-kb ${process.resourceUsage().maxRSS}\n`));
