// What a tensor's external-data fields say, and where its bytes come from. Reading them
// needs a file system, which only the Node layer has: model-io.ts registers its reader
// when it is loaded (it is also what gives a model a directory), and in the browser a
// model comes from bytes, so an external tensor is reported instead of read.
import { ReparamError } from "../errors.ts";
import type { Graph, Model, Tensor } from "./onnx-types.ts";

export const EXTERNAL = 1;

export interface ExternalRef { location: string; offset: number; length: number | null }

export function externalRef(t: Tensor): ExternalRef | null {
  if (t.data_location !== EXTERNAL) return null;
  const kv = new Map((t.external_data ?? []).map((e) => [e.key ?? "", e.value ?? ""]));
  const location = kv.get("location");
  if (!location) throw new ReparamError(`tensor '${t.name}': external data without a location`);
  // Decimal digits only: Number() would also take "", "1e9", "0x10" and " 7 ".
  const count = (key: string): number => {
    const v = kv.get(key)!;
    if (!/^\d{1,16}$/.test(v) || !Number.isSafeInteger(Number(v))) throw new ReparamError(`tensor '${t.name}': external data ${key} '${v.slice(0, 40)}' is not a byte count`);
    return Number(v);
  };
  return { location, offset: kv.has("offset") ? count("offset") : 0, length: kv.has("length") ? count("length") : null };
}

/** Reads an external tensor's bytes; `expected` (its dims times its element size) is checked before anything is allocated. */
type Reader = (t: Tensor, baseDir: string | null, expected?: number) => Uint8Array;
let reader: Reader | null = null;

export function setExternalDataReader(r: Reader): void { reader = r; }

/** The bytes of an external tensor, through the registered reader. */
export function externalBytes(t: Tensor, baseDir: string | null, expected?: number): Uint8Array {
  if (!reader || baseDir == null) throw new ReparamError(`tensor '${t.name}': external data needs the model's directory; load the model from a path`);
  return reader(t, baseDir, expected);
}

export function* allTensors(g: Graph): Generator<Tensor> {
  for (const t of g.initializer ?? []) yield t;
  for (const n of g.node ?? []) {
    for (const a of n.attribute ?? []) {
      if (a.t) yield a.t;
      for (const t of a.tensors ?? []) yield t;
      if (a.g) yield* allTensors(a.g);
      for (const sg of a.graphs ?? []) yield* allTensors(sg);
    }
  }
}

export function hasExternalData(m: Model): boolean {
  if (!m.graph) return false;
  for (const t of allTensors(m.graph)) if (externalRef(t)) return true;
  return false;
}
