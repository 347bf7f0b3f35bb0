// The page's worker: runs the same job as `onnx-reparam reparam` (reparamBytes) with
// onnxruntime-web, so the page never freezes. One run at a time; the model's bytes arrive
// transferred and the rewritten model leaves transferred.
import { reparamBytes } from "../../passes/job/reparam-bytes.ts";
import { decodeModelBytes } from "../../passes/io/codec.ts";
import { ReparamError } from "../../passes/errors.ts";
import { probeShapes } from "../../passes/pipeline/probe-shapes.ts";
import { declaredDims } from "../../passes/ir/graph-inputs.ts";
import type { Model } from "../../passes/io/onnx-types.ts";
import type { ValidationInput } from "../../passes/validate/compare-models.ts";
import { webRuntime } from "./runtime-web.ts";
import { benchmark } from "./bench.ts";
import { parseNames } from "../../passes/vocab/names-metadata.ts";
import type { Done, InspectRequest, Inspected, PageMessage, RunRequest, WorkerMessage } from "./protocol.ts";
import { outputName as nameOutput } from "./output-name.ts";

const scope = self as unknown as { postMessage(m: WorkerMessage, transfer?: Transferable[]): void; onmessage: ((e: MessageEvent<PageMessage>) => void) | null };

/** The model's class names from its `names` metadata (Ultralytics' Python dict literal, or JSON). */
async function inspect(req: InspectRequest): Promise<Inspected> {
  const m = decodeModelBytes(new Uint8Array(await req.file.arrayBuffer()), req.file.name);
  const raw = (m.metadata_props ?? []).find((p) => p.key === "names")?.value;
  if (raw === undefined || raw === null) return { type: "inspected", id: req.id, names: null, note: "this model has no names metadata" };
  const parsed = parseNames(raw);
  return parsed ? { type: "inspected", id: req.id, names: parsed.names } : { type: "inspected", id: req.id, names: null, note: "its names metadata is in a form the page cannot read" };
}

function opCounts(m: Model): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of m.graph?.node ?? []) {
    const op = n.domain ? `${n.domain}.${n.op_type}` : n.op_type ?? "?";
    counts[op] = (counts[op] ?? 0) + 1;
  }
  return counts;
}

/** The benchmark's inputs: the model's own at the first probe shape (what the proof ran first). */
function benchInputs(m: Model): ValidationInput[] {
  const g = m.graph!;
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  const inputs = (g.input ?? []).filter((v) => declaredDims(v) && !inits.has(v.name));
  const shapes = probeShapes(inputs, new Map()).a;
  return inputs.map((v) => ({ name: v.name!, dtype: v.type!.tensor_type!.elem_type!, shape: shapes.get(v.name!)! }));
}

async function run(req: RunRequest): Promise<void> {
  const t0 = performance.now();
  const marks: Array<[string, number]> = [];
  const original = new Uint8Array(req.model);
  // Decoding is cheap (bytes fields are views into the buffer): count ops on a separate copy of the tree.
  const opsBefore = opCounts(decodeModelBytes(original, req.modelName));
  // Named once the vocabulary is known (yolo_world.20cls.onnx): the job runs under the plain name.
  let outputName = nameOutput(req.modelName, null);
  const tolerance: { atol?: number; rtol?: number } = {};
  if (req.atol !== undefined) tolerance.atol = req.atol;
  if (req.rtol !== undefined) tolerance.rtol = req.rtol;
  const r = await reparamBytes({
    model: original, modelName: req.modelName, outputName,
    textEmbed: req.textEmbed ? new Uint8Array(req.textEmbed) : undefined, textEmbedName: req.textEmbedName,
    names: req.names, namesName: req.namesName, sites: req.sites, neckForm: req.neckForm,
    validate: req.validate, tolerance, classes: req.classes,
    encoder: req.encoder ? { ...req.encoder, model: new Uint8Array(req.encoder.model) } : undefined,
    onProgress: (stage, detail) => {
      marks.push([stage, performance.now()]);
      scope.postMessage({ type: "progress", stage, detail, ms: performance.now() - t0 });
    },
  }, webRuntime);
  const end = performance.now();
  const to = r.report.vocabulary?.to;
  if (typeof to === "number") {
    const renamed = nameOutput(req.modelName, to);
    if (r.report.output === outputName) r.report.output = renamed;
    r.message = r.message.split(outputName).join(renamed);
    outputName = renamed;
  }
  const at = (stage: string) => marks.find(([s]) => s === stage)?.[1];
  const proofAt = at("proof"), encodeAt = at("encode");
  const timings: Record<string, number> = {
    pass: (proofAt ?? encodeAt ?? end) - t0,
    ...(proofAt ? { proof: (encodeAt ?? end) - proofAt } : {}),
    ...(encodeAt ? { encode: end - encodeAt } : {}),
    total: end - t0,
  };
  const done: Done = {
    type: "done", exitCode: r.exitCode, message: r.message, report: r.report, outputName,
    opsBefore, opsAfter: r.bytes ? opCounts(decodeModelBytes(r.bytes, outputName)) : null, timings, runtime: webRuntime.name,
  };
  if (req.bench && r.bytes) {
    scope.postMessage({ type: "progress", stage: "bench", detail: "benchmark: original and rewritten, 5 runs each", ms: performance.now() - t0 });
    try {
      done.bench = await benchmark(webRuntime, original, r.bytes, benchInputs(decodeModelBytes(original, req.modelName)));
    } catch (e) {
      done.bench = { error: String((e as Error)?.message ?? e).split("\n")[0] };
    }
  }
  if (r.bytes) {
    // encodeModel hands out the writer's own buffer, possibly larger than the model: send exactly the model.
    const out = r.bytes.byteOffset === 0 && r.bytes.byteLength === r.bytes.buffer.byteLength ? r.bytes : r.bytes.slice();
    done.model = out.buffer as ArrayBuffer;
    scope.postMessage(done, [done.model]);
  } else scope.postMessage(done);
}

scope.onmessage = (e) => {
  const req = e.data;
  if (req.type === "inspect") {
    inspect(req).then((m) => scope.postMessage(m), (err: unknown) =>
      scope.postMessage({ type: "inspected", id: req.id, names: null, note: String((err as Error)?.message ?? err).split("\n")[0] }));
    return;
  }
  run(req).catch((err: unknown) => {
    if (err instanceof ReparamError) scope.postMessage({ type: "error", exitCode: err.exitCode, message: err.message });
    else scope.postMessage({ type: "error", exitCode: 70, message: `internal error: ${String((err as Error)?.message ?? err).split("\n")[0]}` });
  });
};
