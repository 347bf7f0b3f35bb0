// The page: collects the files and options, hands them to the worker, and shows what the
// CLI would print and write: sites, vocabulary, proof table, op counts, downloads.
import type { Done, RunRequest, WorkerMessage } from "./protocol.ts";
import type { ReparamReport } from "../../passes/job/reparam-job.ts";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const modelInput = $<HTMLInputElement>("model"), textInput = $<HTMLInputElement>("text"), namesInput = $<HTMLInputElement>("names");
const runButton = $<HTMLButtonElement>("run"), status = $("status"), log = $("log"), reportEl = $("report");
const MAX_BYTES = 2 ** 31 - 1; // an ONNX protobuf cannot be larger

const chosen: { model?: File; text?: File; names?: File } = {};
let worker: Worker | null = null;
let urls: string[] = [];

function setStatus(state: "idle" | "running" | "done" | "error", text: string): void {
  status.dataset.state = state;
  status.textContent = text;
}

function esc(s: unknown): string {
  return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

const fmt = (x: number) => (x === 0 ? "0" : Math.abs(x) >= 1e-2 && Math.abs(x) < 1e4 ? x.toPrecision(4) : x.toExponential(2));
const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;

function refresh(): void {
  runButton.disabled = !chosen.model || status.dataset.state === "running";
  if (status.dataset.state === "idle" || status.dataset.state === undefined) {
    setStatus("idle", chosen.model ? `Ready: ${chosen.model.name} (${mb(chosen.model.size)})${chosen.text ? ` + ${chosen.text.name}` : ""}${chosen.names ? ` + ${chosen.names.name}` : ""}` : "Choose a model.");
  }
}

function take(files: Iterable<File>): void {
  for (const f of files) {
    if (/\.npy$/i.test(f.name)) chosen.text = f;
    else if (/\.(txt|json)$/i.test(f.name)) chosen.names = f;
    else chosen.model = f;
  }
  if (status.dataset.state !== "running") status.dataset.state = "idle";
  refresh();
}

modelInput.addEventListener("change", () => { if (modelInput.files?.[0]) chosen.model = modelInput.files[0]; status.dataset.state = "idle"; refresh(); });
textInput.addEventListener("change", () => { chosen.text = textInput.files?.[0]; status.dataset.state = "idle"; refresh(); });
namesInput.addEventListener("change", () => { chosen.names = namesInput.files?.[0]; status.dataset.state = "idle"; refresh(); });
const drop = $("drop");
for (const ev of ["dragenter", "dragover"]) document.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add("over"); });
document.addEventListener("dragleave", () => drop.classList.remove("over"));
document.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); if (e.dataTransfer?.files) take(e.dataTransfer.files); });

$("form").addEventListener("submit", (e) => { e.preventDefault(); void start(); });

function numberOption(id: string): number | undefined {
  const v = $<HTMLInputElement>(id).value.trim();
  return v === "" ? undefined : Number(v);
}

async function start(): Promise<void> {
  const model = chosen.model;
  if (!model) return;
  for (const u of urls) URL.revokeObjectURL(u);
  urls = [];
  reportEl.hidden = true;
  reportEl.innerHTML = "";
  log.textContent = "";
  $("progress").hidden = false;
  if (model.size > MAX_BYTES) return fail(2, `${model.name}: file is ${model.size} bytes; an ONNX protobuf cannot exceed 2 GiB`);
  setStatus("running", `Reading ${model.name} (${mb(model.size)})…`);
  runButton.disabled = true;
  const req: RunRequest = {
    type: "run", model: await model.arrayBuffer(), modelName: model.name,
    textEmbed: chosen.text ? await chosen.text.arrayBuffer() : undefined, textEmbedName: chosen.text?.name,
    names: chosen.names ? await chosen.names.text() : undefined, namesName: chosen.names?.name,
    sites: $<HTMLSelectElement>("sites").value as RunRequest["sites"], neckForm: $<HTMLSelectElement>("neck-form").value as RunRequest["neckForm"],
    atol: numberOption("atol"), rtol: numberOption("rtol"),
    validate: $<HTMLInputElement>("validate").checked, bench: $<HTMLInputElement>("bench").checked,
  };
  worker ??= newWorker();
  // Transferred: the model's bytes move to the worker instead of being copied.
  worker.postMessage(req, [req.model, ...(req.textEmbed ? [req.textEmbed] : [])]);
}

