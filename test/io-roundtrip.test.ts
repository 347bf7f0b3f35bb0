// The codec's promise: whatever ONNX's own serializers wrote comes back byte-identical,
// including fields newer than any schema we know and fields no schema defines.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import onnxProto from "onnx-proto";
import Long from "long";
import { decodeModelBytes, encodeModel } from "../passes/io/codec.ts";
import { externalRef, loadModel, readExternalData, saveModel, type LoadedModel } from "../passes/io/model-io.ts";
import { protobuf } from "../passes/io/schema.ts";
import { readTensor } from "../passes/ir/tensor.ts";
import { CORPUS, FIDELITY, fidelity, hasShared, onnxFilesUnder } from "./io-shared.ts";

const suite = hasShared ? describe : describe.skip;
if (!hasShared) console.warn("io-roundtrip: ../shared is absent, so the round-trip suite is skipped");

// Reports where two byte strings part, so a failure says more than "not equal".
function firstDifference(a: Uint8Array, b: Uint8Array): string | null {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return `bytes differ at offset ${i} (lengths ${a.length} / ${b.length})`;
  return a.length === b.length ? null : `lengths differ: ${a.length} / ${b.length}`;
}

const unknownFieldNumbers = (m: unknown): number[] =>
  ((m as { $unknowns?: Uint8Array[] }).$unknowns ?? []).map((raw) => protobuf.Reader.create(raw).uint32() >>> 3);

const contains = (hay: Uint8Array, needle: string) => Buffer.from(hay).includes(Buffer.from(needle));

const tmpDirs: string[] = [];
const tmp = () => { const d = mkdtempSync(join(tmpdir(), "io-roundtrip-")); tmpDirs.push(d); return d; };
afterAll(() => { for (const d of tmpDirs) rmSync(d, { recursive: true, force: true }); });

if (!hasShared) it.skip("shared/ absent: round-trip suite skipped", () => {});

suite("byte-identical round trip", () => {
  const files = [...onnxFilesUnder(CORPUS), ...onnxFilesUnder(FIDELITY)];

  it("finds the corpus and the fidelity models", () => {
    expect(onnxFilesUnder(CORPUS).length).toBeGreaterThan(100);
    expect(onnxFilesUnder(FIDELITY).map((f) => basename(f))).toEqual(expect.arrayContaining([
      "control_flow.onnx", "external_data.onnx", "function_overload.onnx", "metadata_everywhere.onnx", "tensor_types.onnx", "unknown_fields.onnx",
    ]));
  });

  it.each(files.map((f) => [f.slice(CORPUS.length - "onnx-corpus".length), f]))("%s", (_label, file) => {
    const original = readFileSync(file);
    const reencoded = encodeModel(loadModel(file).proto);
    expect(firstDifference(reencoded, original)).toBeNull();
  });
});

