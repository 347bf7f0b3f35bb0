// The page's own speed: pass and proof in Chromium (onnxruntime-web, WASM) next to the
// CLI's job in Node (onnxruntime-node, 2 threads) on the same machine, for the demo model and
// the v2-S-config exports when given. The page runs twice per round: as served (cross-origin
// isolated, so onnxruntime-web uses min(4, cores) threads) and with the document's COOP/COEP
// headers stripped in the browser (not isolated: one thread, as from a plain static host):
//   V2S_MODELS=$(ls /tmp/v2s/v2s-einsum-*.onnx | paste -sd,) npm run bench -- bench/web-page.ts
// Skips without Debian's Chromium. Both sides cold, as a user meets them: the CLI is the real
// command (a process: Node and tsx start-up included), the page a fresh tab (WASM compile
// included). Best of ROUNDS, CLI and page alternating. The page also times original and
// rewritten model itself (median of 5 runs).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildWeb } from "../web/build.ts";
import { serveStatic } from "../cli/web.ts";

const CHROMIUM = "/usr/bin/chromium";
const DEMO = fileURLToPath(new URL("../models/fixtures/full-bn-einsum-op17-static.onnx", import.meta.url));
const BIN = fileURLToPath(new URL("../cli/bin.js", import.meta.url));
const ROUNDS = Number(process.env.WEB_ROUNDS ?? 2);
const s = (ms: number | undefined) => (ms === undefined ? "" : (ms / 1000).toFixed(2));

/** Wall time of `onnx-reparam reparam` as a process, and its sites. */
function cli(model: string, out: string, validate: boolean): { ms: number; sites: number } {
  const t = performance.now();
  const json = execFileSync(process.execPath, [BIN, "reparam", model, "-o", out, "--json", ...(validate ? [] : ["--no-validate"])], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 1 << 28 });
  return { ms: performance.now() - t, sites: (JSON.parse(json) as { sites: Array<{ status: string }> }).sites.filter((x) => x.status === "rewritten").length };
}
export async function run(): Promise<void> {
  if (!existsSync(CHROMIUM)) { console.log(`web-page: no Chromium at ${CHROMIUM}; skipped.`); return; }
  const models = [DEMO, ...(process.env.V2S_MODELS ?? "").split(",").filter(Boolean)];
  if (models.length === 1) console.log("web-page: set V2S_MODELS=a.onnx,... for v2-S-sized exports (models/gen/export_v2s.py); the demo model only.");
  const dir = mkdtempSync(join(tmpdir(), "web-bench-"));
  await buildWeb(join(dir, "page"));
  const { server, url } = await serveStatic(join(dir, "page"), 0);
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
  const rows: Array<Record<string, string>> = [];
  try {
    for (const model of models) {
      const out = join(dir, "out.onnx");
      const best: Record<string, number> = {};
      const keep = (k: string, v: number | undefined) => { if (v !== undefined) best[k] = Math.min(best[k] ?? Infinity, v); };
      let sites = 0, threads = "?";
      for (let round = 0; round < ROUNDS; round++) {
        keep("cliPass", cli(model, out, false).ms);
        const full = cli(model, out, true);
        keep("cliTotal", full.ms);
        sites = full.sites;
        for (const isolated of [true, false]) {
          const page = await (await browser.newContext()).newPage();
          if (!isolated) {
            await page.route(url, async (route) => {
              const response = await route.fetch();
              const headers = Object.fromEntries(Object.entries(response.headers()).filter(([k]) => !/^cross-origin-(opener|embedder)-policy$/i.test(k)));
              await route.fulfill({ response, headers });
            });
          }
          await page.goto(url);
          if ((await page.evaluate(() => crossOriginIsolated)) !== isolated) throw new Error(`the page is ${isolated ? "not " : ""}cross-origin isolated`);
          await page.getByTestId("model-input").setInputFiles(model);
          if (round === 0) await page.locator("#bench").check();
          await page.getByTestId("run").click();
          await page.waitForFunction(() => ["done", "error"].includes((document.querySelector("[data-testid=status]") as HTMLElement).dataset.state ?? ""), null, { timeout: 1_800_000 });
          const status = page.getByTestId("status");
          if ((await status.getAttribute("data-state")) !== "done") throw new Error(`${basename(model)}: ${await status.textContent()}`);
          const w = JSON.parse((await status.getAttribute("data-timings"))!) as Record<string, number>;
          const runtime = (await page.getByTestId("report").textContent())?.match(/\(wasm, (\d+) threads?\)/)?.[1];
          await page.context().close();
          const k = isolated ? "" : "1t";
          if (isolated) threads = runtime ?? "?";
          keep(`pass${k}`, w.pass); keep(`proof${k}`, w.proof); keep(`total${k}`, w.total);
          keep(`benchOriginal${k}`, w.benchOriginal); keep(`benchRewritten${k}`, w.benchRewritten);
        }
      }
      rows.push({
        model: basename(model), MB: (statSync(model).size / 2 ** 20).toFixed(1), sites: String(sites),
        "CLI --no-validate s": s(best.cliPass), "CLI s": s(best.cliTotal),
        threads, "page pass s": s(best.pass), "page proof s": s(best.proof), "page pass+proof s": s(best.total),
        "1 thread: proof s": s(best.proof1t), "pass+proof s": s(best.total1t),
        "page run: original ms": best.benchOriginal?.toFixed(0) ?? "", "rewritten ms": best.benchRewritten?.toFixed(0) ?? "",
        "speed-up": best.benchOriginal ? (best.benchOriginal / best.benchRewritten).toFixed(2) : "",
        "1 thread: original ms": best.benchOriginal1t?.toFixed(0) ?? "", "rewritten ms ": best.benchRewritten1t?.toFixed(0) ?? "",
      });
    }
  } finally {
    await browser.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.table(rows);
}