function newWorker(): Worker {
  const w = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  w.onmessage = (e: MessageEvent<WorkerMessage>) => {
    const m = e.data;
    if (m.type === "progress") {
      log.textContent += `${(m.ms / 1000).toFixed(2).padStart(7)} s  ${m.detail}\n`;
      log.scrollTop = log.scrollHeight;
      setStatus("running", `${m.detail}…`);
    } else if (m.type === "error") fail(m.exitCode, m.message);
    else show(m);
  };
  w.onerror = (e) => { e.preventDefault(); worker = null; fail(70, `internal error: the worker stopped (${e.message || "out of memory?"})`); };
  return w;
}

function fail(exitCode: number, message: string): void {
  const kind = exitCode === 3 ? "Nothing to rewrite" : exitCode === 1 ? "Proof failed" : exitCode === 70 ? "Internal error" : "Cannot use this input";
  setStatus("error", `${kind}: ${message.replace(/^nothing to rewrite: /, "")}`);
  status.dataset.exitCode = String(exitCode);
  runButton.disabled = !chosen.model;
}

function download(name: string, data: BlobPart, type: string, testid: string, label: string): string {
  const url = URL.createObjectURL(new Blob([data], { type }));
  urls.push(url);
  return `<a class="button" data-testid="${testid}" href="${url}" download="${esc(name)}">${label}</a>`;
}

function show(d: Done): void {
  const r = d.report;
  status.dataset.exitCode = String(d.exitCode);
  status.dataset.timings = JSON.stringify({ ...d.timings, ...(d.bench && !("error" in d.bench) ? { benchOriginal: d.bench.originalMs, benchRewritten: d.bench.rewrittenMs } : {}) });
  const secs = (k: string) => (d.timings[k] !== undefined ? `${(d.timings[k] / 1000).toFixed(2)} s` : "");
  const timing = `pass ${secs("pass")}${d.timings.proof !== undefined ? `, proof ${secs("proof")}` : ""}, total ${secs("total")}`;
  if (d.exitCode === 0) setStatus("done", `Done: ${d.message} — ${timing}`);
  else fail(d.exitCode, d.message);
  renderReport(d, r, timing);
}

function renderReport(d: Done, r: ReparamReport, timing: string): void {
  const reportName = d.outputName.replace(/\.onnx$/i, "") + ".report.json";
  const links = (d.model ? download(d.outputName, d.model, "application/octet-stream", "download-model", `Download ${esc(d.outputName)} (${mb(d.model.byteLength)})`) : "") +
    download(reportName, JSON.stringify(r, null, 2) + "\n", "application/json", "download-report", "Download report (JSON)");
  const parts = [`<section><h2>Result</h2><p>${links}</p><p class="reason">${esc(d.runtime)}${timing ? ` · ${esc(timing)}` : ""}</p></section>`];
  parts.push(sitesTable(r));
  if (r.vocabulary) parts.push(vocabularyBlock(r));
  if (r.warnings.length) parts.push(`<section><h2>Warnings</h2><ul>${r.warnings.map((w) => `<li>${esc(w)}</li>`).join("")}</ul></section>`);
  if (r.validation) parts.push(proofTable(r));
  parts.push(`<div class="cols">${opsTable(d)}${benchBlock(d)}</div>`);
  parts.push(`<section><details><summary>Report JSON</summary><pre class="json">${esc(JSON.stringify(r, null, 2))}</pre></details></section>`);
  reportEl.innerHTML = parts.join("");
  reportEl.hidden = false;
}

function sitesTable(r: ReparamReport): string {
  const rows = r.sites.map((s) => `<tr><td>${esc(s.kind)}</td><td class="${s.status === "rewritten" ? "pass" : "skip"}">${esc(s.status)}</td><td>${esc(s.form ?? "")}</td><td class="num">${esc(s.k ?? "")}</td><td>${esc(s.output)}${s.status === "skipped" ? `<div class="reason">${esc(s.reason ?? "")}</div>` : ""}</td></tr>`);
  const unmatched = r.unmatched.map((u) => `<tr><td>einsum</td><td class="skip">unmatched</td><td></td><td></td><td>${esc(u.node)}<div class="reason">${esc(u.reason)}</div></td></tr>`);
  const count = (n: number, what: string) => `${n >= 0 ? "removed" : "added"} ${Math.abs(n)} ${what}`;
  const removed = `<p class="reason">${count(r.removed.nodes, "node(s)")}, ${count(r.removed.initializers, "initializer(s)")}${r.boundTextInput ? `; bound text input '${esc(r.boundTextInput)}'` : ""}</p>`;
  return `<section><h2>Sites</h2><table><tr><th>kind</th><th>status</th><th>form</th><th>K</th><th>output / reason</th></tr>${rows.join("")}${unmatched.join("")}</table>${removed}</section>`;
}

