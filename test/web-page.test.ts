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
import { wasmTextRuntime } from "./helpers/wasm-text-runtime.ts";
import { decodeModelBytes } from "../passes/io/codec.ts";
import { parseNames } from "../passes/vocab/names-metadata.ts";
import { loadModel } from "../passes/io/model-io.ts";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
if (!CHROMIUM) console.warn("web-page.test.ts: SKIPPED, no Chromium at /usr/bin/chromium (apt-get install -y chromium; .ci/run installs it)");
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const VOCAB = "models/fixtures/vocab";
const CLIP = fixturePath("clip-tiny");

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


  // One page for what follows, reused run after run as a user would (no reload in between).
  let shared: Page | undefined;
  const sharedPage = async () => (shared ??= await open());
  const state = (page: Page) => page.getByTestId("status").evaluate((el) => ({ state: el.dataset.state ?? "", run: Number(el.dataset.run ?? 0), text: el.textContent ?? "" }));

  /** Clicks the button and waits for this run's verdict (the status remembers which run it shows). */
  async function rerun(page: Page): Promise<{ state: string; status: string }> {
    const before = (await state(page)).run;
    expect(await page.getByTestId("run").isEnabled(), "the run button is enabled").toBe(true);
    await page.getByTestId("run").click();
    await page.waitForFunction((n) => {
      const el = document.querySelector("[data-testid=status]") as HTMLElement;
      return Number(el.dataset.run ?? 0) > n && ["done", "error"].includes(el.dataset.state ?? "");
    }, before, { timeout: 240_000 });
    const s = await state(page);
    return { state: s.state, status: s.text };
  }

  /** Back to no optional files, no typed names, no picks, default tolerances. */
  async function reset(page: Page): Promise<void> {
    for (const id of ["text-input", "names-input", "encoder-model", "encoder-tokenizer"]) await page.getByTestId(id).setInputFiles([]);
    await page.getByTestId("new-names").evaluate((el: HTMLTextAreaElement) => { el.value = ""; el.dispatchEvent(new Event("input")); });
    if (await page.getByTestId("class-clear").isVisible()) await page.getByTestId("class-clear").click();
    await page.locator("#atol").fill("");
    await page.locator("#rtol").fill("");
  }

  async function downloaded(page: Page, testid: string): Promise<{ name: string; bytes: Buffer }> {
    const [dl] = await Promise.all([page.waitForEvent("download"), page.getByTestId(testid).click()]);
    return { name: dl.suggestedFilename(), bytes: readFileSync((await dl.path())!) };
  }

  it("runs again without a reload: same model twice, then another; downloads named X.rep.onnx / X.rep.report.json", async () => {
    const page = await sharedPage();
    const first = fixturePath("full-bn-einsum-op17-static.onnx");
    await page.getByTestId("model-input").setInputFiles(first);
    const a = await rerun(page);
    expect(a.state, a.status).toBe("done");
    const modelA = await downloaded(page, "download-model");
    expect(modelA.name).toBe("full-bn-einsum-op17-static.rep.onnx");
    expect((await downloaded(page, "download-report")).name).toBe("full-bn-einsum-op17-static.rep.report.json");
    const b = await rerun(page); // the same files, once more
    expect(b.state, b.status).toBe("done");
    expect(Buffer.compare((await downloaded(page, "download-model")).bytes, modelA.bytes), "a second run gives the same bytes").toBe(0);
    await page.getByTestId("model-input").setInputFiles(fixturePath("ultralytics-world-op17-dynamic.onnx"));
    const c = await rerun(page);
    expect(c.state, c.status).toBe("done");
    expect((await downloaded(page, "download-model")).name).toBe("ultralytics-world-op17-dynamic.rep.onnx");
    expect(await page.getByTestId("run").isEnabled()).toBe(true);
  });

  it("lists the model's class names from its names metadata; tick, type, reorder by keyboard", async () => {
    const page = await sharedPage();
    await reset(page);
    const model = fixturePath("ultralytics-world-op20-static-meta.onnx");
    const meta = loadModel(model).proto.metadata_props!.find((p) => p.key === "names")!.value!;
    const names = parseNames(meta)!.names;
    expect(names.length).toBe(80);
    await page.getByTestId("model-input").setInputFiles(model);
    const boxes = page.locator("[data-testid=class-list] input[type=checkbox]");
    await expect.poll(() => boxes.count()).toBe(80);
    const listed = await page.locator("[data-testid=class-list] label").allTextContents();
    expect(listed.map((t) => t.replace(/^\d+\s*/, "").trim())).toEqual(names);
    // Tick "car" (2), then type "bus, 0" (a name and an index), then filter and tick "teddy bear".
    await boxes.nth(2).check();
    await page.getByTestId("class-typed").fill("bus, 0, unicorn");
    await page.getByTestId("class-typed").press("Enter");
    await expect.poll(() => page.getByTestId("class-msg").textContent()).toContain("“unicorn”");
    await page.getByTestId("class-filter").fill("tEdDy");
    await expect.poll(() => page.locator("[data-testid=class-list] label:visible").count()).toBe(1);
    await page.locator("[data-testid=class-list] label:visible input").check();
    const chosen = () => page.locator("[data-testid=class-chosen] li .name").allTextContents();
    expect(await chosen()).toEqual(["car", "bus", "person", "teddy bear"]);
    // Keyboard only: focus "person"'s up button and press Enter twice; Alt+ArrowDown on "car".
    await page.getByRole("button", { name: "Move person up" }).focus();
    await page.keyboard.press("Enter");
    await page.keyboard.press("Enter"); // focus stays on the moved entry's button
    expect(await chosen()).toEqual(["person", "car", "bus", "teddy bear"]);
    await page.locator("[data-testid=class-chosen] li", { hasText: "car" }).focus();
    await page.keyboard.press("Alt+ArrowDown");
    expect(await chosen()).toEqual(["person", "bus", "car", "teddy bear"]);
    await page.getByRole("button", { name: "Remove bus" }).click();
    expect(await chosen()).toEqual(["person", "car", "teddy bear"]);
    expect(await boxes.nth(5).isChecked()).toBe(false);
    expect(await page.getByTestId("run").textContent()).toBe("Keep 3 classes, rewrite and prove");
    // The run keeps those classes in that order, as `reparam --classes person,car,"teddy bear"` does.
    const r = await rerun(page);
    expect(r.state, r.status).toBe("done");
    expect(r.status).toMatch(/kept 3 of 80 classes/);
    const got = await downloaded(page, "download-model");
    expect(got.name).toBe("ultralytics-world-op20-static-meta.3cls.onnx");
    const cliDir = mkdtempSync(join(dir, "cli-cls-"));
    const cli = await reparamFile({ input: model, output: join(cliDir, "out.onnx"), classes: ["person", "car", "teddy bear"] });
    expect(cli.exitCode, cli.message).toBe(EXIT.OK);
    expect(Buffer.compare(got.bytes, readFileSync(join(cliDir, "out.onnx"))), "page and CLI wrote different bytes").toBe(0);
    expect(parseNames(decodeModelBytes(got.bytes, "page").metadata_props!.find((p) => p.key === "names")!.value!)!.names).toEqual(["person", "car", "teddy bear"]);
    await page.getByTestId("class-clear").click();
    await page.getByTestId("class-filter").fill("");
  });

  it("typed names + a text encoder chosen in the page give the model `reparam --encoder DIR --names FILE` writes, byte for byte", async () => {
    const page = await sharedPage();
    await reset(page);
    const model = fixturePath("ultralytics-world-op20-static-meta.onnx");
    const typed = ["forklift", "hard hat", "person", "pallet jack", "safety vest ✓", "Überkopf-Kran", "叉车"];
    await page.getByTestId("model-input").setInputFiles(model);
    await page.locator("#encoder summary").click();
    await page.getByTestId("new-names").fill(typed.join("\n"));
    await page.getByTestId("encoder-model").setInputFiles(join(CLIP, "onnx", "text_model.onnx"));
    await page.getByTestId("encoder-tokenizer").setInputFiles(["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"].map((f) => join(CLIP, f)));
    expect(await page.getByTestId("run").textContent()).toBe(`Retarget to ${typed.length} classes and prove`);
    const r = await rerun(page);
    expect(r.state, r.status).toBe("done");
    const got = await downloaded(page, "download-model");
    expect(got.name).toBe(`ultralytics-world-op20-static-meta.${typed.length}cls.onnx`);
    const report = JSON.parse((await downloaded(page, "download-report")).bytes.toString("utf8"));
    expect(report.output).toBe(got.name);
    expect(report.vocabulary).toMatchObject({ from: 80, to: typed.length, names: "set" });
    // The CLI's job on the same files: names from a file, the encoder from its folder.
    const cliDir = mkdtempSync(join(dir, "cli-enc-"));
    const namesFile = join(cliDir, "names.txt");
    writeFileSync(namesFile, typed.join("\n"));
    const same = await reparamFile({ input: model, output: join(cliDir, "wasm.onnx"), encoder: CLIP, names: namesFile, encoderRuntime: wasmTextRuntime });
    expect(same.exitCode, same.message).toBe(EXIT.OK);
    expect(Buffer.compare(got.bytes, readFileSync(join(cliDir, "wasm.onnx"))), "page and CLI (text model on the same WASM engine) wrote different bytes").toBe(0);
    // The CLI as shipped runs the text model on onnxruntime-node's native kernels, which round
    // differently in the last bits: the same model but for float noise in the new text weights.
    const native = await reparamFile({ input: model, output: join(cliDir, "native.onnx"), encoder: CLIP, names: namesFile });
    expect(native.exitCode, native.message).toBe(EXIT.OK);
    const a = decodeModelBytes(got.bytes, "page"), b = decodeModelBytes(readFileSync(join(cliDir, "native.onnx")), "cli");
    expect(a.metadata_props).toEqual(b.metadata_props);
    expect(a.graph!.node!.map((n) => [n.op_type, n.input, n.output])).toEqual(b.graph!.node!.map((n) => [n.op_type, n.input, n.output]));
    const inits = (m: typeof a) => new Map(m.graph!.initializer!.map((t) => [t.name, t]));
    const [ia, ib] = [inits(a), inits(b)];
    expect([...ia.keys()]).toEqual([...ib.keys()]);
    let differ = 0, worst = 0;
    for (const [name, t] of ia) {
      const u = ib.get(name)!;
      expect(t.dims, name).toEqual(u.dims);
      const x = t.raw_data!, y = u.raw_data!;
      if (Buffer.compare(Buffer.from(x), Buffer.from(y)) === 0) continue;
      differ++;
      expect(t.data_type, `${name} differs and is not float32`).toBe(1);
      const fx = new Float32Array(Uint8Array.from(x).buffer), fy = new Float32Array(Uint8Array.from(y).buffer);
      for (let i = 0; i < fx.length; i++) worst = Math.max(worst, Math.abs(fx[i] - fy[i]));
    }
    expect(differ, "the native text model rounds differently (else this comparison proves nothing)").toBeGreaterThan(0);
    expect(worst, `${differ} initializers differ`).toBeLessThan(1e-4);
    console.log(`web-page: page vs CLI with onnxruntime-node's text model: ${differ} initializer(s) differ, max abs ${worst.toExponential(2)}`);
  });


  it("errors name the page's controls, never a CLI flag", async () => {
    const page = await sharedPage();
    await reset(page);
    await page.getByTestId("model-input").setInputFiles(fixturePath("ultralytics-world-op20-static-meta.onnx"));
    const flag = /(^|\s|\()--?[a-z]/;
    // Names without text: the library says "--names ... give --text-embed (or --encoder) too".
    await page.getByTestId("names-input").setInputFiles(`${VOCAB}/names-k20.txt`);
    const a = await rerun(page);
    expect(a.state).toBe("error");
    expect(a.status).toMatch(/“Class names”.*“Text embeddings \(\.npy\)”.*“Text encoder”/);
    expect(a.status).not.toMatch(flag);
    // Typed names and a names file at once; a tokenizer without its model; an encoder without names.
    await page.getByTestId("new-names").evaluate((el: HTMLTextAreaElement) => { el.value = "cat\ndog"; el.dispatchEvent(new Event("input")); });
    const b = await rerun(page);
    expect([b.state, b.status]).toEqual(["error", "Cannot use this input: class names come from “Class names (.txt/.json)” or from “New class names”: clear one of them"]);
    await reset(page);
    await page.getByTestId("encoder-tokenizer").setInputFiles(join(CLIP, "tokenizer.json"));
    await page.getByTestId("new-names").evaluate((el: HTMLTextAreaElement) => { el.value = "cat\ndog"; el.dispatchEvent(new Event("input")); });
    const c = await rerun(page);
    expect(c.status).toMatch(/no text encoder model: choose its \.onnx under “Text encoder \(\.onnx\)”/);
    // A text embedding with the wrong width: the library names the file; with an encoder too it names both controls.
    await reset(page);
    await page.getByTestId("text-input").setInputFiles(`${VOCAB}/texts-k20.npy`);
    await page.getByTestId("encoder-model").setInputFiles(join(CLIP, "onnx", "text_model.onnx"));
    await page.getByTestId("encoder-tokenizer").setInputFiles(join(CLIP, "tokenizer.json"));
    await page.getByTestId("new-names").evaluate((el: HTMLTextAreaElement) => { el.value = "cat\ndog"; el.dispatchEvent(new Event("input")); });
    const d = await rerun(page);
    expect(d.status).toMatch(/^Cannot use this input: “Text encoder” \(model and tokenizer\.json\) computes the text embeddings “Text embeddings \(\.npy\)” would give/);
    expect(d.status).not.toMatch(flag);
    await reset(page);
  });

  it("the proof table explains its columns; the relative difference only where the reference is not near 0", async () => {
    const page = await sharedPage();
    await reset(page);
    // This export's box outputs stay below atol/rtol = 1 everywhere, and cls0 has values near 0.
    await page.getByTestId("model-input").setInputFiles(fixturePath("full-bn-einsum-op17-static.onnx"));
    const r = await rerun(page);
    expect(r.state, r.status).toBe("done");
    const report = JSON.parse((await downloaded(page, "download-report")).bytes.toString("utf8"));
    const table = page.getByTestId("proof-table");
    expect(await page.getByTestId("proof-caption").textContent()).toMatch(/passes when \|Δ\| ≤ atol \+ rtol·\|original\|/);
    const titles = await table.locator("th").evaluateAll((ths) => ths.map((th) => th.getAttribute("title") ?? ""));
    expect(titles).toHaveLength(7);
    for (const t of titles) expect(t.length).toBeGreaterThan(10);
    const cells = await table.getByTestId("rel").allTextContents();
    const outputs = report.validation.outputs as Array<{ maxRelDiff: number; relevantMaxRelDiff: number | null; maxAbsDiff: number }>;
    expect(cells).toHaveLength(outputs.length);
    outputs.forEach((o, i) => {
      if (o.relevantMaxRelDiff === null) expect(cells[i]).toBe("—");
      else expect(Number(cells[i])).toBeCloseTo(o.relevantMaxRelDiff, 6);
    });
    expect(cells.filter((c) => c === "—").length, "some output never leaves the near-0 range").toBeGreaterThan(0);
    expect(await page.getByTestId("rel-note").textContent()).toMatch(/atol\/rtol = 1\b/);
    // The raw ratio, dominated by values near 0, is far above what is shown.
    expect(outputs.some((o) => o.relevantMaxRelDiff !== null && o.maxRelDiff > 1000 * o.relevantMaxRelDiff)).toBe(true);
  });

  it("works at 360 px: nothing wider than the screen, every control inside it (screenshot kept)", async () => {
    const page = await sharedPage();
    await reset(page);
    await page.setViewportSize({ width: 360, height: 780 });
    await page.getByTestId("model-input").setInputFiles(fixturePath("ultralytics-world-op20-static-meta.onnx"));
    await expect.poll(() => page.locator("[data-testid=class-list] input").count()).toBe(80);
    await page.getByTestId("class-typed").fill("person, traffic light, 16");
    await page.getByTestId("class-add").click();
    await page.locator("#encoder summary").click();
    const r = await rerun(page);
    expect(r.state, r.status).toBe("done");
    const fit = await page.evaluate(() => {
      const w = window.innerWidth;
      const outside = [...document.querySelectorAll<HTMLElement>("input, button, select, textarea, label, h1, h2, p, a, summary, legend, li, caption")]
        .filter((el) => el.offsetParent !== null && !el.closest(".scroll"))
        .filter((el) => { const b = el.getBoundingClientRect(); return b.left < -0.5 || b.right > w + 0.5; })
        .map((el) => `${el.tagName.toLowerCase()}#${el.id || el.dataset.testid || ""} ${el.textContent?.slice(0, 30)}`);
      return { w, scroll: document.documentElement.scrollWidth, body: document.body.scrollWidth, outside };
    });
    expect(fit.w).toBe(360);
    expect(fit.scroll, "the page scrolls sideways").toBeLessThanOrEqual(fit.w);
    expect(fit.body).toBeLessThanOrEqual(fit.w);
    expect(fit.outside).toEqual([]);
    await page.screenshot({ path: process.env.WEB_SCREENSHOT_360 ?? join(dir, "page-360.png"), fullPage: true });
    await page.context().close();
  });

  it("loaded nothing from outside the page's own server, and its security policy blocked nothing", () => {
    expect(external).toEqual([]);
    expect(refused).toEqual([]);
  });
});
