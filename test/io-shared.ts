// Where ../shared lives relative to the repo, and the .onnx files in it. Tests that need
// it skip with a visible message when it is absent (a clone outside this setup).
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const SHARED = resolve(fileURLToPath(new URL("../../shared/", import.meta.url)));
export const CORPUS = join(SHARED, "onnx-corpus");
export const FIDELITY = join(SHARED, "onnx-fidelity");
export const hasShared = existsSync(CORPUS) && existsSync(FIDELITY);

export function onnxFilesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...onnxFilesUnder(p));
    else if (name.endsWith(".onnx")) out.push(p);
  }
  return out;
}

export const fidelity = (name: string) => join(FIDELITY, name);