function vocabularyBlock(r: ReparamReport): string {
  const v = r.vocabulary!;
  return `<section><h2>Vocabulary</h2><table>
    <tr><th>classes</th><td>${esc(v.from ?? "symbolic")} → ${esc(v.to)}</td><th>text</th><td>${esc(v.text)} (from ${esc(v.source)})</td></tr>
    <tr><th>names</th><td>${esc(v.names)}</td><th>proof</th><td>${esc(v.proof ?? "not validated")}</td></tr>
    ${v.edits.length ? `<tr><th>edits</th><td colspan="3" class="reason">${v.edits.map(esc).join("<br>")}</td></tr>` : ""}</table></section>`;
}

function proofTable(r: ReparamReport): string {
  const v = r.validation!;
  const rows = v.outputs.map((o) => `<tr><td>${esc(o.name)}</td><td>${esc(o.shape.join("×"))}</td><td class="num">${fmt(o.maxAbsDiff)}</td><td class="num">${fmt(o.maxRelDiff)}</td><td class="num">${o.cosine.toFixed(6)}</td><td class="num">${fmt(o.minPassingAtol)}</td><td class="${o.passed ? "pass" : "fail"}">${o.passed ? "PASS" : "FAIL"}</td></tr>`);
  const runs = v.runs.map((run) => run.inputs.map((i) => `${i.name} ${i.shape.join("×")}`).join(", ") + (run.passed ? "" : " (failed)")).join("; ");
  const bk = v.bookkeeping ? `<p class="reason">class bookkeeping (K' &gt; K): ${v.bookkeeping.passed ? "passed" : "FAILED"}</p>` : "";
  return `<section><h2>Proof ${v.passed ? '<span class="pass">PASS</span>' : '<span class="fail">FAIL</span>'}</h2>
    <table><tr><th>output</th><th>shape</th><th>max abs diff</th><th>max rel diff</th><th>cosine</th><th>smallest passing atol</th><th></th></tr>${rows.join("")}</table>
    <p class="reason">atol ${v.atol}, rtol ${v.rtol}, seed ${v.seed}${v.proof ? `, proof ${esc(v.proof)}` : ""}; runs: ${esc(runs)}</p>${bk}</section>`;
}

function opsTable(d: Done): string {
  const after = d.opsAfter;
  const ops = [...new Set([...Object.keys(d.opsBefore), ...Object.keys(after ?? {})])].sort();
  const total = (c: Record<string, number> | null) => (c ? Object.values(c).reduce((a, b) => a + b, 0) : "");
  // The ops the rewrite changed, then the rest in one line: the table stays short on a real model.
  const changed = after ? ops.filter((op) => (d.opsBefore[op] ?? 0) !== (after[op] ?? 0)) : ops;
  const same = ops.filter((op) => !changed.includes(op));
  const rows = changed.map((op) => `<tr><td>${esc(op)}</td><td class="num">${d.opsBefore[op] ?? 0}</td><td class="num">${after ? after[op] ?? 0 : ""}</td></tr>`);
  const rest = same.length ? `<tr><td class="reason" colspan="3">unchanged: ${same.map((op) => `${esc(op)} ${d.opsBefore[op]}`).join(", ")}</td></tr>` : "";
  return `<section><h2>Operators</h2><table><tr><th>op</th><th>before</th><th>after</th></tr>${rows.join("")}${rest}<tr><th>total</th><th class="num">${total(d.opsBefore)}</th><th class="num">${total(after)}</th></tr></table></section>`;
}

function benchBlock(d: Done): string {
  if (!d.bench) return `<section><h2>Benchmark</h2><p class="reason">Tick “benchmark” to time original and rewritten model here (onnxruntime-web, WASM).</p></section>`;
  if ("error" in d.bench) return `<section><h2>Benchmark</h2><p class="reason">not run: ${esc(d.bench.error)}</p></section>`;
  const b = d.bench;
  return `<section><h2>Benchmark</h2><table><tr><th>model</th><th>median of ${b.runs}</th></tr>
    <tr><td>original</td><td class="num">${b.originalMs.toFixed(1)} ms</td></tr><tr><td>rewritten</td><td class="num">${b.rewrittenMs.toFixed(1)} ms</td></tr>
    <tr><th>speed-up</th><th class="num">${b.speedup.toFixed(2)}×</th></tr></table><p class="reason">${esc(b.shapes)}; ${esc(d.runtime)}</p></section>`;
}

refresh();
