// --neck-form auto: the selection rule (never slower than the fastest by more than the noise
// it measured), that the model kept is the form chosen, that the report lists every form's
// timings, and that the chosen model validates. The timer is mocked where the choice must be
// forced; one run uses the real onnxruntime timer on a small fixture.
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chooseNeckForm, NECK_FORMS, selectForm } from "../passes/job/neck-form-auto.ts";
import type { Timer } from "../passes/job/neck-form-auto.ts";
import type { NeckLayout } from "../passes/rules/neck-emit.ts";
import { reparamFile } from "../passes/job/reparam-file.ts";
import { EXIT } from "../passes/errors.ts";
import { fixtureByName, fixturePath } from "./helpers/fixtures.ts";

const FULL = fixtureByName("full-bn-einsum-op17-static");
const HEAD_ONLY = fixtureByName("head-bn-einsum-op12-static");

function rng(seed: number) {
  let a = seed >>> 0;
  return () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

describe("selectForm", () => {
  it("is never slower than the fastest median by more than the noise it reports (random noisy timings)", () => {
    const r = rng(3);
    for (let trial = 0; trial < 200; trial++) {
      const samples = new Map<NeckLayout, number[]>(NECK_FORMS.map((f) => {
        const base = 50 + r() * 20, jitter = r() * 10;
        return [f, Array.from({ length: 3 + Math.floor(r() * 8) }, () => base + (r() - 0.5) * jitter + (r() < 0.1 ? 40 : 0))];
      }));
      const { chosen, timings, noiseMs } = selectForm(samples);
      const fastest = Math.min(...NECK_FORMS.map((f) => timings[f]!.medianMs));
      expect(timings[chosen]!.medianMs).toBeLessThanOrEqual(fastest + noiseMs);
      expect(noiseMs).toBeGreaterThanOrEqual(0);
      expect(Object.keys(timings).sort()).toEqual([...NECK_FORMS].sort());
    }
  });

  it("picks the clearly fastest form and reports medians, minima and spread", () => {
    const { chosen, timings, noiseMs } = selectForm(new Map<NeckLayout, number[]>([
      ["conv", [10, 11, 10.5, 30]], ["per-head", [12, 12.5, 13, 12]], ["matmul", [8, 8.2, 7.9, 8.1]],
    ]));
    expect(chosen).toBe("matmul");
    expect(timings.conv).toMatchObject({ medianMs: 10.75, minMs: 10 });
    expect(timings.matmul!.medianMs).toBeCloseTo(8.05, 10);
    // conv's one 30 ms outlier barely moves its median absolute deviation (0.5 ms).
    expect(noiseMs).toBeCloseTo(0.5, 10);
  });
});

describe("chooseNeckForm", () => {
  it.skipIf(!FULL)("keeps the model of the form the (mocked) timer found fastest, with every form's timings", async () => {
    for (const fastest of NECK_FORMS) {
      const seen: string[] = [];
      const timer: Timer = async (models, feeds, opts) => {
        seen.push(...models.map((m) => m.name));
        expect(Object.keys(feeds)).toEqual(["images"]);
        expect(models.every((m) => m.bytes && m.bytes.length > 1000)).toBe(true);
        return new Map(models.map((m) => [m.name, Array.from({ length: opts.rounds }, (_, i) => (m.name === fastest ? 5 : 9) + (i % 3) * 0.1)]));
      };
      const r = await chooseNeckForm(fixturePath(FULL!.file), {}, { rounds: 5, warmup: 0 }, timer);
      expect(seen.sort()).toEqual([...NECK_FORMS].sort());
      expect(r.choice.chosen).toBe(fastest);
      expect(Object.keys(r.choice.timings).sort()).toEqual([...NECK_FORMS].sort());
      expect(r.choice.timings[fastest]!.samplesMs).toHaveLength(5);
      // The model handed back is that form's rewrite: its neck nodes say which.
      const ops = r.model.proto.graph!.node!.filter((n) => (n.name ?? "").includes("/reparam_")).map((n) => n.op_type);
      const necks = r.result.sites.filter((s) => s.kind === "neck" && s.status === "rewritten");
      expect(necks).toHaveLength(4);
      if (fastest === "matmul") expect(ops.filter((o) => o === "MatMul")).toHaveLength(4);
      if (fastest === "per-head") expect(ops.filter((o) => o === "Slice").length).toBeGreaterThanOrEqual(4);
      if (fastest === "conv") expect(ops.filter((o) => o === "MatMul" || o === "Slice")).toHaveLength(0);
    }
  });

  it.skipIf(!HEAD_ONLY)("times nothing when no neck site is rewritten (the three forms are one model)", async () => {
    const timer: Timer = async () => { throw new Error("must not be called"); };
    const r = await chooseNeckForm(fixturePath(HEAD_ONLY!.file), {}, {}, timer);
    expect(r.choice.chosen).toBe("conv");
    expect(r.choice.reason).toMatch(/no neck site/);
    expect(r.choice.timings).toEqual({});
  });
});

describe("reparam --neck-form auto (real onnxruntime timing)", () => {
  it.skipIf(!FULL)("picks a form, reports the timings of all three, and the chosen model validates", async () => {
    const dir = mkdtempSync(join(tmpdir(), "neck-auto-"));
    const report = join(dir, "r.json");
    const r = await reparamFile({ input: fixturePath(FULL!.file), output: join(dir, "out.onnx"), neckForm: "auto", report });
    expect(r.exitCode, r.message).toBe(EXIT.OK);
    expect(r.validation?.passed).toBe(true);
    const json = JSON.parse(readFileSync(report, "utf8"));
    expect(NECK_FORMS).toContain(json.neckForm.chosen);
    for (const f of NECK_FORMS) {
      expect(json.neckForm.timings[f].samplesMs).toHaveLength(json.neckForm.rounds);
      expect(json.neckForm.timings[f].medianMs).toBeGreaterThan(0);
    }
    const fastest = Math.min(...NECK_FORMS.map((f) => json.neckForm.timings[f].medianMs));
    expect(json.neckForm.timings[json.neckForm.chosen].medianMs).toBeLessThanOrEqual(fastest + json.neckForm.noiseMs);
    // The fixture is static at 1x3x160x160: timed at its own shape.
    expect(json.neckForm).toMatchObject({ threads: 2, optimization: "all", inputs: [{ name: "images", shape: [1, 3, 160, 160] }] });
  });
});
