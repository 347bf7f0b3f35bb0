// The whole pass (head + neck) on every exported fixture, in each neck replacement form:
// the sites match the manifest, no text contraction is left where one was rewritable,
// and the rewritten model reproduces PyTorch's reference outputs at every reference size.
import { describe, expect, it } from "vitest";
import { reparamModel } from "../passes/pipeline/reparam-model.ts";
import { encodeModel } from "../passes/io/codec.ts";
import { readNpy } from "../passes/io/npy.ts";
import { loadModel } from "../passes/io/model-io.ts";
import { DT, type Graph } from "../passes/io/onnx-types.ts";
import type { NeckLayout } from "../passes/rules/neck-emit.ts";
import {
  createSession, einsumEquation, fixturePath, fixtureTextEmbed, headEinsums, headMatMuls, inputElemTypes, loadFixture,
  loadManifest, outputSignature, permOf, runOnNpy, worstError,
} from "./helpers/fixtures.ts";

const TOL = { fp32: { atol: 1e-4, rtol: 1e-4 }, fp16: { atol: 5e-2, rtol: 1e-2 } };
const FORMS: NeckLayout[] = ["conv", "per-head", "matmul"];

/** Neck contractions an exporter writes: a 5-D Einsum, or a MatMul fed by Transpose(0,1,3,4,2). */
function neckContractions(g: Graph): string[] {
  const producer = new Map((g.node ?? []).flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
  return (g.node ?? []).filter((n) => {
    if (n.op_type === "Einsum") return einsumEquation(n).split("->")[0].split(",").some((t) => t.trim().length === 5);
    if (n.op_type !== "MatMul") return false;
    const t = producer.get(producer.get(n.input![0])?.input?.[0] ?? "");
    return !!t && t.op_type === "Transpose" && permOf(t) === "0,1,3,4,2";
  }).map((n) => n.name ?? "");
}

const fixtures = loadManifest().filter((f) => f.expect.neck.rewritable + f.expect.neck.skipped > 0);
const cases = fixtures.flatMap((f) => FORMS.map((form) => [`${f.name} (${form})`, f, form] as const));

describe.skipIf(cases.length === 0)("head + neck rewrite on exported fixtures", () => {
  it.each(cases)("%s", async (_label, f, form) => {
    const model = loadFixture(f);
    const g = model.proto.graph!;
    const original = encodeModel(model.proto);
    const outputsBefore = outputSignature(g);
    const elemTypes = inputElemTypes(g);
    expect(neckContractions(g).length).toBe(f.expect.neck.rewritable + f.expect.neck.skipped);

    const result = reparamModel(model, { sites: "all", neckForm: form, textEmbed: fixtureTextEmbed(f) });
    const count = (kind: string, status: string) => result.sites.filter((s) => s.kind === kind && s.status === status).length;
    expect(count("neck", "rewritten")).toBe(f.expect.neck.rewritable);
    expect(count("neck", "skipped")).toBe(f.expect.neck.skipped);
    expect(count("head", "rewritten")).toBe(f.expect.head.rewritable);
    for (const s of result.sites.filter((x) => x.kind === "neck")) {
      if (s.status === "skipped") expect(s.reason).toMatch(/'images'/);
      else {
        expect(s.form).toBe(f.neckForm);
        expect(s.k).toBe(f.k);
        expect(s.folded).toContain("positive scale");
      }
    }
    // What was rewritable is gone; what was refused is still there.
    expect(neckContractions(g).length).toBe(f.expect.neck.skipped);
    if (f.expect.head.skipped === 0) expect([...headEinsums(g), ...headMatMuls(g)]).toEqual([]);
    expect((g.node ?? []).some((n) => n.op_type === "Einsum")).toBe(f.expect.neck.skipped + f.expect.head.skipped > 0);
    expect(outputSignature(g)).toEqual(outputsBefore);
    // Weights come out in the model's own precision.
    const weights = (g.initializer ?? []).filter((t) => /reparam_(weight|bias)/.test(t.name ?? ""));
    const anyRewritten = f.expect.head.rewritable + f.expect.neck.rewritable > 0;
    expect(new Set(weights.map((t) => t.data_type))).toEqual(new Set(anyRewritten ? [f.fp16 ? DT.FLOAT16 : DT.FLOAT] : []));

    const tol = f.fp16 ? TOL.fp16 : TOL.fp32;
    const [s0, s1] = [await createSession(original), await createSession(encodeModel(model.proto))];
    try {
      for (const ref of f.refs) {
        const [o0, o1] = [await runOnNpy(s0, ref.inputs, elemTypes), await runOnNpy(s1, ref.inputs, elemTypes)];
        for (const [name, rel] of Object.entries(ref.outputs)) {
          const torch = readNpy(fixturePath(rel));
          expect(o1[name].dims, `${name} shape`).toEqual(torch.dims);
          expect(worstError(torch.data, o0[name].data, tol.rtol).minAtol, `original ${name}`).toBeLessThanOrEqual(tol.atol);
          expect(worstError(torch.data, o1[name].data, tol.rtol).minAtol, `rewritten ${name} (${form})`).toBeLessThanOrEqual(tol.atol);
        }
      }
    } finally {
      await s0.release();
      await s1.release();
    }

    const again = reparamModel(loadModel(encodeModel(model.proto)), { sites: "all", neckForm: form });
    expect(again.sites.filter((s) => s.status === "rewritten")).toEqual([]);
  });
});