suite("fidelity specifics", () => {
  const load = (name: string) => loadModel(fidelity(name)).proto;

  it("unknown fields 900/901/902 stay on the messages that carried them", () => {
    const m = load("unknown_fields.onnx");
    const node = m.graph!.node!.find((n) => n.name === "mm")!;
    const w = m.graph!.initializer!.find((t) => t.name === "w")!;
    expect(unknownFieldNumbers(m)).toEqual([902]);
    expect(unknownFieldNumbers(node)).toEqual([900]);
    expect(unknownFieldNumbers(w)).toEqual([901]);
    expect(unknownFieldNumbers(m.graph)).toEqual([]);
    expect(unknownFieldNumbers(m.graph!.node!.find((n) => n.name === "relu"))).toEqual([]);
    expect(contains((node.$unknowns as Uint8Array[])[0], "node-unknown")).toBe(true);
    expect(firstDifference(encodeModel(m), readFileSync(fidelity("unknown_fields.onnx")))).toBeNull();
  });

  it("unknown fields survive an edit elsewhere in the model", () => {
    const m = load("unknown_fields.onnx");
    m.producer_name = "edited";
    m.graph!.node!.find((n) => n.name === "relu")!.name = "relu2";
    const again = decodeModelBytes(encodeModel(m));
    expect(unknownFieldNumbers(again)).toEqual([902]);
    expect(unknownFieldNumbers(again.graph!.node!.find((n) => n.name === "mm"))).toEqual([900]);
    expect(unknownFieldNumbers(again.graph!.initializer![0])).toEqual([901]);
    expect(again.producer_name).toBe("edited");
  });

  it("int64 beyond 2^53 keeps every bit", () => {
    const m = load("tensor_types.onnx");
    const big = m.graph!.initializer!.find((t) => t.name === "i64_big")!;
    expect(big.int64_data!.every((v) => Long.isLong(v))).toBe(true);
    const want = ["9007199254740993", "-9223372036854775808", "9223372036854775807"];
    expect(big.int64_data!.map(String)).toEqual(want);
    const again = decodeModelBytes(encodeModel(m)).graph!.initializer!.find((t) => t.name === "i64_big")!;
    expect(again.int64_data!.map(String)).toEqual(want);
  });

  it("tensor types, non-UTF-8 strings and the sparse initializer are decoded, not dropped", () => {
    const g = load("tensor_types.onnx").graph!;
    const byName = new Map(g.initializer!.map((t) => [t.name, t]));
    expect([...byName.keys()]).toEqual(expect.arrayContaining(["f8e4m3fn", "f8e5m2", "i4", "u4", "f4e2m1", "bf16", "f16", "strs", "f64_typed"]));
    expect(byName.get("i4")!.data_type).toBe(22);
    expect(byName.get("i4")!.raw_data!.length).toBe(4);
    expect(Array.from(byName.get("strs")!.string_data![1])).toEqual([0x00, 0xff]);
    expect(Object.is(byName.get("f64_typed")!.double_data![1], -0)).toBe(true);
    expect(readTensor(byName.get("f16")!)!.data[2]).toBe(65504);
    expect(g.sparse_initializer).toHaveLength(1);
  });

  it("node and function overload, function value_info / attribute_proto / metadata_props", () => {
    const m = load("function_overload.onnx");
    const fn = (m.functions as Array<Record<string, unknown>>)[0];
    expect(fn.name).toBe("Scale");
    expect(fn.overload).toBe("v2");
    expect(fn.value_info).toHaveLength(1);
    expect((fn.attribute_proto as Array<{ name: string; f: number }>)[0]).toMatchObject({ name: "alpha", f: 1.5 });
    expect(fn.metadata_props).toEqual([expect.objectContaining({ key: "fn_key", value: "fn value" })]);
    expect(m.graph!.node![0].overload).toBe("v2");
  });

  it("metadata_props on model, graph, node, value_info and tensor", () => {
    const m = load("metadata_everywhere.onnx");
    const g = m.graph!;
    const keys = (x: unknown) => ((x as { metadata_props?: Array<{ key: string }> }).metadata_props ?? []).map((e) => e.key);
    expect(keys(m)).toEqual(["names", "author"]);
    expect(keys(g)).toEqual(["graph_key"]);
    expect(keys(g.node![0])).toEqual(["note", "pkg"]);
    expect(keys(g.value_info![0])).toEqual(["vi_key"]);
    expect(keys(g.initializer![0])).toEqual(["origin"]);
  });

  it("If subgraphs keep their outer-scope reads", () => {
    const ifNode = load("control_flow.onnx").graph!.node![0];
    expect(ifNode.op_type).toBe("If");
    const reads = (ifNode.attribute ?? []).map((a) => a.g!.node![0].input);
    expect(reads).toEqual([["x"], ["x"]]);
  });
});

