// --classes (issue 16): some of the model's own classes, by name or index, in the chosen order,
// on baked, dynamic and simplified (per-site folded) exports. The result must equal the
// unsimplified model given those rows as its text (--text-embed), and the proof must catch
// a selection that does not match its claim.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { encodeModel } from "../passes/io/codec.ts";
import { loadModel, type LoadedModel } from "../passes/io/model-io.ts";
import { GraphIR } from "../passes/ir/graph.ts";
import type { ConstTensor } from "../passes/ir/tensor.ts";
import { reparamModel, type ReparamResult } from "../passes/pipeline/reparam-model.ts";
import { reparamFile } from "../passes/job/reparam-file.ts";
import { reparamBytes } from "../passes/job/reparam-bytes.ts";
import { proveRetarget } from "../passes/validate/prove-retarget.ts";
import { nodeProofEnv } from "../passes/validate/proof-env-node.ts";
import { nodeRuntime } from "../passes/runtime/node-runtime.ts";
import { DEFAULT_TOLERANCE, seededUniform } from "../passes/validate/compare-models.ts";
import { modelNames } from "../passes/vocab/report.ts";
import { takeRows } from "../passes/vocab/select-classes.ts";
import { closestNames, resolveClasses } from "../passes/vocab/resolve-classes.ts";
import { classConstants } from "../passes/vocab/class-constants.ts";
import { recordingProbe } from "../passes/vocab/retarget.ts";
import { probeShapes } from "../passes/pipeline/probe-shapes.ts";
import { RULES } from "../passes/pipeline/reparam-model.ts";
import { ConstantFolder } from "../passes/fold/fold-constants.ts";
import { EXIT, ReparamError } from "../passes/errors.ts";
import { writeNpy } from "../passes/io/npy.ts";
import { createSession, fixturePath } from "./helpers/fixtures.ts";
import { runCli, ownStderrLines } from "./helpers/cli.ts";

const tmp = mkdtempSync(join(tmpdir(), "reparam-classes-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const has = (f: string) => existsSync(fixturePath(f));
const ULTRA_STATIC = "ultralytics-world-op12-static-meta.onnx";
const ULTRA_SLIM = "ultralytics-world-op12-static-meta-slim.onnx";
const ULTRA_DYNAMIC = "ultralytics-world-op17-dynamic.onnx";
const FULL = "full-bn-einsum-op12-static.onnx", FULL_FOLDED = "full-bn-einsum-op12-static-folded.onnx";
const FP16 = "full-bn-einsum-op18-fp16-static.onnx";
const NAMES20 = ["bus", "person", "zebra", "toothbrush", "car", "dog", "cat", "traffic light", "stop sign", "bicycle", "pizza", "cup", "chair", "tv", "laptop", "horse", "sheep", "cow", "bird", "boat"];
const INDICES20 = [5, 0, 22, 79, 2, 16, 15, 9, 11, 1, 53, 41, 56, 62, 63, 17, 18, 19, 14, 8];

/** The outputs of `bytes` on a seeded input of `shape`, by name. */
async function run(bytes: Uint8Array, shape: number[]): Promise<Record<string, { dims: number[]; data: Float64Array }>> {
  const s = await createSession(bytes);
  try {
    const n = shape.reduce((a, b) => a * b, 1);
    const out = await s.run({ [s.inputNames[0]]: new ort.Tensor("float32", seededUniform(7, n), shape) });
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { dims: [...v.dims], data: Float64Array.from(v.data as Float32Array) }]));
  } finally { await s.release(); }
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; };

/** The model's own text rows `rows` (from its single text constant), as a --text-embed value. */
function ownRows(model: LoadedModel, rows: number[]): ConstTensor {
  const g = new GraphIR(model.proto.graph!, model.baseDir);
  const shapes = probeShapes(g.inputs, new Map());
  const ctx = { graph: g, text: { a: new ConstantFolder(g, { inputShapes: shapes.a }), b: null }, neckForm: "conv" as const, opset: 17 };
  const found = classConstants(g, recordingProbe(g, shapes.a), RULES.flatMap((r) => r.textOperands(ctx)), null);
  if ("refusal" in found || !found.text) throw new Error("no single text");
  return takeRows(g.constant(found.sources[0].name)!, found.sources[0].axis, rows);
}

