// Binding a text-embedding graph input from a .npy file (--text-embed): accepted shapes
// and dtypes, and errors that say what is wrong and where.
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bindText } from "../passes/vocab/bind-text.ts";
import { reparamModel } from "../passes/pipeline/reparam-model.ts";
import { encodeModel } from "../passes/io/codec.ts";
import { readNpy } from "../passes/io/npy.ts";
import { GraphIR } from "../passes/ir/graph.ts";
import { readTensor } from "../passes/ir/tensor.ts";
import { DT, type ValueInfo } from "../passes/io/onnx-types.ts";
import { f16ToF32Array, f32ToF16Array } from "../passes/io/half.ts";
import { ReparamError } from "../passes/errors.ts";
import { fixtureByName, loadFixture, type Fixture } from "./helpers/fixtures.ts";
import { writeNpy } from "./helpers/npy-writer.ts";

const TEXT_FIXTURE = "full-bn-einsum-op17-textinput-static";
const PLAIN_FIXTURE = "full-bn-einsum-op17-static";
const textFx = fixtureByName(TEXT_FIXTURE);
const plainFx = fixtureByName(PLAIN_FIXTURE);
if (!textFx) console.warn(`[bind-text] SKIP: fixture ${TEXT_FIXTURE} not present`);

const dir = mkdtempSync(join(tmpdir(), "bind-text-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic values in [-1, 1). */
const values = (n: number) => Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 0.9);

function errorOf(f: () => unknown): ReparamError {
  try { f(); } catch (e) {
    expect(e).toBeInstanceOf(ReparamError);
    return e as ReparamError;
  }
  throw new Error("expected a ReparamError, nothing was thrown");
}

describe.skipIf(!textFx)(`bind text on ${TEXT_FIXTURE}`, () => {
  const fx = textFx as Fixture;
  const name = fx.textInput!.name;
  const K = fx.k, D = fx.d;
  const data = values(K * D);

  function bindFile(path: string, inputName?: string) {
    const g = new GraphIR(loadFixture(fx).proto.graph!);
    const bound = bindText(g, readNpy(path), inputName, path);
    return { g, bound };
  }

  it("binds a (K,D) .npy to a (1,K,D) input and drops it from graph.input", () => {
    const p = writeNpy(join(dir, "kd.npy"), [K, D], data);
    const { g, bound } = bindFile(p);
    expect(bound.name).toBe(name);
    expect(bound.value.dims).toEqual([1, K, D]);
    expect(g.inputs.map((v) => v.name)).not.toContain(name);
    const init = readTensor(g.initializer(name)!)!;
    expect(init.dtype).toBe(DT.FLOAT);
    expect(init.dims).toEqual([1, K, D]);
    expect(Array.from(init.data)).toEqual(Array.from(Float32Array.from(data)));
  });

  it("binds a (1,K,D) .npy; the rewrite is the same as from (K,D)", () => {
    const pKD = writeNpy(join(dir, "kd2.npy"), [K, D], data);
    const p1KD = writeNpy(join(dir, "1kd.npy"), [1, K, D], data);
    const rewrite = (p: string) => {
      const m = loadFixture(fx);
      const r = reparamModel(m, { sites: "head", textEmbed: { value: readNpy(p), source: p } });
      expect(r.bound?.name).toBe(name);
      expect(r.sites.filter((s) => s.status === "rewritten")).toHaveLength(fx.expect.head.rewritable);
      expect((m.proto.graph!.input ?? []).map((v) => v.name)).not.toContain(name);
      return encodeModel(m.proto);
    };
    const a = rewrite(pKD), b = rewrite(p1KD);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it("binds a float16 .npy, converting to the input's float32", () => {
    const p = writeNpy(join(dir, "kd16.npy"), [K, D], data, "<f2");
    const { g, bound } = bindFile(p);
    expect(bound.value.dtype).toBe(DT.FLOAT);
    const init = readTensor(g.initializer(name)!)!;
    expect(init.dtype).toBe(DT.FLOAT);
    expect(Array.from(init.data)).toEqual(Array.from(f16ToF32Array(f32ToF16Array(data))));
  });

  it("rejects a wrong shape, naming the file and both shapes", () => {
    for (const dims of [[K, D / 2], [2, K, D], [K + 1, D]]) {
      const p = writeNpy(join(dir, `bad-${dims.join("x")}.npy`), dims, values(dims.reduce((x, y) => x * y, 1)));
      const e = errorOf(() => bindFile(p));
      expect(e.message).toContain(p);
      expect(e.message).toContain(`(${dims.join(", ")})`);
      expect(e.message).toContain(`(1, ${K}, ${D})`);
      expect(e.message).toContain(`'${name}'`);
    }
  });

  it("rejects a non-float dtype", () => {
    const p = writeNpy(join(dir, "int.npy"), [K, D], new Float64Array(K * D), "<i8");
    const e = errorOf(() => bindFile(p));
    expect(e.message).toContain(p);
    expect(e.message).toMatch(/int64/);
    expect(e.message).toMatch(/float32 or float16/);
  });

  it("rejects an unknown --text-input name, listing the inputs", () => {
    const p = writeNpy(join(dir, "kd3.npy"), [K, D], data);
    const e = errorOf(() => bindFile(p, "nope"));
    expect(e.message).toContain("'nope'");
    expect(e.message).toContain(name);
    expect(e.message).toContain("images");
  });

  it("asks for --text-input when several inputs could take the text, and accepts it", () => {
    const p = writeNpy(join(dir, "kd4.npy"), [K, D], data);
    const mk = () => {
      const proto = loadFixture(fx).proto.graph!;
      // Same type object (never mutated here), another name.
      const extra: ValueInfo = { ...proto.input!.find((v) => v.name === name)!, name: "other_texts" };
      proto.input!.push(extra);
      return new GraphIR(proto);
    };
    const e = errorOf(() => bindText(mk(), readNpy(p), undefined, p));
    expect(e.message).toContain(name);
    expect(e.message).toContain("other_texts");
    expect(e.message).toContain("--text-input");
    const g = mk();
    expect(bindText(g, readNpy(p), "other_texts", p).name).toBe("other_texts");
    expect(g.inputs.map((v) => v.name)).toEqual(["images", name]);
  });
});

describe.skipIf(!plainFx)(`bind text on ${PLAIN_FIXTURE} (no text input)`, () => {
  it("on a model with no text input, retargets the baked-in text instead (issue 7); a wrong D is refused", () => {
    const p = writeNpy(join(dir, "lonely.npy"), [80, 512], values(80 * 512));
    const m = loadFixture(plainFx!);
    const r = reparamModel(m, { sites: "head", textEmbed: { value: readNpy(p), source: p } });
    expect(r.bound).toBeNull();
    expect(r.vocabulary).toMatchObject({ text: "txt", from: 80, to: 80, kind: "constant" });
    const q = writeNpy(join(dir, "narrow.npy"), [80, 64], values(80 * 64));
    const e = errorOf(() => reparamModel(loadFixture(plainFx!), { sites: "head", textEmbed: { value: readNpy(q), source: q } }));
    expect(e.message).toContain(q);
    expect(e.message).toMatch(/D = 64, the model's text has D = 512/);
  });
});
