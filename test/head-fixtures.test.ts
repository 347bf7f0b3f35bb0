// Head rewrite on every exported fixture (models/fixtures/manifest.json, read at test
// time): the sites found match the manifest, the contraction is gone, the graph's
// interface is unchanged, and the rewritten model still reproduces PyTorch's outputs.
// Only `sites: "head"`, so the neck rule under development does not affect these.
import { describe, expect, it } from "vitest";
import { reparamModel } from "../passes/pipeline/reparam-model.ts";
import { encodeModel } from "../passes/io/codec.ts";
import { readNpy } from "../passes/io/npy.ts";
import { loadModel } from "../passes/io/model-io.ts";
import {
  createSession, fixturePath, fixtureTextEmbed, headEinsums, headMatMuls, inputElemTypes, loadFixture, loadManifest,
  outputSignature, runOnNpy, worstError, type Fixture,
} from "./helpers/fixtures.ts";

// Tolerances against the PyTorch reference (not against the original ONNX, which
// validate-catches covers): |ort - torch| <= atol + rtol * |torch|. fp32: a 1x1 Conv and
// PyTorch's einsum sum in different orders; observed max |ort - torch| is <= ~6e-6 on
// every fixture (needed atol <= ~1.1e-6 at rtol 1e-4), so 1e-4 leaves ~20x room for other
// CPUs / kernels while still catching a wrong weight. fp16: the graph computes in half
// precision, so a few half ulps at |y| ~ 10 are normal (observed ~3e-3).
const TOL = { fp32: { atol: 1e-4, rtol: 1e-4 }, fp16: { atol: 5e-2, rtol: 1e-2 } };

const fixtures = loadManifest();
if (fixtures.length === 0) console.warn("[head-fixtures] no fixtures present: nothing to test");

describe.skipIf(fixtures.length === 0)("head rewrite on exported fixtures", () => {
  it.each(fixtures.map((f) => [f.name, f] as const))("%s", async (_name, f: Fixture) => {
    const model = loadFixture(f);
    const g = model.proto.graph!;
    const outputsBefore = outputSignature(g);
    const elemTypes = inputElemTypes(g);
    const original = encodeModel(model.proto);
    const contractionsBefore = headEinsums(g).length + headMatMuls(g).length;
    expect(contractionsBefore, "the fixture has head contractions to look at").toBeGreaterThanOrEqual(f.expect.head.rewritable + f.expect.head.skipped);

    const textEmbed = fixtureTextEmbed(f);
    const result = reparamModel(model, { sites: "head", textEmbed });

    // Sites: counts as the manifest says, only head sites, skipped ones explained.
    expect(result.sites.every((s) => s.kind === "head")).toBe(true);
    const rewritten = result.sites.filter((s) => s.status === "rewritten");
    const skipped = result.sites.filter((s) => s.status === "skipped");
    expect(rewritten.length, `rewritten head sites of ${f.name}`).toBe(f.expect.head.rewritable);
    expect(skipped.length, `skipped head sites of ${f.name}`).toBe(f.expect.head.skipped);
    for (const s of skipped) {
      expect(s.reason ?? "").not.toBe("");
      if (f.name.startsWith("v1-")) expect(s.reason).toContain("'images'");
    }
    for (const s of rewritten) {
      expect(s.form).toBe(f.headForm);
      expect(s.k).toBe(f.k);
      expect(s.nodes.length).toBeGreaterThan(0);
      expect(s.replacement?.length).toBe(1);
    }

    // The contraction is gone where it was rewritable; every site's output value is
    // now produced by exactly one node.
    if (f.expect.head.rewritable > 0 && f.expect.head.skipped === 0) {
      expect(headEinsums(g).map((n) => n.name)).toEqual([]);
      expect(headMatMuls(g).map((n) => n.name)).toEqual([]);
    }
    for (const s of rewritten) {
      const producers = (g.node ?? []).filter((n) => n.output?.includes(s.output));
      expect(producers.map((n) => n.op_type), `producer of ${s.output}`).toEqual(["Conv"]);
    }

    // Interface: same outputs (names, types, dims); a bound text input is gone.
    expect(outputSignature(g)).toEqual(outputsBefore);
    const inputNames = (g.input ?? []).map((v) => v.name);
    if (f.textInput) {
      expect(result.bound?.name).toBe(f.textInput.name);
      expect(inputNames).not.toContain(f.textInput.name);
    }

    // Numerics against PyTorch, at every reference size (two for dynamic fixtures).
    const tol = f.fp16 ? TOL.fp16 : TOL.fp32;
    if (f.dynamic) expect(f.refs.length).toBeGreaterThanOrEqual(2);
    const [s0, s1] = [await createSession(original), await createSession(encodeModel(model.proto))];
    try {
      if (f.textInput) {
        expect(s0.inputNames).toContain(f.textInput.name);
        expect(s1.inputNames).not.toContain(f.textInput.name);
      }
      for (const [ri, ref] of f.refs.entries()) {
        const [o0, o1] = [await runOnNpy(s0, ref.inputs, elemTypes), await runOnNpy(s1, ref.inputs, elemTypes)];
        expect(Object.keys(o1).sort()).toEqual(Object.keys(ref.outputs).sort());
        let worst = { name: "", orig: 0, rep: 0, need: 0 };
        for (const [name, rel] of Object.entries(ref.outputs)) {
          const torch = readNpy(fixturePath(rel));
          expect(o1[name].dims, `${name} shape`).toEqual(torch.dims);
          const eOrig = worstError(torch.data, o0[name].data, tol.rtol);
          const eRep = worstError(torch.data, o1[name].data, tol.rtol);
          expect(eOrig.minAtol, `original ${name} vs PyTorch`).toBeLessThanOrEqual(tol.atol);
          expect(eRep.minAtol, `rewritten ${name} vs PyTorch (max abs ${eRep.maxAbs})`).toBeLessThanOrEqual(tol.atol);
          if (eRep.minAtol >= worst.need) worst = { name, orig: eOrig.maxAbs, rep: eRep.maxAbs, need: eRep.minAtol };
        }
        console.log(`[head-fixtures] ${f.name} ref ${ri} (${ref.shape?.join("x") ?? "?"}): worst ${worst.name} max|ort-torch| original ${worst.orig.toExponential(2)}, rewritten ${worst.rep.toExponential(2)}; needs atol ${worst.need.toExponential(2)} <= ${tol.atol} (rtol ${tol.rtol})`);
      }
    } finally {
      await s0.release();
      await s1.release();
    }

    // Idempotent: the output, decoded again, has no rewritable head site left.
    const again = reparamModel(loadModel(encodeModel(model.proto)), { sites: "head" });
    expect(again.sites.filter((s) => s.status === "rewritten")).toEqual([]);
    expect(again.sites.length).toBe(f.expect.head.skipped);
  });
});