describe("resolving a selection", () => {
  const names = ["person", "bicycle", "car", "Traffic Light", "dog"];
  it("names, case-insensitive when unique, and indices, in the order given", () => {
    expect(resolveClasses(["dog", "person", 2, "traffic light"], names, 5)).toEqual([4, 0, 2, 3]);
  });
  it("an unknown name names the closest existing ones", () => {
    expect(() => resolveClasses(["persn"], names, 5)).toThrow(/no class named "persn".*closest: "person"/);
    expect(closestNames("dgo", names, 1)).toEqual(["dog"]);
  });
  it("duplicates, empty selections and entries, out-of-range indices are usage errors", () => {
    for (const [w, re] of [[["car", "car"], /"car" is selected twice \(entries 1 and 2\)/], [[], /no classes selected/], [["car", " "], /entry 2 is empty/], [[5], /index 5 is out of range/], [[2, "car"], /selected twice/]] as const) {
      let e: unknown;
      try { resolveClasses(w as unknown as string[], names, 5); } catch (x) { e = x; }
      expect(e).toBeInstanceOf(ReparamError);
      expect((e as ReparamError).exitCode).toBe(EXIT.USAGE);
      expect((e as Error).message).toMatch(re);
    }
  });
  it("names need names metadata (indices do not)", () => {
    expect(() => resolveClasses(["car"], null, 5)).toThrow(/no names metadata/);
    expect(resolveClasses([1], null, 5)).toEqual([1]);
  });
});

