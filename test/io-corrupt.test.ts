// Hostile or broken input must end in one clear line naming the file and the problem:
// never a crash, a hang, a stack trace, or an allocation sized by an untrusted length.
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { encodeModel } from "../passes/io/codec.ts";
import { loadModel } from "../passes/io/model-io.ts";
import { protobuf } from "../passes/io/schema.ts";
import { ModelFormatError, ReparamError } from "../passes/errors.ts";
import type { Model } from "../passes/io/onnx-types.ts";

const dir = mkdtempSync(join(tmpdir(), "io-corrupt-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

function loadError(path: string): ReparamError {
  try {
    loadModel(path);
  } catch (e) {
    expect(e).toBeInstanceOf(ReparamError);
    return e as ReparamError;
  }
  throw new Error(`loadModel(${path}) did not throw`);
}

// The contract every case shares: one line, the file's name, and the reason.
function expectClearError(path: string, reason: RegExp, type: abstract new (...args: never[]) => ReparamError = ModelFormatError): void {
  const e = loadError(path);
  expect(e).toBeInstanceOf(type);
  expect(e.message).not.toMatch(/\n/);
  expect(e.message).toContain(basename(path));
  expect(e.message).toMatch(reason);
}

const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n > 127) { out.push((n & 127) | 128); n = Math.floor(n / 128); }
  out.push(n);
  return out;
};
const field = (tag: number, body: number[]) => [...varint(tag), ...varint(body.length), ...body];

// A small but real model: header fields, a graph with a node and an initializer, an opset.
function sampleModel(): Uint8Array {
  const model: Model = {
    ir_version: 8,
    producer_name: "io-corrupt",
    graph: {
      name: "g",
      node: Array.from({ length: 20 }, (_, i) => ({ op_type: "Relu", name: `r${i}`, input: [i ? `t${i - 1}` : "x"], output: [`t${i}`] })),
      initializer: [{ name: "w", data_type: 1, dims: [64], raw_data: new Uint8Array(256).fill(7) }],
      input: [{ name: "x" }],
      output: [{ name: "t19" }],
    },
    opset_import: [{ domain: "", version: 17 }],
  };
  return encodeModel(model);
}

// Where ModelProto.graph's payload starts and ends, found by walking the top-level fields.
function graphPayload(bytes: Uint8Array): { start: number; end: number } {
  const r = protobuf.Reader.create(bytes);
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag === 0x3a) { const len = r.uint32(); return { start: r.pos, end: r.pos + len }; }
    r.skipType(tag & 7);
  }
  throw new Error("no graph field");
}

function seededBytes(seed: number, n: number): Uint8Array {
  let s = seed >>> 0;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; out[i] = s >>> 24; }
  return out;
}

