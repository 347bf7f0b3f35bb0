// `validate` and `bench` through the real CLI: every exit code, the --json shapes
// (docs/cli.md), .npy inputs, and models that do not fit together.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModel, saveModel } from "../passes/io/model-io.ts";
import { reparamFile } from "../passes/job/reparam-file.ts";
import { readTensor, toTensorProto } from "../passes/ir/tensor.ts";
import { fixturePath } from "./helpers/fixtures.ts";
import { ownStderrLines, runCli, type CliRun } from "./helpers/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "cli-vb-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const HEAD = fixturePath("head-bn-einsum-op12-static.onnx");
const IMAGES = fixturePath("refs/head-bn-einsum-op12-static/r0.images.npy");
const FP16 = fixturePath("full-bn-einsum-op18-fp16-static.onnx");
const REP = join(dir, "rep.onnx"), OFF = join(dir, "off.onnx"), FEWER = join(dir, "fewer-outputs.onnx"), ALIEN = join(dir, "unknown-op.onnx");

beforeAll(async () => {
  const r = await reparamFile({ input: HEAD, output: REP, sites: "head" });
  expect(r.exitCode).toBe(0);
  // The same rewrite with one contrast Conv's weights 1 % off: validation must catch it.
  const off = loadModel(REP);
  const g = off.proto.graph!;
  const conv = g.node!.find((n) => n.op_type === "Conv" && n.name?.includes("reparam_conv"))!;
  const i = g.initializer!.findIndex((t) => t.name === conv.input![1]);
  const w = readTensor(g.initializer![i])!;
  g.initializer![i] = toTensorProto(conv.input![1], { ...w, data: w.data.map((v) => v * 1.01) });
  saveModel(off, OFF);
  const fewer = loadModel(HEAD);
  fewer.proto.graph!.output!.pop();
  saveModel(fewer, FEWER);
  // Same inputs and outputs, but an operator onnxruntime does not have: B cannot be loaded.
  const alien = loadModel(REP);
  alien.proto.graph!.node!.find((n) => n.op_type === "Conv")!.op_type = "NoSuchOp";
  saveModel(alien, ALIEN);
});

const json = (r: CliRun) => {
  expect(ownStderrLines(r.stderr).filter((l) => !l.startsWith("onnx-reparam: the models disagree"))).toEqual([]);
  return JSON.parse(r.stdout) as Record<string, any>;
};

function expectOneLine(r: CliRun, code: number, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  const lines = ownStderrLines(r.stderr);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toContain("    at ");
}

describe.concurrent("validate", () => {
  it("exit 0 when the models agree, with several seeded runs; --json is one object", async () => {
    const [text, js, half] = await Promise.all([
      runCli(["validate", HEAD, REP], 120_000), runCli(["validate", HEAD, REP, "--runs", "2", "--json"], 120_000),
      runCli(["validate", FP16, FP16, "--runs", "1", "--json"], 120_000),
    ]);
    expect(half.code, half.stderr).toBe(0);
    expect(json(half)).toMatchObject({ passed: true, atol: 5e-2, rtol: 1e-2 }); // fp16 models get the fp16 default
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/seeds 0, 1, 2/);
    expect(text.stdout).toMatch(/PASSED/);
    expect(js.code).toBe(0);
    const v = json(js);
    expect(Object.keys(v).sort()).toEqual(["a", "atol", "b", "exitCode", "outputs", "passed", "rtol", "runs"]);
    expect(v).toMatchObject({ exitCode: 0, passed: true, a: HEAD, b: REP, atol: 1e-3, rtol: 1e-3 });
    expect(v.runs.map((r: { seed: number }) => r.seed)).toEqual([0, 1]);
    expect(v.outputs.map((o: { name: string }) => o.name)).toEqual(["cls0", "cls1", "cls2", "box0", "box1", "box2"]);
    expect(v.runs[0].inputs).toEqual([{ name: "images", shape: [1, 3, 160, 160] }]);
  });

  it("exit 1 when they disagree (1 % off weights), even on the real input from .npy", async () => {
    const [seeded, real] = await Promise.all([
      runCli(["validate", HEAD, OFF, "--json"], 120_000),
      runCli(["validate", HEAD, OFF, "--input", `images=${IMAGES}`], 120_000),
    ]);
    expect(seeded.code).toBe(1);
    const v = json(seeded);
    expect(v.passed).toBe(false);
    const failed = v.outputs.filter((o: { passed: boolean }) => !o.passed).map((o: { name: string }) => o.name);
    expect(failed.length).toBe(1);
    expect(failed[0]).toMatch(/^cls[012]$/);
    expectOneLine(real, 1, /^onnx-reparam: the models disagree \(cls[012]: needs atol/);
    expect(real.stdout).toMatch(/1 run, seeds 0;/); // an input given as data is the same in every run
  });

  it("exit 2 on bad input: different outputs, a missing file, bad options", async () => {
    const [outputs, missing, badInput, noSuchInput, runs0, shapeAndData, alien] = await Promise.all([
      runCli(["validate", HEAD, FEWER], 60_000),
      runCli(["validate", HEAD, join(dir, "nope.onnx")], 60_000),
      runCli(["validate", HEAD, REP, "--input", "images"], 60_000),
      runCli(["validate", HEAD, REP, "--input", `text=${IMAGES}`], 60_000),
      runCli(["validate", HEAD, REP, "--runs", "0"], 60_000),
      runCli(["validate", HEAD, REP, "--input", `images=${IMAGES}`, "--input-shape", "images:1x3x160x160"], 60_000),
      runCli(["validate", HEAD, ALIEN], 60_000),
    ]);
    expectOneLine(alien, 2, /^onnx-reparam: onnxruntime cannot load B \(.*unknown-op\.onnx\): /);
    expectOneLine(outputs, 2, /the models must give the same outputs: .*lacks box2/);
    expectOneLine(missing, 2, /nope\.onnx.*no such file/);
    expectOneLine(badInput, 2, /--input 'images': expected NAME=file\.npy/);
    expectOneLine(noSuchInput, 2, /no input 'text'/);
    expectOneLine(runs0, 2, /--runs expects a whole number/);
    expectOneLine(shapeAndData, 2, /given both as data and with --input-shape/);
    for (const r of [outputs, missing, badInput]) expect(r.stdout).toBe("");
  });
});