describe("--classes on an Ultralytics-style export", () => {
  for (const file of [ULTRA_STATIC, ULTRA_SLIM]) {
    it(`${file}: 20 names, exit 0, names in order, padded proof, equal to --text-embed with those rows`, async () => {
      if (!has(file) || !has(ULTRA_STATIC)) return;
      const out = join(tmp, `${file}.20.onnx`), report = join(tmp, `${file}.20.json`);
      const r = await reparamFile({ input: fixturePath(file), output: out, classes: NAMES20, report });
      expect(r.exitCode, r.message).toBe(EXIT.OK);
      expect(r.validation?.passed).toBe(true);
      const json = JSON.parse(readFileSync(report, "utf8"));
      expect(json.vocabulary).toMatchObject({ from: 80, to: 20, source: "--classes", names: "set", proof: "padded" });
      const written = loadModel(out);
      expect(modelNames(written).names).toEqual(NAMES20);
      expect(modelNames(written).raw).toMatch(/^\{0: 'bus', 1: 'person', /);
      // The unsimplified export, given the same rows of its own text, is the reference.
      const twin = loadModel(fixturePath(ULTRA_STATIC));
      const rows = ownRows(twin, resolveClasses(NAMES20, modelNames(twin).names, 80));
      reparamModel(twin, { textEmbed: { value: rows, source: "rows" } });
      const [a, b] = await Promise.all([run(encodeModel(written.proto), [1, 3, 128, 128]), run(encodeModel(twin.proto), [1, 3, 128, 128])]);
      expect(a.output0.dims).toEqual([1, 24, 336]);
      expect(maxDiff(a.output0.data, b.output0.data)).toBeLessThan(1e-3);
    });
  }

  it(`${ULTRA_DYNAMIC}: 20 indices; equal to --text-embed with those rows, at two shapes`, async () => {
    if (!has(ULTRA_DYNAMIC)) return;
    const sel = reparamModel(loadModel(fixturePath(ULTRA_DYNAMIC)), { classes: INDICES20 });
    expect(sel.vocabulary).toMatchObject({ kind: "selection", from: 80, to: 20, selected: INDICES20 });
    const twin = loadModel(fixturePath(ULTRA_DYNAMIC));
    reparamModel(twin, { textEmbed: { value: ownRows(loadModel(fixturePath(ULTRA_DYNAMIC)), INDICES20), source: "rows" } });
    const model = loadModel(fixturePath(ULTRA_DYNAMIC));
    reparamModel(model, { classes: INDICES20 });
    for (const shape of [[1, 3, 96, 96], [2, 3, 64, 128]]) {
      const [a, b] = await Promise.all([run(encodeModel(model.proto), shape), run(encodeModel(twin.proto), shape)]);
      expect(a.output0.dims[1]).toBe(24);
      expect(maxDiff(a.output0.data, b.output0.data)).toBeLessThan(1e-3);
    }
  });
});

describe("simplified static exports (text folded per site)", () => {
  it("--classes on the folded twin equals the unfolded model given those rows", async () => {
    if (!has(FULL_FOLDED)) return;
    const folded = loadModel(fixturePath(FULL_FOLDED));
    const r = reparamModel(folded, { classes: INDICES20 });
    // No single text: every per-site constant was cut (head text, four neck guides).
    expect(r.vocabulary!.sources.length).toBeGreaterThanOrEqual(5);
    expect(r.sites.filter((s) => s.status === "rewritten").every((s) => s.k === 20)).toBe(true);
    const twin = loadModel(fixturePath(FULL));
    reparamModel(twin, { textEmbed: { value: ownRows(loadModel(fixturePath(FULL)), INDICES20), source: "rows" } });
    const [a, b] = await Promise.all([run(encodeModel(folded.proto), [1, 3, 160, 160]), run(encodeModel(twin.proto), [1, 3, 160, 160])]);
    for (const name of Object.keys(b)) expect(maxDiff(a[name].data, b[name].data), name).toBeLessThan(1e-4);
  });

  it("new text that is not the model's own rows: exit 2, cause and remedy in one line, no file", async () => {
    if (!has(FULL_FOLDED)) return;
    const out = join(tmp, "folded-new.onnx");
    const r = await runCli(["reparam", fixturePath(FULL_FOLDED), "-o", out, "--text-embed", fixturePath("vocab/texts-k20.npy")]);
    expect(r.code).toBe(EXIT.USAGE);
    const lines = ownStderrLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/folded into \d+ per-site constants/);
    expect(lines[0]).toMatch(/neck's text projection weights are not in the file/);
    expect(lines[0]).toMatch(/simplify=False or dynamic=True, run onnx-reparam on that file, then simplify its output/);
    expect(existsSync(out)).toBe(false);
  });

  it("new text whose rows are the model's own (any norm, any order, repeats) becomes a selection", async () => {
    if (!has(FULL_FOLDED) || !has(FULL)) return;
    const rows = ownRows(loadModel(fixturePath(FULL)), [7, 3, 3, 40]);
    const npy = join(tmp, "own-rows.npy");
    writeNpy(npy, rows.dims.slice(-2), rows.data.map((v) => v * 3));
    const r = await reparamFile({ input: fixturePath(FULL_FOLDED), output: join(tmp, "own.onnx"), textEmbed: npy });
    expect(r.exitCode, r.message).toBe(EXIT.OK);
    expect(r.vocabulary).toMatchObject({ from: 80, to: 4, proof: "padded" });
  });
});

describe("the proof of a selection", () => {
  it("catches a model whose rows are not the ones it claims (two swapped)", async () => {
    const file = has(ULTRA_STATIC) ? ULTRA_STATIC : FULL_FOLDED;
    const input = fixturePath(file);
    const model = loadModel(input);
    const result: ReparamResult = reparamModel(model, { classes: INDICES20 });
    const sets = [[{ name: "images", dtype: 1, shape: result.probe.a.get("images")! }]];
    const ok = await proveRetarget(nodeProofEnv(input), model, result, sets, DEFAULT_TOLERANCE.float32);
    expect(ok.passed).toBe(true);
    const swapped = [...INDICES20];
    [swapped[0], swapped[1]] = [swapped[1], swapped[0]];
    result.vocabulary!.selected = swapped;
    const bad = await proveRetarget(nodeProofEnv(input), model, result, sets, DEFAULT_TOLERANCE.float32);
    expect(bad.passed).toBe(false);
  });

  it("an unknown name: exit 2 naming it and the closest names; nothing written", async () => {
    if (!has(ULTRA_STATIC)) return;
    const out = join(tmp, "unknown.onnx");
    const r = await runCli(["reparam", fixturePath(ULTRA_STATIC), "-o", out, "--classes", "person,trafic light"]);
    expect(r.code).toBe(EXIT.USAGE);
    expect(ownStderrLines(r.stderr)).toEqual([expect.stringMatching(/no class named "trafic light" in the model's names; closest: "traffic light"/)]);
    expect(existsSync(out)).toBe(false);
  });

  it("a text input holds no classes to select; --classes with --text-embed is refused", () => {
    const ti = "full-bn-einsum-op17-textinput-static.onnx";
    if (has(ti)) expect(() => reparamModel(loadModel(fixturePath(ti)), { classes: [1, 2] })).toThrow(/graph input 'texts'.*no classes to select/);
    expect(() => reparamModel(loadModel(fixturePath(FULL)), { classes: [1], textEmbed: { value: { dtype: 1, dims: [1, 512], data: new Float64Array(512) }, source: "x" } })).toThrow(/use one of them/);
  });
});

describe("fp16", () => {
  for (const k of [20, 1]) {
    it(`${FP16}: retarget to K' = ${k} passes the proof with the default tolerance`, async () => {
      if (!has(FP16)) return;
      const r = await reparamFile({ input: fixturePath(FP16), output: join(tmp, `fp16-${k}.onnx`), textEmbed: fixturePath(`vocab/texts-k${k}.npy`) });
      expect(r.exitCode, r.message).toBe(EXIT.OK);
      expect(r.validation).toMatchObject({ passed: true, atol: DEFAULT_TOLERANCE.float16.atol, rtol: DEFAULT_TOLERANCE.float16.rtol });
    });
  }
  it(`${FP16}: --classes passes the proof with the default tolerance`, async () => {
    if (!has(FP16)) return;
    const r = await reparamFile({ input: fixturePath(FP16), output: join(tmp, "fp16-sel.onnx"), classes: INDICES20 });
    expect(r.exitCode, r.message).toBe(EXIT.OK);
  });
});

describe("the library and inspect", () => {
  it("reparamBytes takes classes like reparamFile", async () => {
    if (!has(ULTRA_STATIC)) return;
    const r = await reparamBytes({ model: readFileSync(fixturePath(ULTRA_STATIC)), classes: ["dog", 0] }, nodeRuntime);
    expect(r.exitCode, r.message).toBe(EXIT.OK);
    expect(r.report.vocabulary).toMatchObject({ to: 2, source: "--classes", proof: "padded" });
    expect(modelNames({ proto: (await import("../passes/io/codec.ts")).decodeModelBytes(r.bytes!, "x"), baseDir: null, source: "x" }).names).toEqual(["dog", "person"]);
  });

  it("inspect on a model with classes selected: already reparameterized, K from the rewritten neck and names", async () => {
    if (!has(ULTRA_STATIC)) return;
    const out = join(tmp, "inspect.onnx");
    expect((await reparamFile({ input: fixturePath(ULTRA_STATIC), output: out, classes: NAMES20.slice(0, 3), validate: false })).exitCode).toBe(0);
    const r = await runCli(["inspect", out]);
    expect(r.code).toBe(EXIT.NOTHING_TO_DO);
    expect(r.stdout).toMatch(/already reparameterized: .*4 neck node\(s\).*3 head Conv\(s\)/);
    expect(r.stdout).toMatch(/classes: K = 3 \(from the rewritten neck\); names \(3\): bus, person, zebra/);
    expect(r.stdout).not.toMatch(/K = \?/);
  });
});