describe("loadModel on broken input", () => {
  it("a missing file", () => {
    expectClearError(join(dir, "missing.onnx"), /no such file/, ReparamError);
  });

  it("a directory", () => {
    const p = join(dir, "folder.onnx");
    mkdirSync(p);
    expectClearError(p, /directory/);
  });

  it("an empty file", () => {
    expectClearError(file("empty.onnx", ""), /empty/);
  });

  it("a text file", () => {
    expectClearError(file("readme.onnx", "This is not a model.\nIt is a text file.\n"), /wire type|truncated|no graph/);
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])("random bytes (seed %i)", (seed) => {
    expectClearError(file(`random${seed}.onnx`, seededBytes(seed, 64 << seed)), /wire type|truncated|runs past|no graph|deeper|varint|malformed/);
  });

  describe("a real model truncated", () => {
    const bytes = sampleModel();
    const { start, end } = graphPayload(bytes);
    const cuts: Array<[string, number]> = [
      ["inside the first field", 1],
      ["inside the graph's length prefix", start - 1],
      ["just inside the graph", start + 1],
      ["mid-graph", (start + end) >> 1],
      ["one byte before the graph ends", end - 1],
    ];
    it.each(cuts)("%s", (label, at) => {
      expectClearError(file(`cut-${at}.onnx`, bytes.subarray(0, at)), /truncated|runs past/);
    });

    it("before the graph starts, it says there is no graph", () => {
      const headerEnd = bytes.indexOf(0x3a);
      expectClearError(file("header-only.onnx", bytes.subarray(0, headerEnd)), /no graph/);
    });

    it("the untruncated sample loads (so the cuts above are what fails)", () => {
      expect(loadModel(file("whole.onnx", bytes)).proto.graph!.node).toHaveLength(20);
    });
  });

  it("a length prefix far larger than the file", () => {
    expectClearError(file("biglen.onnx", Uint8Array.of(0x3a, ...varint(1_000_000), 1, 2, 3)), /truncated|runs past/);
  });

  it("a bytes field claiming 4 GiB", () => {
    const raw = [0x12, ...varint(0xffffffff), 0x41, 0x42]; // producer_name
    expectClearError(file("hugestr.onnx", Uint8Array.of(...raw)), /length prefix claims 4 GiB/);
  });

  it("a tensor's raw_data claiming 2 GiB inside an otherwise valid graph", () => {
    const tensor = [0x08, 0x01, 0x10, 0x01, 0x4a, ...varint(2 ** 31 - 1), 0, 0, 0, 0]; // dims, data_type, raw_data
    const graph = [...varint(0x2a), ...varint(tensor.length), ...tensor];
    expectClearError(file("hugeraw.onnx", Uint8Array.from(field(0x3a, graph))), /truncated|runs past/);
  });

  it("a varint longer than 10 bytes", () => {
    expectClearError(file("varint.onnx", Uint8Array.of(0x08, ...new Array(12).fill(0xff), 0x01)), /varint runs longer/);
  });

  it("messages nested 200 deep along graph -> node -> attribute -> g", () => {
    let graph: number[] = [];
    for (let i = 0; i < 200; i++) {
      const attribute = [...field(0x0a, [0x67]), 0xa0, 0x01, 0x05, ...field(0x32, graph)]; // name "g", type GRAPH (field 20), g
      graph = field(0x0a, field(0x2a, attribute)); // GraphProto.node(1) { NodeProto.attribute(5) }
    }
    expectClearError(file("deep.onnx", Uint8Array.from(field(0x3a, graph))), /nested deeper/);
  });

  it("100k nested groups in an unknown field", () => {
    // Wire type 3 (start group) for unknown field 15: skipping it recurses once per level.
    const bytes = new Uint8Array(100_000).fill(0x7b);
    expectClearError(file("groups.onnx", bytes), /nested deeper/);
  });

  it("a known field with the wrong wire type (ModelProto.ir_version as bytes)", () => {
    expectClearError(file("wiretype.onnx", Uint8Array.of(0x0a, 0x01, 0x05, 0x3a, 0x00)), /ir_version.*wrong wire type/);
  });

  it("a nested known field with the wrong wire type (NodeProto.op_type as a varint)", () => {
    const node = [0x20, 0x05]; // field 4, wire type 0
    const bytes = Uint8Array.from([0x08, 0x08, ...field(0x3a, field(0x0a, node))]);
    expectClearError(file("nested-wiretype.onnx", bytes), /NodeProto\.op_type.*wrong wire type/);
  });

  it("bytes from memory name <bytes> instead of a file", () => {
    expect(() => loadModel(Uint8Array.of(0x3a, 0x05))).toThrow(/<bytes>.*truncated/);
  });

  it("a file over 2 GiB is refused before it is read", (ctx) => {
    // Sparse: the size is real for stat() but no disk blocks are written.
    const p = join(dir, "huge.onnx");
    const fd = openSync(p, "w");
    try {
      ftruncateSync(fd, 2 ** 31 + 4096);
    } catch {
      closeSync(fd);
      ctx.skip("cannot make a sparse >2 GiB file here");
      return;
    }
    closeSync(fd);
    try {
      if (statSync(p).blocks * 512 > 1 << 20) ctx.skip("filesystem does not keep the file sparse");
      expectClearError(p, /2 GiB/);
    } finally {
      rmSync(p, { force: true });
    }
  });
});
