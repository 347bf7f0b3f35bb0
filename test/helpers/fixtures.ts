// Shared test helpers: the fixture manifest, running a model in onnxruntime-node on
// .npy inputs, small graph queries. Fixtures whose .onnx is missing (another helper may
// still be adding them) are skipped with a visible message.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { readNpy } from "../../passes/io/npy.ts";
import { DT, type Graph, type Node } from "../../passes/io/onnx-types.ts";
import { f16ToF32Array, f32ToF16Array } from "../../passes/io/half.ts";
import { toNumber, type ConstTensor } from "../../passes/ir/tensor.ts";
import { loadModel, type LoadedModel } from "../../passes/io/model-io.ts";

export const REPO = resolve(fileURLToPath(new URL("../../", import.meta.url)));
export const FIXTURES = join(REPO, "models", "fixtures");

export interface FixtureRef {
  inputs: Record<string, string>;
  outputs: Record<string, string>;
  shape?: number[];
}

export interface Fixture {
  name: string;
  file: string;
  dynamic: boolean;
  textInput: { name: string; npy: string } | null;
  k: number;
  d: number;
  headForm: string;
  neckForm: string | null;
  fp16: boolean;
  expect: { head: { rewritable: number; skipped: number }; neck: { rewritable: number; skipped: number } };
  refs: FixtureRef[];
  notes?: string;
}

export const fixturePath = (rel: string): string => join(FIXTURES, rel);

/** Manifest entries, read at call time. Entries whose .onnx is absent are dropped with a message. */
export function loadManifest(): Fixture[] {
  const path = fixturePath("manifest.json");
  if (!existsSync(path)) {
    console.warn(`[fixtures] ${path} missing: no fixture tests`);
    return [];
  }
  const all = (JSON.parse(readFileSync(path, "utf8")) as { fixtures: Fixture[] }).fixtures;
  const present: Fixture[] = [];
  for (const f of all) {
    if (existsSync(fixturePath(f.file))) present.push(f);
    else console.warn(`[fixtures] SKIP ${f.name}: ${f.file} not present yet`);
  }
  return present;
}

export function fixtureByName(name: string): Fixture | undefined {
  return loadManifest().find((f) => f.name === name);
}

const modelCache = new Map<string, Uint8Array>();
/** A fresh decoded copy of a fixture (the file bytes are read once per worker). */
export function loadFixture(f: Fixture): LoadedModel {
  const p = fixturePath(f.file);
  let bytes = modelCache.get(p);
  if (!bytes) { bytes = readFileSync(p); modelCache.set(p, bytes); }
  return loadModel(new Uint8Array(bytes), { baseDir: FIXTURES });
}

/** The fixture's text embedding (when the text is a graph input). */
export function fixtureTextEmbed(f: Fixture): { value: ConstTensor; source: string } | undefined {
  if (!f.textInput) return undefined;
  const p = fixturePath(f.textInput.npy);
  return { value: readNpy(p), source: p };
}

export function toOrtTensor(t: ConstTensor, dtype = t.dtype): ort.Tensor {
  switch (dtype) {
    case DT.FLOAT: return new ort.Tensor("float32", Float32Array.from(t.data), t.dims);
    case DT.FLOAT16: return new ort.Tensor("float16", f32ToF16Array(t.data), t.dims);
    case DT.DOUBLE: return new ort.Tensor("float64", Float64Array.from(t.data), t.dims);
    case DT.INT64: return new ort.Tensor("int64", BigInt64Array.from(Array.from(t.data), (v) => BigInt(Math.trunc(v))), t.dims);
    default: throw new Error(`test helper cannot feed dtype ${dtype}`);
  }
}

export function fromOrtTensor(t: ort.Tensor): Float64Array {
  if (t.type === "float16") return Float64Array.from(f16ToF32Array(t.data as Uint16Array));
  if (t.type === "int64") return Float64Array.from(t.data as BigInt64Array, Number);
  return Float64Array.from(t.data as ArrayLike<number>);
}

