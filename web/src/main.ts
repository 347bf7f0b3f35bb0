// The page: collects the files and options, hands them to the worker, and shows what the
// CLI would print and write: sites, vocabulary, proof table, op counts, downloads.
import type { Done, EncoderFiles, Inspected, PageMessage, RunRequest, WorkerMessage } from "./protocol.ts";
import type { ReparamReport } from "../../passes/job/reparam-job.ts";
import { classesPicker } from "./classes-picker.ts";
import { pageMessage } from "./control-names.ts";
import { reportName } from "./output-name.ts";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const modelInput = $<HTMLInputElement>("model"), textInput = $<HTMLInputElement>("text"), namesInput = $<HTMLInputElement>("names");
const runButton = $<HTMLButtonElement>("run"), status = $("status"), log = $("log"), reportEl = $("report");
const MAX_BYTES = 2 ** 31 - 1; // an ONNX protobuf cannot be larger

const encoderInput = $<HTMLInputElement>("encoder-model"), tokenizerInput = $<HTMLInputElement>("encoder-tokenizer"), newNames = $<HTMLTextAreaElement>("new-names");
const classesBox = $("classes");

const chosen: { model?: File; text?: File; names?: File; encoder?: File; tokenizer: File[] } = { tokenizer: [] };
let worker: Worker | null = null;
let urls: string[] = [];
let inspecting = 0;
let runs = 0;
const picker = classesPicker(classesBox, () => refresh());

/** Lists the model's class names as soon as it is chosen (the worker decodes it). */
function inspectModel(file: File): void {
  const id = ++inspecting;
  classesBox.hidden = false;
  picker.setNames(null, "reading the model…");
  post({ type: "inspect", id, file });
}

function onInspected(m: Inspected): void {
  if (m.id !== inspecting) return; // another model was chosen since
  picker.setNames(m.names, m.note);
}

function post(m: PageMessage, transfer: Transferable[] = []): void {
  worker ??= newWorker();
  worker.postMessage(m, transfer);
}

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
  const picked = picker.picked().length, typed = typedNames().length;
  const classes = (n: number) => `${n} class${n === 1 ? "" : "es"}`;
  runButton.textContent = typed ? `Retarget to ${classes(typed)} and prove` : picked ? `Keep ${classes(picked)}, rewrite and prove` : "Rewrite and prove";
  if (status.dataset.state === "idle" || status.dataset.state === undefined) {
    setStatus("idle", chosen.model ? `Ready: ${chosen.model.name} (${mb(chosen.model.size)})${chosen.text ? ` + ${chosen.text.name}` : ""}${chosen.names ? ` + ${chosen.names.name}` : ""}` : "Choose a model.");
  }
}

const typedNames = () => newNames.value.split("\n").filter((l) => l.trim() !== "");
const isTokenizerFile = (f: File) => /^(tokenizer|tokenizer_config|special_tokens_map)\.json$/i.test(f.name);

function setModel(f: File | undefined): void {
  if (!f || f === chosen.model) return;
  chosen.model = f;
  inspectModel(f);
}

function take(files: Iterable<File>): void {
  for (const f of files) {
    if (/\.npy$/i.test(f.name)) chosen.text = f;
    else if (isTokenizerFile(f)) chosen.tokenizer = [...chosen.tokenizer.filter((t) => t.name !== f.name), f];
    else if (/\.(txt|json)$/i.test(f.name)) chosen.names = f;
    else setModel(f);
  }
  if (status.dataset.state !== "running") status.dataset.state = "idle";
  refresh();
}

