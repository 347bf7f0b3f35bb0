// The page in a real browser: Debian's Chromium driven by playwright-core, the page built
// and served on 127.0.0.1 as `onnx-reparam web` serves it. For each fixture the page's
// download must be byte-identical to what reparamFile (the CLI's job) writes, with the
// same sites and verdict. Skips, saying so, where no Chromium is installed (CI installs it).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { Server } from "node:http";
import type { Browser, Page } from "playwright-core";
import { buildWeb } from "../web/build.ts";
import { serveStatic } from "../cli/web.ts";
import { reparamFile } from "../passes/job/reparam-file.ts";
import { EXIT } from "../passes/errors.ts";
import { fixturePath } from "./helpers/fixtures.ts";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
if (!CHROMIUM) console.warn("web-page.test.ts: SKIPPED, no Chromium at /usr/bin/chromium (apt-get install -y chromium; .ci/run installs it)");
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const VOCAB = "models/fixtures/vocab";

interface Case { name: string; model: string; text?: string; names?: string; neckForm?: "conv" | "per-head" | "matmul"; bench?: boolean }
const CASES: Case[] = [
  { name: "static einsum export", model: fixturePath("full-bn-einsum-op17-static.onnx") },
  { name: "dynamic-batch Ultralytics export, matmul neck", model: fixturePath("ultralytics-world-op17-dynamic.onnx"), neckForm: "matmul" },
  { name: "baked text retargeted to K' = 20 with names", model: fixturePath("ultralytics-world-op20-static-meta.onnx"), text: `${VOCAB}/texts-k20.npy`, names: `${VOCAB}/names-k20.txt`, bench: true },
];

