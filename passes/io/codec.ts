// Lossless ONNX (de)serialization. protobufjs keeps every field it does not know as raw
// bytes ($unknowns) and re-emits them, and with the proto2 schema it writes repeated
// scalars unpacked as ONNX's own serializers do: files written by those serializers
// come back byte-identical. onnx-proto (ONNX 1.10) would drop post-1.10 fields.
import { ModelProto, TensorProto, protobuf, root } from "./schema.ts";
import { ModelFormatError } from "../errors.ts";
import type { Graph, Model } from "./onnx-types.ts";

const MAX_DEPTH = 64;
protobuf.Reader.recursionLimit = MAX_DEPTH;

export function decodeModelBytes(bytes: Uint8Array, source = "<bytes>"): Model {
  if (bytes.length === 0) throw new ModelFormatError(source, "file is empty");
  let model: Model;
  try {
    const reader = protobuf.Reader.create(bytes);
    reader.discardUnknown = false;
    model = ModelProto.decode(reader) as unknown as Model;
  } catch (e) {
    throw new ModelFormatError(source, describeDecodeError(e));
  }
  checkDecoded(model, ModelProto, source);
  return model;
}

// protobufjs's writer grows by doubling and finish() copies the result once more. Starting
// it at the size of the tensor bytes and handing out its own buffer (finish(true)) halves
// both the time and the peak memory of encoding a large model (bench/codec-throughput.ts).
export function encodeModel(model: Model | { proto: Model }): Uint8Array {
  model = modelProtoOf(model, "encodeModel");
  const W = protobuf.Writer;
  const initial = W.initialBufferSize;
  // Overshooting costs address space only: pages the writer never touches stay unmapped.
  const raw = rawBytes(model.graph);
  W.initialBufferSize = Math.max(initial, Math.min(raw + (raw >> 4) + (64 << 10), 2 ** 31 - 1));
  try {
    return ModelProto.encode(model as unknown as protobuf.Message).finish(true);
  } finally {
    W.initialBufferSize = initial;
  }
}

const MODEL_FIELDS = new Set([...Object.keys(ModelProto.fields), "$unknowns"]);

/**
 * The ModelProto inside what loadModel returns ({ proto, baseDir, source }), or a bare
 * ModelProto object. The two cannot be confused: ModelProto has no field named `proto`.
 * Anything else (a GraphProto, bytes, a GraphIR) is refused instead of encoded as garbage.
 */
