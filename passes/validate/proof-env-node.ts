// The CLI's proof environment: onnxruntime-node, the original loaded by path (so its
// external data resolves), and a temporary copy for a rewritten model with external data.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModel, saveModel } from "../io/model-io.ts";
import { nodeRuntime } from "../runtime/node-runtime.ts";
import type { ProofEnv } from "./proof-env.ts";

export function nodeProofEnv(inputPath: string, onRun?: ProofEnv["onRun"]): ProofEnv {
  return {
    runtime: nodeRuntime, label: inputPath, original: { path: inputPath }, onRun,
    reload: () => loadModel(inputPath),
    async withSaved(model, body) {
      const dir = mkdtempSync(join(tmpdir(), "onnx-reparam-"));
      try {
        const path = join(dir, "rewritten.onnx");
        saveModel(model, path);
        return await body({ path });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