modelInput.addEventListener("change", () => { setModel(modelInput.files?.[0]); status.dataset.state = "idle"; refresh(); });
encoderInput.addEventListener("change", () => { chosen.encoder = encoderInput.files?.[0]; status.dataset.state = "idle"; refresh(); });
tokenizerInput.addEventListener("change", () => { chosen.tokenizer = [...(tokenizerInput.files ?? [])]; status.dataset.state = "idle"; refresh(); });
newNames.addEventListener("input", () => refresh());
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
  status.dataset.run = String(++runs); // which run the status belongs to (tests wait on it)
  for (const u of urls) URL.revokeObjectURL(u);
  urls = [];
  reportEl.hidden = true;
  reportEl.innerHTML = "";
  log.textContent = "";
  $("progress").hidden = false;
  if (model.size > MAX_BYTES) return fail(2, `${model.name}: file is ${model.size} bytes; an ONNX protobuf cannot exceed 2 GiB`);
  const typed = typedNames();
  if (typed.length && chosen.names) return fail(2, "class names come from “Class names (.txt/.json)” or from “New class names”: clear one of them");
  if ((chosen.encoder || chosen.tokenizer.length) && !typed.length && !chosen.names) return fail(2, "the “Text encoder” embeds class names: type them under “New class names”");
  if (chosen.encoder && !chosen.tokenizer.length) return fail(2, "the “Text encoder” needs its tokenizer: choose tokenizer.json under “Tokenizer”");
  if (!chosen.encoder && chosen.tokenizer.length) return fail(2, "a tokenizer was chosen but no text encoder model: choose its .onnx under “Text encoder (.onnx)”");
  const picked = picker.picked();
  setStatus("running", `Reading ${model.name} (${mb(model.size)})…`);
  runButton.disabled = true;
  let encoder: EncoderFiles | undefined;
  try { encoder = chosen.encoder ? await encoderFiles(chosen.encoder, chosen.tokenizer) : undefined; } catch (e) { return fail(2, (e as Error).message); }
  const req: RunRequest = {
    type: "run", model: await model.arrayBuffer(), modelName: model.name,
    textEmbed: chosen.text ? await chosen.text.arrayBuffer() : undefined, textEmbedName: chosen.text?.name,
    // Typed names travel as a names file's text would (one a line): the same parser reads both.
    names: typed.length ? newNames.value : chosen.names ? await chosen.names.text() : undefined,
    namesName: typed.length ? "New class names" : chosen.names?.name,
    classes: picked.length ? picked : undefined, encoder,
    sites: $<HTMLSelectElement>("sites").value as RunRequest["sites"], neckForm: $<HTMLSelectElement>("neck-form").value as RunRequest["neckForm"],
    atol: numberOption("atol"), rtol: numberOption("rtol"),
    validate: $<HTMLInputElement>("validate").checked, bench: $<HTMLInputElement>("bench").checked,
  };
  // Transferred: the model's bytes move to the worker instead of being copied.
  post(req, [req.model, ...(req.textEmbed ? [req.textEmbed] : []), ...(encoder ? [encoder.model] : [])]);
}

/** The encoder slot's files: the .onnx, and tokenizer.json with the two optional files, told apart by name. */
async function encoderFiles(model: File, tokenizer: File[]): Promise<EncoderFiles> {
  const byName = (n: string) => tokenizer.find((f) => f.name.toLowerCase() === n);
  const main = byName("tokenizer.json") ?? (tokenizer.length === 1 ? tokenizer[0] : undefined);
  if (!main) throw new Error(`“Tokenizer”: which of ${tokenizer.map((f) => f.name).join(", ")} is tokenizer.json? Choose it (and optionally tokenizer_config.json, special_tokens_map.json)`);
  const text = async (f: File | undefined) => (f ? { label: f.name, text: await f.text() } : undefined);
  return {
    model: await model.arrayBuffer(), modelName: model.name, tokenizer: (await text(main))!,
    tokenizerConfig: await text(byName("tokenizer_config.json")), specialTokensMap: await text(byName("special_tokens_map.json")),
  };
}

function newWorker(): Worker {
  const w = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  w.onmessage = (e: MessageEvent<WorkerMessage>) => {
    const m = e.data;
    if (m.type === "progress") {
      log.textContent += `${(m.ms / 1000).toFixed(2).padStart(7)} s  ${m.detail}\n`;
      log.scrollTop = log.scrollHeight;
      setStatus("running", `${m.detail}…`);
    } else if (m.type === "inspected") onInspected(m);
    else if (m.type === "error") fail(m.exitCode, m.message);
    else show(m);
  };
  w.onerror = (e) => { e.preventDefault(); worker = null; w.terminate(); fail(70, `internal error: the worker stopped (${e.message || "out of memory?"})`); };
  return w;
}

function fail(exitCode: number, message: string): void {
  const kind = exitCode === 3 ? "Nothing to rewrite" : exitCode === 1 ? "Proof failed" : exitCode === 70 ? "Internal error" : "Cannot use this input";
  setStatus("error", `${kind}: ${pageMessage(message.replace(/^nothing to rewrite: /, ""))}`);
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
  if (d.exitCode === 0) setStatus("done", `Done: ${pageMessage(d.message)} — ${timing}`);
  else fail(d.exitCode, d.message);
  renderReport(d, r, timing);
  runButton.disabled = !chosen.model; // ready for the next run, same files or others
}

function renderReport(d: Done, r: ReparamReport, timing: string): void {
  const links = (d.model ? download(d.outputName, d.model, "application/octet-stream", "download-model", `Download ${esc(d.outputName)} (${mb(d.model.byteLength)})`) : "") +
    download(reportName(d.outputName), JSON.stringify(r, null, 2) + "\n", "application/json", "download-report", `Download ${esc(reportName(d.outputName))}`);
  const parts = [`<section><h2>Result</h2><p>${links}</p><p class="reason">${esc(d.runtime)}${timing ? ` · ${esc(timing)}` : ""}</p></section>`];
  parts.push(sitesTable(r));
  if (r.vocabulary) parts.push(vocabularyBlock(r));
  if (r.warnings.length) parts.push(`<section><h2>Warnings</h2><ul>${r.warnings.map((w) => `<li>${esc(pageMessage(w))}</li>`).join("")}</ul></section>`);
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
  return `<section><h2>Sites</h2><div class="scroll"><table><tr><th>kind</th><th>status</th><th>form</th><th>K</th><th>output / reason</th></tr>${rows.join("")}${unmatched.join("")}</table></div>${removed}</section>`;
}

