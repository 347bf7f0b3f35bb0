// Retargeting a baked-in text to K' classes: the rewritten model must equal PyTorch run
// with the new vocabulary (same weights, only the text differs; references made by
// models/gen/gen_vocab_refs.py), for K' below, at and above the model's K.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readNpy } from "../passes/io/npy.ts";
import { encodeModel, decodeModelBytes } from "../passes/io/codec.ts";
import { loadModel } from "../passes/io/model-io.ts";
import { GraphIR } from "../passes/ir/graph.ts";
import { reparamModel } from "../passes/pipeline/reparam-model.ts";
import { reparamFile } from "../passes/job/reparam-file.ts";
import { proveRetarget } from "../passes/validate/prove-retarget.ts";
import { nodeProofEnv } from "../passes/validate/proof-env-node.ts";
import { DEFAULT_TOLERANCE } from "../passes/validate/validate.ts";
import { modelNames } from "../passes/vocab/report.ts";
import { ReparamError } from "../passes/errors.ts";
import { createSession, FIXTURES, fixturePath, inputElemTypes, loadFixture, runOnNpy, worstError, type Fixture } from "./helpers/fixtures.ts";
import { encodeNpy } from "./helpers/npy-writer.ts";

interface VocabRef { inputs: Record<string, string>; outputs: Record<string, string>; shape?: number[] }
interface VocabFixture { name: string; file: string; k: number; d: number; vocab: Array<{ k: number; text: string; refs: VocabRef[] }> }

