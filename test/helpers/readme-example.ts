// The Library example of docs/library.md, run by tests against the sources (api.test.ts) and
// against the installed tarball (package.test.ts).
import { expect } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadModel } from "../../passes/io/model-io.ts";
import { REPO } from "./fixtures.ts";

/** The ```js block under "## Library" in docs/library.md, with its file names pointed at the demo model and a temp dir. */
export function readmeLibraryExample(input: string, outDir: string): string {
  const doc = readFileSync(join(REPO, "docs", "library.md"), "utf8");
  const section = doc.slice(doc.indexOf("\n## Library"));
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (!code) throw new Error("docs/library.md: no ```js block under ## Library");
  return code.replaceAll('"yolo_world.onnx"', JSON.stringify(input)).replaceAll(/"(yolo_world\.[a-z.]+)"/g, (_, f: string) => JSON.stringify(join(outDir, f)));
}

/** What the Library example must have done: rewritten 7 sites of the demo model, twice, the second time with the proof. */
export function checkReadmeExampleRun(stdout: string, out: string): void {
  expect(stdout).toMatch(/rewrote 7 site\(s\)/);
  expect(stdout).toMatch(/validation passed: true/);
  for (const f of readdirSync(out).filter((f) => f.endsWith(".onnx"))) {
    const ops = new Set(loadModel(join(out, f)).proto.graph!.node!.map((n) => n.op_type));
    expect(ops.has("Einsum"), f).toBe(false);
  }
  expect(readdirSync(out).filter((f) => f.endsWith(".onnx")).length).toBe(2);
}