function vocabularyBlock(r: ReparamReport): string {
  const v = r.vocabulary!;
  return `<section><h2>Vocabulary</h2><div class="scroll"><table class="vocab">
    <tr><th>classes</th><td>${esc(v.from ?? "symbolic")} → ${esc(v.to)}</td><th>text</th><td>${esc(v.text)} (from ${esc(pageMessage(v.source))})</td></tr>
    <tr><th>names</th><td>${esc(v.names)}</td><th>proof</th><td>${esc(v.proof ?? "not validated")}</td></tr>
    ${v.edits.length ? `<tr><th>edits</th><td colspan="3" class="reason">${v.edits.map(esc).join("<br>")}</td></tr>` : ""}</table></div></section>`;
}

// Each column says what it measures (header titles and the legend under the table); the
// relative difference is shown only where the reference is large enough for a ratio to mean
// something (|reference| >= atol/rtol, where the tolerance is relative), else "—".
const PROOF_COLUMNS: Array<[string, string]> = [
  ["output", "The model output compared"],
  ["shape", "Its shape on the proof's inputs"],
  ["max |Δ|", "Largest absolute difference |rewritten − original| over every element"],
  ["max rel. Δ", "Largest |Δ| / |original| over the elements where |original| ≥ atol/rtol; — when no element is that large (near 0 a ratio says nothing)"],
  ["cosine", "Cosine similarity of the whole output, rewritten against original (1 = same direction)"],
  ["atol needed", "Smallest atol at which this output passes with the rtol used"],
  ["verdict", "PASS when |Δ| ≤ atol + rtol·|original| at every element"],
];

function proofTable(r: ReparamReport): string {
  const v = r.validation!;
  const floor = v.rtol > 0 ? v.atol / v.rtol : Infinity;
  let dashes = 0;
  const rows = v.outputs.map((o) => {
    const rel = (o as { relevantMaxRelDiff?: number | null }).relevantMaxRelDiff ?? null;
    if (rel === null) dashes++;
    const relCell = rel === null ? `<td class="num" data-testid="rel" title="raw max ratio ${fmt(o.maxRelDiff)}, at values near 0">—</td>` : `<td class="num" data-testid="rel">${fmt(rel)}</td>`;
    const cells = [`<td>${esc(o.name)}</td>`, `<td>${esc(o.shape.join("×"))}</td>`, `<td class="num">${fmt(o.maxAbsDiff)}</td>`, relCell, `<td class="num">${o.cosine.toFixed(6)}</td>`, `<td class="num">${fmt(o.minPassingAtol)}</td>`, `<td class="${o.passed ? "pass" : "fail"}">${o.passed ? "PASS" : "FAIL"}</td>`];
    // data-label: on a narrow screen each row stacks into label/value lines (index.html).
    return `<tr>${cells.map((c, i) => c.replace("<td", `<td data-label="${esc(PROOF_COLUMNS[i][0])}"`)).join("")}</tr>`;
  });
  const runs = v.runs.map((run) => run.inputs.map((i) => `${i.name} ${i.shape.join("×")}`).join(", ") + (run.passed ? "" : " (failed)")).join("; ");
  const bk = v.bookkeeping ? `<p class="reason">class bookkeeping (K' &gt; K): ${v.bookkeeping.passed ? "passed" : "FAILED"}</p>` : "";
  const head = PROOF_COLUMNS.map(([h, title]) => `<th scope="col" title="${esc(title)}">${esc(h)}</th>`).join("");
  const legend = PROOF_COLUMNS.slice(2).map(([h, title]) => `<dt>${esc(h)}</dt><dd>${esc(title)}</dd>`).join("");
  const dashNote = dashes ? `<p class="reason" data-testid="rel-note">— in “max rel. Δ”: no element of that output reaches |original| ≥ atol/rtol = ${fmt(floor)}; there the tolerance is absolute, and a ratio to a value near 0 (rounding of 1e-7 on 1e-7 is 100 %) says nothing. Read max |Δ| and cosine instead.</p>` : "";
  return `<section><h2>Proof ${v.passed ? '<span class="pass">PASS</span>' : '<span class="fail">FAIL</span>'}</h2>
    <p class="reason" id="proof-caption" data-testid="proof-caption">The rewritten model against the original in onnxruntime-web, on the same seeded inputs, output by output. An output passes when |Δ| ≤ atol + rtol·|original| at every element (atol ${v.atol}, rtol ${v.rtol}).</p>
    <div class="scroll"><table class="proof" data-testid="proof-table" aria-describedby="proof-caption"><thead><tr>${head}</tr></thead><tbody>${rows.join("")}</tbody></table></div>
    ${dashNote}<details class="legend"><summary>What the columns mean</summary><dl>${legend}</dl></details>
    <p class="reason">seed ${v.seed}${v.proof ? `, proof ${esc(v.proof)}` : ""}; runs: ${esc(runs)}</p>${bk}</section>`;
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
