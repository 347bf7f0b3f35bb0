// --classes against PyTorch (references by models/gen/gen_subset_refs.py): the model run with
// only the chosen rows of its text, on the Ultralytics-style static export, its onnxslim twins
// (text folded per site), the dynamic export and its twin, fp16, and K = 1203. Plus fp16
// retargets to K' = 20 and 1 (models/fixtures/vocab/fp16.json) with the default proof tolerance.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readNpy } from "../passes/io/npy.ts";
import { loadModel } from "../passes/io/model-io.ts";
import { encodeModel } from "../passes/io/codec.ts";
import { reparamFile } from "../passes/job/reparam-file.ts";
import { DEFAULT_TOLERANCE } from "../passes/validate/compare-models.ts";
import { modelNames } from "../passes/vocab/report.ts";
import { EXIT } from "../passes/errors.ts";
import { createSession, fixturePath, inputElemTypes, runOnNpy, worstError } from "./helpers/fixtures.ts";

interface Ref { inputs: Record<string, string>; outputs: Record<string, string> }
interface Subset { name: string; file: string; k: number; kPrime: number; indices: number[]; names: string[]; fp16: boolean; refTolerance?: { atol: number; rtol: number }; refs: Ref[] }
interface Half { name: string; file: string; k: number; refTolerance: { atol: number; rtol: number }; vocab: Array<{ k: number; text: string; refs: Ref[] }> }

const read = <T>(rel: string): T[] => (existsSync(fixturePath(rel)) ? JSON.parse(readFileSync(fixturePath(rel), "utf8")).fixtures : []);
const subsets = read<Subset>("vocab/subsets.json").filter((f) => existsSync(fixturePath(f.file)));
const halves = read<Half>("vocab/fp16.json").filter((f) => existsSync(fixturePath(f.file)));
const FP32 = { atol: 1e-3, rtol: 1e-3 };
const tmp = mkdtempSync(join(tmpdir(), "reparam-subsets-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function matchesRefs(out: string, refs: Ref[], tol: { atol: number; rtol: number }): Promise<void> {
  const m = loadModel(out);
  const s = await createSession(encodeModel(m.proto));
  try {
    for (const ref of refs) {
      const got = await runOnNpy(s, ref.inputs, inputElemTypes(m.proto.graph!));
      for (const [name, rel] of Object.entries(ref.outputs)) {
        const torch = readNpy(fixturePath(rel));
        expect(got[name].dims, `${name} shape`).toEqual(torch.dims);
        const e = worstError(torch.data, got[name].data, tol.rtol);
        expect(e.minAtol, `${name} vs PyTorch (max abs ${e.maxAbs})`).toBeLessThanOrEqual(tol.atol);
      }
    }
  } finally { await s.release(); }
}

describe("--classes matches PyTorch run with those rows of the text", () => {
  if (subsets.length === 0) it.skip("no subset references (models/fixtures/vocab/subsets.json)", () => {});
  for (const f of subsets) {
    it(`${f.name}: ${f.kPrime} of ${f.k} classes`, async () => {
      const own = modelNames(loadModel(fixturePath(f.file))).names;
      // By name where the export has names metadata (Ultralytics writes it), else by index.
      const classes = own?.length === f.k ? f.names : f.indices;
      const out = join(tmp, `${f.name}.onnx`);
      const r = await reparamFile({ input: fixturePath(f.file), output: out, classes });
      expect(r.exitCode, r.message).toBe(EXIT.OK);
      expect(r.vocabulary).toMatchObject({ from: f.k, to: f.kPrime, source: "--classes", proof: "padded" });
      if (own?.length === f.k) expect(modelNames(loadModel(out)).names).toEqual(f.names);
      await matchesRefs(out, f.refs, f.fp16 ? f.refTolerance ?? DEFAULT_TOLERANCE.float16 : FP32);
    });
  }
});

describe("fp16 retargets pass the proof with the default tolerance and match PyTorch", () => {
  for (const f of halves) {
    for (const v of f.vocab) {
      it(`${f.name}: K ${f.k} -> ${v.k}`, async () => {
        const out = join(tmp, `${f.name}-k${v.k}.onnx`);
        const r = await reparamFile({ input: fixturePath(f.file), output: out, textEmbed: fixturePath(v.text) });
        expect(r.exitCode, r.message).toBe(EXIT.OK);
        expect(r.validation).toMatchObject({ passed: true, atol: DEFAULT_TOLERANCE.float16.atol, rtol: DEFAULT_TOLERANCE.float16.rtol });
        await matchesRefs(out, v.refs, f.refTolerance);
      });
    }
  }
});