export async function createSession(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { graphOptimizationLevel: "basic", intraOpNumThreads: 2, logSeverityLevel: 3 });
}

/** Runs `session` on .npy inputs (paths relative to the fixtures dir); feeds only the inputs the session declares. */
export async function runOnNpy(session: ort.InferenceSession, inputs: Record<string, string>, elemTypes: Map<string, number> = new Map()): Promise<Record<string, { dims: number[]; data: Float64Array }>> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of session.inputNames) {
    const rel = inputs[name];
    if (!rel) throw new Error(`no reference input for '${name}' (have ${Object.keys(inputs).join(", ")})`);
    const t = readNpy(fixturePath(rel));
    feeds[name] = toOrtTensor(t, elemTypes.get(name) ?? t.dtype);
  }
  const out = await session.run(feeds);
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { dims: [...v.dims], data: fromOrtTensor(v) }]));
}

/** Element types of a graph's inputs, by name. */
export function inputElemTypes(g: Graph): Map<string, number> {
  return new Map((g.input ?? []).map((v) => [v.name ?? "", v.type?.tensor_type?.elem_type ?? 0]));
}

/** Worst-case error of `actual` against `expected` under |a-e| <= atol + rtol*|e|. */
export function worstError(expected: ArrayLike<number>, actual: ArrayLike<number>, rtol: number): { maxAbs: number; minAtol: number; bad: number } {
  let maxAbs = 0, minAtol = 0, bad = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i], a = actual[i];
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)))) { bad++; minAtol = Infinity; }
      continue;
    }
    const d = Math.abs(a - e);
    maxAbs = Math.max(maxAbs, d);
    minAtol = Math.max(minAtol, d - rtol * Math.abs(e));
  }
  return { maxAbs, minAtol, bad };
}

// ---- graph queries ---------------------------------------------------------------

const attrOf = (n: Node, name: string) => n.attribute?.find((a) => a.name === name);
export const permOf = (n: Node): string => attrOf(n, "perm")?.ints?.map(toNumber).join(",") ?? "";
export const einsumEquation = (n: Node): string => new TextDecoder().decode(attrOf(n, "equation")?.s ?? new Uint8Array());

/** Einsum nodes shaped like a head contrast: a 4-D operand and a 4-D output. */
export function headEinsums(g: Graph): Node[] {
  return (g.node ?? []).filter((n) => {
    if (n.op_type !== "Einsum") return false;
    const eq = einsumEquation(n).replace(/\s/g, "");
    const [lhs, out] = eq.split("->");
    if (out === undefined) return false;
    return out.length === 4 && lhs.split(",").some((t) => t.length === 4);
  });
}

/** MatMul nodes whose first operand comes from Reshape(Transpose(perm 0,2,3,1)). */
export function headMatMuls(g: Graph): Node[] {
  const producer = new Map<string, Node>();
  for (const n of g.node ?? []) for (const o of n.output ?? []) producer.set(o, n);
  return (g.node ?? []).filter((n) => {
    if (n.op_type !== "MatMul") return false;
    const r = producer.get(n.input?.[0] ?? "");
    if (!r || r.op_type !== "Reshape") return false;
    const t = producer.get(r.input?.[0] ?? "");
    return !!t && t.op_type === "Transpose" && permOf(t) === "0,2,3,1";
  });
}

export interface IoSig { name: string; elemType: number; dims: Array<number | string> }
export function outputSignature(g: Graph): IoSig[] {
  return (g.output ?? []).map((v) => ({
    name: v.name ?? "",
    elemType: v.type?.tensor_type?.elem_type ?? 0,
    dims: (v.type?.tensor_type?.shape?.dim ?? []).map((d) => (d.dim_param ? d.dim_param : toNumber(d.dim_value ?? 0))),
  }));
}