suite("external data", () => {
  const src = fidelity("external_data.onnx");
  const srcData = fidelity("external_data.onnx.data");
  const valuesOf = (m: LoadedModel) => new Map(m.proto.graph!.initializer!.map((t) => [t.name, Array.from(readTensor(t, m.baseDir)!.data)]));

  it("'preserve' (the default) writes the same .onnx and .data bytes elsewhere", () => {
    const dir = tmp();
    const m = loadModel(src);
    saveModel(m, join(dir, "external_data.onnx"));
    expect(firstDifference(readFileSync(join(dir, "external_data.onnx")), readFileSync(src))).toBeNull();
    expect(firstDifference(readFileSync(join(dir, "external_data.onnx.data")), readFileSync(srcData))).toBeNull();
  });

  it("'inline' puts the external bytes into raw_data and leaves the caller's model external", () => {
    const dir = tmp();
    const m = loadModel(src);
    saveModel(m, join(dir, "inline.onnx"), { externalData: "inline" });
    const back = loadModel(join(dir, "inline.onnx"));
    for (const t of back.proto.graph!.initializer!) {
      expect(externalRef(t)).toBeNull();
      const orig = m.proto.graph!.initializer!.find((o) => o.name === t.name)!;
      expect(firstDifference(t.raw_data!, readExternalData(orig, m.baseDir))).toBeNull();
    }
    expect(valuesOf(back)).toEqual(valuesOf(m));
    expect(firstDifference(encodeModel(m.proto), readFileSync(src))).toBeNull();
    expect(existsSync(join(dir, "external_data.onnx.data"))).toBe(false);
  });

  it("{location} writes one page-aligned data file and the values come back", () => {
    const dir = tmp();
    const m = loadModel(src);
    saveModel(m, join(dir, "moved.onnx"), { externalData: { location: "weights.bin" } });
    expect(existsSync(join(dir, "weights.bin"))).toBe(true);
    const back = loadModel(join(dir, "moved.onnx"));
    const refs = back.proto.graph!.initializer!.map((t) => externalRef(t)!);
    expect(refs.map((r) => r.location)).toEqual(["weights.bin", "weights.bin"]);
    for (const r of refs) expect(r.offset % 4096).toBe(0);
    // An external tensor carries no raw_data at all (ONNX's writer clears the field).
    for (const t of back.proto.graph!.initializer!) expect(t.raw_data?.length ?? 0).toBe(0);
    expect(contains(readFileSync(join(dir, "moved.onnx")), "external_data.onnx.data")).toBe(false);
    expect(valuesOf(back)).toEqual(valuesOf(m));
  });

  it("{location} inlines external tensors under the threshold instead of leaving them pointing at an uncopied file", () => {
    const dir = tmp();
    const m = loadModel(src);
    saveModel(m, join(dir, "small.onnx"), { externalData: { location: "weights.bin", threshold: 1 << 30 } });
    const back = loadModel(join(dir, "small.onnx"));
    for (const t of back.proto.graph!.initializer!) expect(externalRef(t)).toBeNull();
    expect(valuesOf(back)).toEqual(valuesOf(m));
  });

  it("'preserve' into the source's own directory leaves the data file intact", () => {
    const dir = tmp();
    cpSync(src, join(dir, "external_data.onnx"));
    cpSync(srcData, join(dir, "external_data.onnx.data"));
    const m = loadModel(join(dir, "external_data.onnx"));
    saveModel(m, join(dir, "copy.onnx"));
    saveModel(m, join(dir, "external_data.onnx")); // over itself
    expect(firstDifference(readFileSync(join(dir, "external_data.onnx.data")), readFileSync(srcData))).toBeNull();
    expect(firstDifference(readFileSync(join(dir, "external_data.onnx")), readFileSync(src))).toBeNull();
    expect(valuesOf(loadModel(join(dir, "copy.onnx")))).toEqual(valuesOf(loadModel(src)));
  });

  it("{location} naming the file the weights are read from rewrites it without losing them", () => {
    const dir = tmp();
    cpSync(src, join(dir, "external_data.onnx"));
    cpSync(srcData, join(dir, "external_data.onnx.data"));
    const m = loadModel(join(dir, "external_data.onnx"));
    const before = valuesOf(m);
    saveModel(m, join(dir, "external_data.onnx"), { externalData: { location: "external_data.onnx.data" } });
    expect(valuesOf(loadModel(join(dir, "external_data.onnx")))).toEqual(before);
  });
});

suite("why onnx-proto 8.0.1 is not the codec", () => {
  // onnx-proto is protobufjs-6 static code for the ONNX 1.10 schema.
  const OnnxProtoModel = onnxProto.onnx.ModelProto;
  const viaOnnxProto = (bytes: Uint8Array) => OnnxProtoModel.encode(OnnxProtoModel.decode(bytes)).finish();

  it.each(["unknown_fields.onnx", "function_overload.onnx", "metadata_everywhere.onnx"])("%s loses bytes through onnx-proto, not through ours", (name) => {
    const original = readFileSync(fidelity(name));
    const theirs = viaOnnxProto(original);
    expect(theirs.length).toBeLessThan(original.length);
    expect(firstDifference(encodeModel(decodeModelBytes(original)), original)).toBeNull();
  });

  it("onnx-proto drops the unknown fields and node overload outright", () => {
    const original = readFileSync(fidelity("unknown_fields.onnx"));
    const theirs = viaOnnxProto(original);
    for (const payload of ["node-unknown", "tensor-unknown", "model-unknown"]) {
      expect(contains(original, payload)).toBe(true);
      expect(contains(theirs, payload)).toBe(false);
    }
    const node = OnnxProtoModel.decode(readFileSync(fidelity("function_overload.onnx"))).graph!.node![0] as unknown as Record<string, unknown>;
    expect(node.overload).toBeUndefined();
  });

  it("onnx-proto writes repeated scalars packed where ONNX's serializer wrote them unpacked", () => {
    const original = readFileSync(fidelity("tensor_types.onnx"));
    expect(firstDifference(viaOnnxProto(original), original)).not.toBeNull();
  });
});
