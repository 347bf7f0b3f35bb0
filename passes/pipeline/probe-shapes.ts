// Concrete shapes for graph inputs: declared dims where fixed, the user's
// --input-shape where given, else defaults (batch 1, 640x640 for image-like inputs).
// A second, different probe shape lets rules prove independence from symbolic dims
// (batch + 1; image H + 32, W + 64; any other symbolic dim + its axis index).
import type { ValueInfo } from "../io/onnx-types.ts";
import { declaredDims } from "../ir/graph-inputs.ts";
import { ReparamError } from "../errors.ts";

export interface ProbeShapes { a: Map<string, number[]>; b: Map<string, number[]> | null }

export function parseInputShapes(specs: string[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const s of specs) {
    const m = /^(.+):(\d+(?:x\d+)*)$/.exec(s);
    if (!m) throw new ReparamError(`--input-shape '${s}': expected NAME:DxDx... (e.g. images:1x3x640x640)`);
    const dims = m[2].split("x").map(Number);
    if (dims.some((d) => d < 1 || !Number.isSafeInteger(d))) throw new ReparamError(`--input-shape '${s}': every dim must be a whole number from 1 to 2^53`);
    out.set(m[1], dims);
  }
  return out;
}

export function probeShapes(inputs: readonly ValueInfo[], given: Map<string, number[]>): ProbeShapes {
  const a = new Map<string, number[]>(), b = new Map<string, number[]>();
  let symbolic = false;
  for (const v of inputs) {
    const name = v.name ?? "";
    const dims = declaredDims(v);
    if (!dims) continue;
    const user = given.get(name);
    if (user) {
      if (user.length !== dims.length) throw new ReparamError(`--input-shape ${name}: rank ${user.length}, but the model declares rank ${dims.length}`);
      dims.forEach((d, i) => { if (typeof d === "number" && d !== user[i]) throw new ReparamError(`--input-shape ${name}: dim ${i} is ${user[i]}, the model fixes it at ${d}`); });
    }
    const imageLike = dims.length === 4 && dims[1] === 3;
    const shapeA = dims.map((d, i) => (typeof d === "number" ? d : user ? user[i] : i === 0 ? 1 : imageLike ? 640 : 1));
    const shapeB = dims.map((d, i) => {
      if (typeof d === "number") return d;
      symbolic = true;
      // Every symbolic dim moves, each by a different amount, so no two dims stay equal:
      // a square probe cannot tell H from W (a reshape built with them swapped would pass).
      return i === 0 ? shapeA[i] + 1 : imageLike ? shapeA[i] + 32 * (i - 1) : shapeA[i] + i;
    });
    a.set(name, shapeA);
    b.set(name, shapeB);
  }
  for (const name of given.keys()) if (!inputs.some((v) => v.name === name)) throw new ReparamError(`--input-shape: the model has no input '${name}'`);
  return { a, b: symbolic ? b : null };
}
