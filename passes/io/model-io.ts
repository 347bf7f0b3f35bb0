// Room io/ (lowest): bytes <-> ModelProto (codec, schema), files and external data, .npy, float16.
// May import nothing of ours but ../errors.ts; everything above reads models through it.
//
// Loading and saving models from disk: external data, the 2 GiB protobuf limit, and
// atomic writes (a temp file renamed into place, so no half-written output is ever seen).
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { basename, dirname, isAbsolute, normalize, resolve } from "node:path";
import { decodeModelBytes, encodeModelChunks, modelProtoOf } from "./codec.ts";
import { ModelFormatError, ReparamError } from "../errors.ts";
import type { Model, Tensor } from "./onnx-types.ts";
import { allTensors, EXTERNAL, externalRef, hasExternalData, setExternalDataReader } from "./external-ref.ts";

export { externalRef, hasExternalData };
export const PROTOBUF_LIMIT = 2 ** 31 - 1;

export interface LoadedModel {
  proto: Model;
  /** Directory external data locations are relative to (null for in-memory models). */
  baseDir: string | null;
  source: string;
}

export function loadModel(pathOrBytes: string | Uint8Array, opts: { baseDir?: string } = {}): LoadedModel {
  if (typeof pathOrBytes !== "string") {
    return { proto: decodeModelBytes(pathOrBytes), baseDir: opts.baseDir ?? null, source: "<bytes>" };
  }
  const path = pathOrBytes;
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new ModelFormatError(path, "is a directory, not a model file");
    if (!st.isFile()) throw new ModelFormatError(path, "not a regular file");
    size = st.size;
  } catch (e) {
    throw cannotRead(path, e);
  }
  if (size > PROTOBUF_LIMIT) throw new ModelFormatError(path, `file is ${size} bytes; an ONNX protobuf cannot exceed 2 GiB (large weights belong in external data)`);
  let bytes: Uint8Array;
  try { bytes = readFileSync(path); } catch (e) { throw cannotRead(path, e); }
  return { proto: decodeModelBytes(bytes, path), baseDir: dirname(resolve(path)), source: path };
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: "no such file", EACCES: "permission denied", EPERM: "operation not permitted",
  ENOTDIR: "a component of the path is not a directory", ELOOP: "too many symbolic links", EISDIR: "is a directory",
};

// Node's own messages carry the syscall and a stack; the user needs the path and the reason, on one line.
function cannotRead(path: string, e: unknown): ReparamError {
  if (e instanceof ReparamError) return e;
  const code = (e as NodeJS.ErrnoException).code ?? "";
  return new ReparamError(`${path}: cannot read model file: ${ERRNO_TEXT[code] ?? (e as Error).message?.split("\n")[0] ?? "error"}${code ? ` (${code})` : ""}`);
}

function safeExternalPath(baseDir: string, location: string, tensor: string): string {
  const norm = normalize(location);
  if (isAbsolute(norm) || norm.startsWith("..")) {
    throw new ReparamError(`tensor '${tensor}': external data location '${location}' leaves the model's directory`);
  }
  return resolve(baseDir, norm);
}

/** Reads just the byte range of one external tensor (which must be `expected` bytes long, when given). */
export function readExternalData(t: Tensor, baseDir: string | null, expected?: number): Uint8Array {
  const ref = externalRef(t);
  if (!ref) throw new Error(`tensor '${t.name}' is not external`);
  if (baseDir == null) throw new ReparamError(`tensor '${t.name}': external data needs the model's directory; load the model from a path`);
  const file = safeExternalPath(baseDir, ref.location, t.name ?? "");
  let fd: number;
  try { fd = openSync(file, "r"); } catch { throw new ReparamError(`tensor '${t.name}': external data file '${ref.location}' not found beside the model`); }
  try {
    const size = fstatSync(fd).size;
    const length = ref.length ?? size - ref.offset;
    if (ref.offset < 0 || length < 0 || ref.offset + length > size) {
      throw new ReparamError(`tensor '${t.name}': external range ${ref.offset}+${length} runs past the end of '${ref.location}' (${size} bytes)`);
    }
    if (expected !== undefined && length !== expected) throw new ReparamError(`tensor '${t.name}': external data has ${length} bytes, shape needs ${expected}`);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) done += readSync(fd, out, done, length - done, ref.offset + done);
    return out;
  } finally { closeSync(fd); }
}

// Tensors read while folding reach external files through this (external-ref.ts).
setExternalDataReader(readExternalData);

export type ExternalDataMode =
  | "preserve" // external tensors stay where they are described; the data file is carried to the output directory
  | "inline" // every external tensor is read into raw_data
  | { location: string; threshold?: number }; // every initializer of at least `threshold` bytes goes to `location`

export interface SaveOptions { externalData?: ExternalDataMode }

/** Writes atomically. Switches to external data when the model would not fit in one protobuf. */
export function saveModel(model: LoadedModel, path: string, opts: SaveOptions = {}): void {
  checkLoadedModel(model);
  const outDir = dirname(resolve(path));
  let mode = opts.externalData ?? "preserve";
  if (mode === "preserve" && inlineBytes(model.proto) > PROTOBUF_LIMIT - (64 << 20)) {
    mode = { location: `${basename(path)}.data` };
  }
  mkdirSync(outDir, { recursive: true });
  withTensorPatches(model, mode, outDir, (dataFiles) => {
    for (const [target, write] of dataFiles) atomicWrite(target, write);
    // Chunks, not one buffer: large initializers go from the input's bytes straight to the file.
    const chunks = encodeModelChunks(model.proto);
    atomicWrite(path, (fd) => { for (const c of chunks) writeAll(fd, c); });
  });
}