const manifestPath = fixturePath("vocab/manifest.json");
const manifest: { fixtures: VocabFixture[] } = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, "utf8")) : { fixtures: [] };
const fixtures = manifest.fixtures.filter((f) => existsSync(fixturePath(f.file)));
const TOL = { atol: 1e-3, rtol: 1e-3 };
const tmp = mkdtempSync(join(tmpdir(), "reparam-vocab-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const asFixture = (f: VocabFixture) => ({ name: f.name, file: f.file } as Fixture);
const embedOf = (rel: string) => ({ value: readNpy(fixturePath(rel)), source: rel });

describe("retargeted models match PyTorch run with the new vocabulary", () => {
  if (fixtures.length === 0) it.skip("no vocab fixtures (models/fixtures/vocab/manifest.json)", () => {});
  for (const f of fixtures) {
    for (const v of f.vocab) {
      it(`${f.name}: K ${f.k} -> ${v.k}`, async () => {
        const model = loadFixture(asFixture(f));
        const result = reparamModel(model, { textEmbed: embedOf(v.text) });
        expect(result.vocabulary?.from).toBe(f.k);
        expect(result.vocabulary?.to).toBe(v.k);
        expect(result.sites.every((s) => s.status === "skipped" || s.k === v.k)).toBe(true);
        // The same sites are rewritten as with the model's own vocabulary (v1 image pooling: none).
        const plain = reparamModel(loadFixture(asFixture(f)));
        expect(result.sites.map((s) => s.status)).toEqual(plain.sites.map((s) => s.status));
        const g = model.proto.graph!;
        const session = await createSession(encodeModel(model.proto));
        try {
          for (const ref of v.refs) {
            const out = await runOnNpy(session, ref.inputs, inputElemTypes(g));
            for (const [name, rel] of Object.entries(ref.outputs)) {
              const torch = readNpy(fixturePath(rel));
              expect(out[name].dims, `${name} shape`).toEqual(torch.dims);
              const e = worstError(torch.data, out[name].data, TOL.rtol);
              expect(e.minAtol, `${name} vs PyTorch (max abs ${e.maxAbs})`).toBeLessThanOrEqual(TOL.atol);
            }
          }
        } finally {
          await session.release();
        }
      });
    }
  }
});

const byName = (n: string) => fixtures.find((f) => f.name === n);

describe("the proof", () => {
  for (const [name, k, proof] of [["ultralytics-world-op17-dynamic", 20, "padded"], ["ultralytics-world-op17-dynamic", 240, "duplicated+swapped"], ["upstream-v2-einsum-op12-static", 1, "padded"], ["full-bn-einsum-op17-static", 240, "duplicated+swapped"], ["v1-imgpool-l2-einsum-op17-static", 20, "padded"]] as const) {
    it(`${name} K' = ${k}: ${proof} proof passes and the report says so`, async () => {
      const f = byName(name);
      if (!f) return;
      const out = join(tmp, `${name}-${k}.onnx`), report = join(tmp, `${name}-${k}.json`);
      const r = await reparamFile({ input: fixturePath(f.file), output: out, textEmbed: fixturePath(`vocab/texts-k${k}.npy`), report });
      expect(r.exitCode, r.message).toBe(0);
      expect(r.validation?.passed).toBe(true);
      const json = JSON.parse(readFileSync(report, "utf8"));
      expect(json.vocabulary).toMatchObject({ from: f.k, to: k, proof, names: expect.any(String) });
      if (proof === "duplicated+swapped") expect(json.validation.bookkeeping.passed).toBe(true);
    });
  }

  // Deliberately wrong bookkeeping: the Split that separates boxes from classes keeps K.
  for (const k of [20, 240]) {
    it(`catches a Split size left at K (K' = ${k})`, async () => {
      const f = byName("ultralytics-world-op17-dynamic");
      if (!f) return;
      const input = fixturePath(f.file);
      const model = loadModel(input);
      const result = reparamModel(model, { textEmbed: embedOf(`vocab/texts-k${k}.npy`), keepBookkept: true });
      const unfixSplit = (proto: typeof model.proto) => {
        const g = new GraphIR(proto.graph!);
        const split = g.nodes.find((n) => n.op_type === "Split" && (n.input ?? []).length > 1 && g.constant(n.input![1])?.data.length === 2 && g.constant(n.input![1])!.data[0] === 64)!;
        expect(split, "the box/class Split").toBeTruthy();
        const name = g.addInitializer("wrong_split", { dtype: 7, dims: [2], data: Float64Array.of(64, f.k) });
        g.setInput(split, 1, name);
      };
      unfixSplit(model.proto);
      if (result.bookkept) {
        const bk = decodeModelBytes(result.bookkept, "bookkept");
        unfixSplit(bk);
        result.bookkept = encodeModel(bk);
      }
      const probeSets = [[{ name: "images", dtype: 1, shape: [1, 3, 64, 64] }]];
      const outcome = await proveRetarget(nodeProofEnv(input), model, result, probeSets, DEFAULT_TOLERANCE.float32).then((v) => v.passed, (e: unknown) => (e instanceof ReparamError ? `error ${e.exitCode}` : "other"));
      expect([false, "error 1"]).toContain(outcome);
    });
  }
});

describe("names metadata and bad input", () => {
  const f = () => byName("ultralytics-world-op20-static-meta") ?? byName("ultralytics-world-op17-dynamic");

  it("--names sets the names entry in the exporter's format (Python dict, quotes, unicode); other metadata stays", async () => {
    const fx = f();
    if (!fx) return;
    const out = join(tmp, "names.onnx");
    const before = loadModel(fixturePath(fx.file)).proto.metadata_props ?? [];
    const r = await reparamFile({ input: fixturePath(fx.file), output: out, textEmbed: fixturePath("vocab/texts-k20.npy"), names: fixturePath("vocab/names-k20.txt"), validate: false });
    expect(r.exitCode, r.message).toBe(0);
    const m = loadModel(out);
    const names = readFileSync(fixturePath("vocab/names-k20.txt"), "utf8").split("\n").map((s) => s.trim()).filter(Boolean);
    expect(modelNames(m).names).toEqual(names);
    if (before.some((p) => p.key === "names")) expect(modelNames(m).raw).toBe(readFileSync(fixturePath("vocab/names-k20.pydict.txt"), "utf8").trim());
    const others = (p: { key?: string | null }) => p.key !== "names";
    expect((m.proto.metadata_props ?? []).filter(others)).toEqual(before.filter(others));
    expect(r.vocabulary?.names).toBe("set");
  });

  it("a JSON array names file works too", async () => {
    const fx = f();
    if (!fx) return;
    const r = await reparamFile({ input: fixturePath(fx.file), output: join(tmp, "names-json.onnx"), textEmbed: fixturePath("vocab/texts-k20.npy"), names: fixturePath("vocab/names-k20.json"), validate: false });
    expect(r.exitCode).toBe(0);
    expect(modelNames(loadModel(join(tmp, "names-json.onnx"))).names).toEqual(JSON.parse(readFileSync(fixturePath("vocab/names-k20.json"), "utf8")));
  });

  it("without --names, a model with names is kept but flagged stale", async () => {
    const fx = byName("ultralytics-world-op20-static-meta");
    if (!fx) return;
    const r = await reparamFile({ input: fixturePath(fx.file), output: join(tmp, "stale.onnx"), textEmbed: fixturePath("vocab/texts-k20.npy"), validate: false });
    expect(r.exitCode).toBe(0);
    expect(r.vocabulary?.names).toBe("stale");
    expect(r.warnings.join("\n")).toMatch(/names/);
    expect(modelNames(loadModel(join(tmp, "stale.onnx"))).raw).toBe(modelNames(loadModel(fixturePath(fx.file))).raw);
  });

  const bad = (name: string, dims: number[], values: ArrayLike<number>, descr: "<f4" | "<f8" = "<f4") => {
    const p = join(tmp, name);
    writeFileSync(p, encodeNpy(dims, values, descr));
    return p;
  };
  const base = () => readNpy(fixturePath("vocab/texts-k20.npy"));

  it.each([
    ["NaN", () => { const t = base(); t.data[3 * 512 + 7] = NaN; return bad("nan.npy", t.dims, t.data); }, /row 4 of .*nan\.npy holds NaN \(column 8\)/],
    ["Inf", () => { const t = base(); t.data[5 * 512] = Infinity; return bad("inf.npy", t.dims, t.data); }, /row 6 of .*inf\.npy holds Infinity \(column 1\)/],
    // A float32-representable row whose scores overflow: |t|^2 = 512e60 (issue 17: it used to say "validation failed").
    ["magnitude 1e30", () => { const t = base(); t.data.fill(1e30, 2 * 512, 3 * 512); return bad("huge.npy", t.dims, t.data); }, /row 3 of .*huge\.npy has L2 norm 2\.26e\+31: its square overflows float32/],
    ["beyond float32", () => { const t = base(); t.data[7 * 512 + 1] = 1e39; return bad("f64.npy", t.dims, t.data, "<f8"); }, /row 8 of .*f64\.npy holds 1e\+39 \(column 2\), beyond float32's range/],
    ["D mismatch", () => bad("d.npy", [20, 256], new Float32Array(20 * 256).fill(0.1)), /D = 256.*D = 512/],
    ["K' = 0", () => bad("k0.npy", [0, 512], new Float32Array(0)), /no rows/],
  ])("%s is refused with one line, exit 2, nothing written", async (_, make, message) => {
    const fx = f();
    if (!fx) return;
    const out = join(tmp, `bad-${_}.onnx`);
    const err = await reparamFile({ input: fixturePath(fx.file), output: out, textEmbed: make() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReparamError);
    expect((err as ReparamError).exitCode).toBe(2);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain("\n");
    expect(existsSync(out)).toBe(false);
  });

  it("names whose count differs from K' are refused; duplicates and zero rows warn", async () => {
    const fx = f();
    if (!fx) return;
    const names = join(tmp, "names3.txt");
    writeFileSync(names, "a\nb\nc\n");
    const err = await reparamFile({ input: fixturePath(fx.file), output: join(tmp, "n3.onnx"), textEmbed: fixturePath("vocab/texts-k20.npy"), names, validate: false }).catch((e: unknown) => e);
    expect((err as ReparamError).exitCode).toBe(2);
    expect((err as Error).message).toMatch(/3 names for 20/);
    const t = base();
    t.data.fill(0, 2 * 512, 3 * 512);
    const dup = join(tmp, "dup.txt");
    writeFileSync(dup, [...Array(19).keys()].map((i) => `c${i}`).concat("c0").join("\n"));
    const r = await reparamFile({ input: fixturePath(fx.file), output: join(tmp, "warn.onnx"), textEmbed: bad("zero.npy", t.dims, t.data), names: dup, validate: false });
    expect(r.exitCode).toBe(0);
    expect(r.warnings.join("\n")).toMatch(/row 3 is all zeros/);
    expect(r.warnings.join("\n")).toMatch(/"c0" appears more than once/);
  });

  it("float64 rows are accepted and rounded like float32 ones", async () => {
    const fx = f();
    if (!fx || !existsSync(fixturePath("vocab/texts-k20-f64.npy"))) return;
    const m64 = loadFixture(asFixture(fx)), m32 = loadFixture(asFixture(fx));
    reparamModel(m64, { textEmbed: embedOf("vocab/texts-k20-f64.npy") });
    reparamModel(m32, { textEmbed: { value: { ...readNpy(fixturePath("vocab/texts-k20-f64.npy")), dtype: 1, data: Float64Array.from(Float32Array.from(readNpy(fixturePath("vocab/texts-k20-f64.npy")).data)) }, source: "f32" } });
    expect(Buffer.from(encodeModel(m64.proto)).equals(Buffer.from(encodeModel(m32.proto)))).toBe(true);
  });
});

describe("text as a graph input", () => {
  it("a fixed-K text input takes K' != K rows: bound, retargeted, proven", async () => {
    const input = join(FIXTURES, "full-bn-einsum-op17-textinput-static.onnx");
    if (!existsSync(input)) return;
    for (const k of [20, 240]) {
      const r = await reparamFile({ input, output: join(tmp, `ti-${k}.onnx`), textEmbed: fixturePath(`vocab/texts-k${k}.npy`) });
      expect(r.exitCode, r.message).toBe(0);
      expect(r.vocabulary).toMatchObject({ from: 80, to: k, proof: k < 80 ? "padded" : "duplicated+swapped" });
      const m = loadModel(join(tmp, `ti-${k}.onnx`));
      expect((m.proto.graph!.input ?? []).map((v) => v.name)).toEqual(["images"]);
    }
  });
});

describe("command line", () => {
  it("inspect shows K and names; reparam --names without --text-embed is a usage error; warnings go to stderr", async () => {
    const { runCli, ownStderrLines } = await import("./helpers/cli.ts");
    const meta = fixturePath("ultralytics-world-op20-static-meta.onnx");
    if (!existsSync(meta)) return;
    const inspect = await runCli(["inspect", meta]);
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toMatch(/classes: K = 80; names \(80\): person, bicycle/);
    const usage = await runCli(["reparam", meta, "-o", join(tmp, "u.onnx"), "--names", fixturePath("vocab/names-k20.txt")]);
    expect(usage.code).toBe(2);
    expect(ownStderrLines(usage.stderr)).toEqual([expect.stringMatching(/^onnx-reparam: --names .*--text-embed/)]);
    const stale = await runCli(["reparam", meta, "-o", join(tmp, "s.onnx"), "--text-embed", fixturePath("vocab/texts-k20.npy"), "--no-validate", "--json"]);
    expect(stale.code).toBe(0);
    expect(ownStderrLines(stale.stderr)).toEqual([expect.stringMatching(/^onnx-reparam: warning: the model's 'names' metadata \(80 names\) no longer matches/)]);
    expect(JSON.parse(stale.stdout).vocabulary).toMatchObject({ from: 80, to: 20, names: "stale" });
  });
});

describe("class names to a proven model in one step (reparam --encoder)", () => {
  it("embeds the names with the tiny CLIP encoder, retargets, sets names, and matches PyTorch run on those embeddings", async () => {
    const name = "ultralytics-world-op20-static-meta";
    const ref = fixturePath(`vocab/refs/${name}/clip40.r0.output0.npy`);
    if (!existsSync(fixturePath(`${name}.onnx`)) || !existsSync(ref)) return;
    const out = join(tmp, "one-step.onnx");
    const namesFile = fixturePath("vocab/clip40.names.json");
    const r = await reparamFile({ input: fixturePath(`${name}.onnx`), output: out, encoder: fixturePath("clip-tiny"), names: namesFile });
    expect(r.exitCode, r.message).toBe(0);
    expect(r.vocabulary).toMatchObject({ from: 80, to: 40, names: "set", proof: "padded" });
    expect(r.warnings.join("\n")).toMatch(/77/); // the very long name was truncated, as CLIP does
    const m = loadModel(out);
    expect(modelNames(m).names).toEqual(JSON.parse(readFileSync(namesFile, "utf8")));
    const session = await createSession(readFileSync(out));
    try {
      const got = await runOnNpy(session, { images: `refs/${name}/r0.images.npy` });
      const torch = readNpy(ref);
      expect(got.output0.dims).toEqual(torch.dims);
      const e = worstError(torch.data, got.output0.data, TOL.rtol);
      expect(e.minAtol, `max abs ${e.maxAbs}`).toBeLessThanOrEqual(TOL.atol);
    } finally {
      await session.release();
    }
  });

  it("--encoder needs --names and excludes --text-embed", async () => {
    const input = fixturePath("ultralytics-world-op17-dynamic.onnx");
    const a = await reparamFile({ input, output: join(tmp, "e1.onnx"), encoder: fixturePath("clip-tiny") }).catch((e: unknown) => e);
    expect((a as Error).message).toMatch(/give --names too/);
    const b = await reparamFile({ input, output: join(tmp, "e2.onnx"), encoder: fixturePath("clip-tiny"), textEmbed: fixturePath("vocab/texts-k20.npy"), names: fixturePath("vocab/names-k20.txt") }).catch((e: unknown) => e);
    expect((b as ReparamError).exitCode).toBe(2);
  });
});