describe.concurrent("bench", () => {
  it("times two models alternating; --json has medians, mins and the ratio", async () => {
    const [two, text] = await Promise.all([
      runCli(["bench", HEAD, REP, "--runs", "4", "--warmup", "1", "--threads", "1", "--json"], 120_000),
      runCli(["bench", HEAD, REP, "--runs", "3", "--warmup", "0"], 120_000),
    ]);
    expect(two.code, two.stderr).toBe(0);
    const b = json(two);
    expect(Object.keys(b).sort()).toEqual(["a", "b", "exitCode", "inputs", "ratio", "rounds", "threads", "warmup"]);
    expect(b).toMatchObject({ exitCode: 0, rounds: 4, warmup: 1, threads: 1, inputs: [{ name: "images", shape: [1, 3, 160, 160] }] });
    for (const m of [b.a, b.b]) {
      expect(m.times).toHaveLength(4);
      expect(m.min).toBe(Math.min(...m.times));
      expect(m.median).toBeGreaterThanOrEqual(m.min);
    }
    expect(b.a.model).toBe(HEAD);
    expect(b.b.model).toBe(REP);
    const ratios = b.a.times.map((t: number, i: number) => t / b.b.times[i]).sort((x: number, y: number) => x - y);
    expect(b.ratio).toBeCloseTo((ratios[1] + ratios[2]) / 2, 10);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/3 rounds after 0 warm-up runs/);
    expect(text.stdout).toMatch(/A\/B \d+\.\d\d \(median of per-round ratios\)/);
  });

  it("one model: no B, no ratio; bad input exits 2", async () => {
    const [one, mismatch, threads] = await Promise.all([
      runCli(["bench", REP, "--runs", "2", "--warmup", "0", "--json", "--input", `images=${IMAGES}`], 120_000),
      runCli(["bench", HEAD, FEWER, "--runs", "2"], 60_000),
      runCli(["bench", HEAD, "--threads", "0"], 60_000),
    ]);
    expect(one.code, one.stderr).toBe(0);
    const b = json(one);
    expect(b.b).toBeNull();
    expect(b.ratio).toBeNull();
    expect(b.threads).toBeNull();
    expect(b.a.times).toHaveLength(2);
    expectOneLine(mismatch, 2, /the models must give the same outputs/);
    expectOneLine(threads, 2, /--threads expects a whole number >= 1/);
  });
});

describe("--input data the model cannot take", () => {
  it("is blamed on --input, in one line", async () => {
    const { concreteInputs } = await import("../passes/validate/model-inputs.ts");
    const wrong = { dtype: 1, dims: [1, 3, 64, 64], data: new Float64Array(3 * 64 * 64) };
    expect(() => concreteInputs(loadModel(HEAD).proto, new Map(), new Map([["images", wrong]]))).toThrow(/^--input images: the data has shape \(1, 3, 64, 64\), the model declares \(1, 3, 160, 160\)$/);
  });
});