// External data is resolved against baseDir, so a bare ModelProto is not enough here.
function checkLoadedModel(model: unknown): asserts model is LoadedModel {
  const m = model as Partial<LoadedModel> | null;
  if (typeof m !== "object" || m === null || !("proto" in m)) {
    const hint = typeof m === "object" && m !== null && "graph" in m ? " (this looks like a bare ModelProto: pass the object loadModel returned)" : "";
    throw new TypeError(`saveModel: expected what loadModel returns ({ proto, baseDir, source })${hint}`);
  }
  modelProtoOf(m, "saveModel");
  if (m.baseDir !== null && typeof m.baseDir !== "string") throw new TypeError("saveModel: baseDir must be a directory path or null");
}

type Writer = (fd: number) => void;

function writeAll(fd: number, bytes: Uint8Array, position?: number): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position === undefined ? null : position + done);
}

export function atomicWrite(path: string, write: Writer): void {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  let fd: number;
  try { fd = openSync(tmp, "w"); } catch (e) { throw cannotWrite(path, e); }
  try {
    write(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try { closeSync(fd); } catch { /* already closed */ }
    rmSync(tmp, { force: true });
    throw e instanceof ReparamError ? e : cannotWrite(path, e);
  }
}

// A full disk or a permission problem is the user's to fix: one line, exit 2.
function cannotWrite(path: string, e: unknown): ReparamError {
  const code = (e as NodeJS.ErrnoException)?.code;
  return new ReparamError(`${path}: cannot write (${code ?? String((e as Error)?.message ?? e).split("\n")[0]})`);
}

function inlineBytes(m: Model): number {
  let n = 0;
  if (m.graph) for (const t of allTensors(m.graph)) n += t.raw_data?.length ?? 0;
  return n;
}

// Saving must not change the caller's model: tensors are patched for the encode and
// restored afterwards, so a model can be saved twice in two layouts.
function withTensorPatches(model: LoadedModel, mode: ExternalDataMode, outDir: string, body: (dataFiles: Map<string, Writer>) => void): void {
  const restore: Array<() => void> = [];
  const dataFiles = new Map<string, Writer>();
  const patch = (t: Tensor, fields: Partial<Tensor>) => {
    const saved = Object.fromEntries(Object.keys(fields).map((k) => [k, Object.prototype.hasOwnProperty.call(t, k) ? t[k] : undefined]));
    Object.assign(t, fields);
    restore.push(() => { for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete t[k]; else t[k] = v; } });
  };
  try {
    const graph = model.proto.graph!;
    if (mode === "preserve") {
      const copies = new Map<string, Array<{ t: Tensor; offset: number }>>();
      for (const t of allTensors(graph)) {
        const ref = externalRef(t);
        if (!ref) continue;
        if (model.baseDir == null) throw new ReparamError(`tensor '${t.name}' is external but the model was loaded from bytes`);
        const src = safeExternalPath(model.baseDir, ref.location, t.name ?? "");
        const dst = safeExternalPath(outDir, ref.location, t.name ?? "");
        if (src === dst) continue;
        if (!copies.has(dst)) copies.set(dst, []);
        copies.get(dst)!.push({ t, offset: ref.offset });
      }
      for (const [dst, items] of copies) {
        dataFiles.set(dst, (fd) => { for (const { t, offset } of items) writeAll(fd, readExternalData(t, model.baseDir), offset); });
      }
    } else if (mode === "inline") {
      for (const t of allTensors(graph)) {
        if (!externalRef(t)) continue;
        patch(t, { raw_data: readExternalData(t, model.baseDir), data_location: 0, external_data: [] });
      }
    } else {
      const threshold = mode.threshold ?? 1024;
      const dst = safeExternalPath(outDir, mode.location, "");
      const chunks: Array<{ offset: number; bytes: Uint8Array }> = [];
      const moved = new Set<Tensor>();
      let offset = 0;
      for (const t of graph.initializer ?? []) {
        const bytes = externalRef(t) ? readExternalData(t, model.baseDir) : t.raw_data;
        if (!bytes || bytes.length < threshold) continue;
        offset = Math.ceil(offset / 4096) * 4096; // page-aligned so runtimes can mmap
        chunks.push({ offset, bytes });
        // raw_data absent, not empty: that is how ONNX's own writer leaves an external tensor.
        patch(t, {
          raw_data: undefined, data_location: EXTERNAL,
          external_data: [{ key: "location", value: mode.location }, { key: "offset", value: String(offset) }, { key: "length", value: String(bytes.length) }],
        });
        moved.add(t);
        offset += bytes.length;
      }
      // An external tensor left out above (under the threshold, or inside a subgraph or a
      // Constant) would otherwise point at a file that is neither copied nor rewritten.
      for (const t of allTensors(graph)) {
        if (moved.has(t) || !externalRef(t)) continue;
        patch(t, { raw_data: readExternalData(t, model.baseDir), data_location: 0, external_data: [] });
      }
      dataFiles.set(dst, (fd) => { for (const c of chunks) writeAll(fd, c.bytes, c.offset); });
    }
    body(dataFiles);
  } finally {
    for (const r of restore.reverse()) r();
  }
}