describe.skipIf(!CHROMIUM)("the page in Chromium", () => {
  let dir: string, server: Server, url: string, browser: Browser;
  const external: string[] = [];
  const refused: string[] = []; // what the Content-Security-Policy blocked, page or worker
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "web-page-"));
    await buildWeb(join(dir, "page"));
    ({ server, url } = await serveStatic(join(dir, "page"), 0));
    const { chromium } = await import("playwright-core");
    // playwright gives every launch a fresh profile directory of its own.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
    server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(): Promise<Page> {
    const page = await (await browser.newContext({ acceptDownloads: true })).newPage();
    page.on("request", (r) => { if (!r.url().startsWith(url) && !r.url().startsWith("blob:") && !r.url().startsWith("data:")) external.push(r.url()); });
    page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) refused.push(m.text()); });
    await page.goto(url);
    return page;
  }

  async function run(page: Page, c: Case): Promise<{ state: string; status: string }> {
    await page.getByTestId("model-input").setInputFiles(c.model);
    if (c.text) await page.getByTestId("text-input").setInputFiles(c.text);
    if (c.names) await page.getByTestId("names-input").setInputFiles(c.names);
    if (c.neckForm) await page.locator("#neck-form").selectOption(c.neckForm);
    if (c.bench) await page.locator("#bench").check();
    await page.getByTestId("run").click();
    const status = page.getByTestId("status");
    await page.waitForFunction(() => ["done", "error"].includes((document.querySelector("[data-testid=status]") as HTMLElement).dataset.state ?? ""), null, { timeout: 240_000 });
    return { state: (await status.getAttribute("data-state"))!, status: (await status.textContent())! };
  }

  async function download(page: Page, testid: string): Promise<Buffer> {
    const [dl] = await Promise.all([page.waitForEvent("download"), page.getByTestId(testid).click()]);
    return readFileSync((await dl.path())!);
  }

  for (const c of CASES) {
    it(`${c.name}: the download equals the CLI's output, same sites and verdict`, async () => {
      const page = await open();
      const { state, status } = await run(page, c);
      expect(state, status).toBe("done");
      const model = await download(page, "download-model");
      const report = JSON.parse((await download(page, "download-report")).toString("utf8"));
      const cliDir = mkdtempSync(join(dir, "cli-"));
      const out = join(cliDir, "out.onnx"), rep = join(cliDir, "report.json");
      const cli = await reparamFile({ input: c.model, output: out, report: rep, textEmbed: c.text, names: c.names, neckForm: c.neckForm });
      expect(cli.exitCode, cli.message).toBe(EXIT.OK);
      const cliReport = JSON.parse(readFileSync(rep, "utf8"));
      expect(Buffer.compare(model, readFileSync(out)), "page and CLI wrote different bytes").toBe(0);
      expect(report.exitCode).toBe(0);
      expect(report.input).toBe(basename(c.model));
      expect(report.sites).toEqual(cliReport.sites);
      expect(report.unmatched).toEqual(cliReport.unmatched);
      expect(report.removed).toEqual(cliReport.removed);
      expect(report.validation.passed).toBe(true);
      expect(report.validation.passed).toBe(cliReport.validation.passed);
      expect(report.validation.outputs.map((o: { name: string; passed: boolean }) => [o.name, o.passed])).toEqual(cliReport.validation.outputs.map((o: { name: string; passed: boolean }) => [o.name, o.passed]));
      expect(report.validation.runs.map((r: { inputs: unknown }) => r.inputs)).toEqual(cliReport.validation.runs.map((r: { inputs: unknown }) => r.inputs));
      if (c.text) {
        expect({ ...report.vocabulary, source: null }).toEqual({ ...cliReport.vocabulary, source: null });
        expect(report.vocabulary).toMatchObject({ from: 80, to: 20, names: "set", proof: "padded" });
      }
      // Served cross-origin isolated, so onnxruntime-web runs on min(4, cores) threads.
      const threads = await page.evaluate(() => (crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency) : 0));
      expect(threads).toBeGreaterThan(0);
      expect(await page.getByTestId("report").textContent()).toContain(`(wasm, ${threads} thread${threads === 1 ? "" : "s"})`);
      // What the page shows: one line per site, a PASS per output.
      expect(await page.locator("[data-testid=report] h2", { hasText: "Sites" }).count()).toBe(1);
      expect(await page.locator("[data-testid=report] td.pass", { hasText: "PASS" }).count()).toBe(report.validation.outputs.length);
      if (c.bench) {
        const speedup = await page.locator("[data-testid=report] th.num", { hasText: "×" }).textContent();
        expect(Number(speedup!.replace("×", ""))).toBeGreaterThan(0);
        if (process.env.WEB_SCREENSHOT) await page.screenshot({ path: process.env.WEB_SCREENSHOT, fullPage: true });
      }
      await page.context().close();
    });
  }

  it("a corrupt or truncated file gets one clear message, and no download", async () => {
    const page = await open();
    const bytes = readFileSync(fixturePath("full-bn-einsum-op17-static.onnx"));
    const truncated = join(dir, "truncated.onnx"), text = join(dir, "notes.onnx");
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    writeFileSync(text, "this is not a model\n".repeat(20));
    for (const [file, expected] of [[truncated, /truncated\.onnx: not a valid ONNX model: truncated/], [text, /notes\.onnx: not a valid ONNX model/]] as const) {
      const { state, status } = await run(page, { name: "bad", model: file });
      expect(state).toBe("error");
      expect(status).toMatch(/^Cannot use this input: /);
      expect(status).toMatch(expected);
      expect(status.split("\n")).toHaveLength(1);
      expect(await page.getByTestId("download-model").count()).toBe(0);
    }
    await page.context().close();
  });

  it("nothing to rewrite and a failed proof: one line each, as the CLI decides; a failed proof offers the report, not the model", async () => {
    const page = await open();
    const cliDir = mkdtempSync(join(dir, "cli-"));
    const rewritten = join(cliDir, "already.onnx");
    expect((await reparamFile({ input: fixturePath("full-bn-einsum-op17-static.onnx"), output: rewritten, validate: false })).exitCode).toBe(EXIT.OK);
    const none = await run(page, { name: "none", model: rewritten });
    expect(none.state).toBe("error");
    expect(none.status).toMatch(/^Nothing to rewrite: no head or neck contraction found$/);
    // atol = rtol = 0: no re-associated float sum survives that, in either runtime.
    await page.locator("#atol").fill("0");
    await page.locator("#rtol").fill("0");
    const failed = await run(page, { name: "strict", model: fixturePath("full-bn-einsum-op17-static.onnx") });
    expect(failed.state).toBe("error");
    expect(failed.status).toMatch(/^Proof failed: validation failed \(.*needs atol .* > 0\); nothing written/);
    expect(await page.getByTestId("download-model").count()).toBe(0);
    const report = JSON.parse((await download(page, "download-report")).toString("utf8"));
    const cli = await reparamFile({ input: fixturePath("full-bn-einsum-op17-static.onnx"), output: join(cliDir, "strict.onnx"), tolerance: { atol: 0, rtol: 0 } });
    expect([report.exitCode, report.output, report.validation.passed]).toEqual([EXIT.VALIDATION_FAILED, null, false]);
    expect(cli.exitCode).toBe(EXIT.VALIDATION_FAILED);
    expect(await page.locator("[data-testid=report] td.fail", { hasText: "FAIL" }).count()).toBeGreaterThan(0);
    await page.context().close();
  });

  it("loaded nothing from outside the page's own server, and its security policy blocked nothing", () => {
    expect(external).toEqual([]);
    expect(refused).toEqual([]);
  });
});