export function modelProtoOf(value: unknown, fn: string): Model {
  const proto = isObject(value) && "proto" in value ? value.proto : value;
  const what = proto === value ? "got" : "got a { proto } whose proto is";
  if (!isObject(proto) || ArrayBuffer.isView(proto)) {
    throw new TypeError(`${fn}: expected what loadModel returns (or an onnx.ModelProto object), ${what} ${describe(proto)}`);
  }
  const foreign = Object.keys(proto).filter((k) => !MODEL_FIELDS.has(k));
  if (foreign.length > 0) {
    throw new TypeError(`${fn}: expected what loadModel returns (or an onnx.ModelProto object), ${what} an object with ${foreign.slice(0, 4).map((k) => `'${k}'`).join(", ")}${foreign.length > 4 ? ", ..." : ""}, which ModelProto does not have`);
  }
  return proto as Model;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
const describe = (v: unknown): string => (v === null ? "null" : ArrayBuffer.isView(v) ? `bytes (${v.constructor.name}); decode them with loadModel first` : Array.isArray(v) ? "an array" : typeof v);

// ---- chunked encoding: the same bytes without one buffer holding all of them ----------
// A decoded input and an encoded output of the same large model side by side were most of
// the pass's peak memory. Protobuf writes a message's fields in field-number order with
// unknown fields last, so a message's bytes are (fields before f) + f + (fields after f): the
// large raw_data payloads are handed out as the input's own views, everything around them
// is encoded by protobufjs as usual. Concatenated, the chunks equal encodeModel's bytes.

type Msg = Record<string, unknown> & { $unknowns?: Uint8Array[] };
const GraphProto = root.lookupType("onnx.GraphProto");
const INITIALIZER = 5, GRAPH = 7, RAW_DATA = 9;

/** The encoding of the fields of `msg` whose number passes `keep` (unknown fields with the last part). */
function encodeFields(type: protobuf.Type, msg: Msg, keep: (id: number) => boolean, unknowns: boolean): Uint8Array {
  const part: Msg = Object.create(Object.getPrototypeOf(msg));
  for (const f of type.fieldsArray) if (keep(f.id) && Object.hasOwn(msg, f.name)) part[f.name] = msg[f.name];
  if (unknowns && Object.hasOwn(msg, "$unknowns")) part.$unknowns = msg.$unknowns;
  return type.encode(part as unknown as protobuf.Message).finish();
}

const header = (field: number, length: number): Uint8Array => protobuf.Writer.create().uint32(((field << 3) | 2) >>> 0).uint32(length).finish();
const total = (chunks: Uint8Array[]) => chunks.reduce((n, c) => n + c.length, 0);

function tensorChunks(t: Msg): Uint8Array[] {
  const raw = t.raw_data as Uint8Array;
  return [encodeFields(TensorProto, t, (id) => id < RAW_DATA, false), header(RAW_DATA, raw.length), raw, encodeFields(TensorProto, t, (id) => id > RAW_DATA, true)];
}

/**
 * encodeModel's bytes as a list of chunks; initializers with at least `threshold` bytes of
 * raw_data are not copied. For writing straight to a file.
 */
export function encodeModelChunks(model: Model, threshold = 1 << 20): Uint8Array[] {
  const g = model.graph as unknown as Msg | null | undefined;
  const inits = (g?.initializer ?? []) as Msg[];
  if (!g || !inits.some((t) => ((t.raw_data as Uint8Array | undefined)?.length ?? 0) >= threshold)) return [encodeModel(model)];
  const graph: Uint8Array[] = [encodeFields(GraphProto, g, (id) => id < INITIALIZER, false)];
  for (const t of inits) {
    const body = ((t.raw_data as Uint8Array | undefined)?.length ?? 0) >= threshold ? tensorChunks(t) : [TensorProto.encode(t as unknown as protobuf.Message).finish()];
    graph.push(header(INITIALIZER, total(body)), ...body);
  }
  graph.push(encodeFields(GraphProto, g, (id) => id > INITIALIZER, true));
  const m = model as unknown as Msg;
  return [encodeFields(ModelProto, m, (id) => id < GRAPH, false), header(GRAPH, total(graph)), ...graph, encodeFields(ModelProto, m, (id) => id > GRAPH, true)];
}

function rawBytes(g: Graph | null | undefined): number {
  let n = 0;
  for (const t of g?.initializer ?? []) n += t.raw_data?.length ?? 0;
  for (const node of g?.node ?? []) {
    for (const a of node.attribute ?? []) {
      n += a.t?.raw_data?.length ?? 0;
      for (const t of a.tensors ?? []) n += t.raw_data?.length ?? 0;
      n += rawBytes(a.g);
      for (const sg of a.graphs ?? []) n += rawBytes(sg);
    }
  }
  return n;
}

// protobufjs's messages are terse and sometimes carry a newline; the user gets one line
// saying what is wrong, and the byte offset where protobufjs reports one.
function describeDecodeError(e: unknown): string {
  const msg = (e instanceof Error ? e.message : String(e)).split("\n")[0];
  if (/index out of range/.test(msg)) return "truncated, or a length prefix runs past the end of its message";
  if (/invalid length encoding/.test(msg)) return "a length prefix claims 4 GiB or more (corrupt or truncated)";
  if (/max depth|call stack/i.test(msg)) return `messages nested deeper than ${MAX_DEPTH} levels`;
  const wire = /invalid wire type (\d+) at offset (\d+)/.exec(msg);
  if (wire) return `invalid protobuf wire type ${wire[1]} at byte ${wire[2]} (corrupt, or not an ONNX file)`;
  if (/invalid wire type/.test(msg)) return "invalid protobuf wire type (corrupt, or not an ONNX file)";
  if (/invalid (varint|tag) encoding/.test(msg)) return "a varint runs longer than 10 bytes (corrupt, or not an ONNX file)";
  if (/field number 0|end group/.test(msg)) return `malformed protobuf tag: ${msg} (corrupt, or not an ONNX file)`;
  return `protobuf decode failed (${msg})`;
}

// protobufjs keeps a known field with the wrong wire type as an unknown field; that is
// corruption, not an extension, so it is reported rather than carried along.
function checkDecoded(model: Model, type: protobuf.Type, source: string): void {
  if (model.graph == null) {
    throw new ModelFormatError(source, "no graph (ModelProto field 7 missing): this does not look like an ONNX model");
  }
  const problem = findWrongWireType(model as unknown as Record<string, unknown>, type);
  if (problem) throw new ModelFormatError(source, problem);
}

function findWrongWireType(msg: Record<string, unknown>, type: protobuf.Type): string | null {
  const unknowns = (msg as { $unknowns?: Uint8Array[] }).$unknowns;
  if (unknowns) {
    for (const raw of unknowns) {
      const r = protobuf.Reader.create(raw);
      const tag = r.uint32();
      const field = type.fieldsById[tag >>> 3];
      if (field) return `field '${type.name}.${field.name}' has the wrong wire type ${tag & 7}`;
    }
  }
  for (const field of type.fieldsArray) {
    if (!(field.resolvedType instanceof protobuf.Type)) continue;
    const value = msg[field.name];
    if (value == null) continue;
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) {
      const p = findWrongWireType(item as Record<string, unknown>, field.resolvedType);
      if (p) return p;
    }
  }
  return null;
}
