// NumPy .npy files: reading from disk (Node only); the format itself is in npy-parse.ts.
import { readFileSync } from "node:fs";
import { ReparamError } from "../errors.ts";
import type { ConstTensor } from "../ir/tensor.ts";
import { parseNpy } from "./npy-parse.ts";

export { parseNpy };

export function readNpy(path: string): ConstTensor {
  let buf: Buffer;
  try { buf = readFileSync(path); } catch (e) { throw new ReparamError(`${path}: cannot read .npy file (${(e as NodeJS.ErrnoException).code ?? "error"})`); }
  return parseNpy(buf, path);
}
