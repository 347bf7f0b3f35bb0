// The library as a dependent project uses it: encodeModel/saveModel take what loadModel
// returns and refuse anything else; the Library example of docs/library.md runs; library code never
// prints or exits; two reparamFile calls with validation, awaited together, do not interfere.
import { afterAll, describe, expect, it, vi } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeModel, loadModel, saveModel, reparamFile, type ReparamFileOptions } from "../passes/index.ts";
import { fixturePath, REPO } from "./helpers/fixtures.ts";
import { checkReadmeExampleRun, readmeLibraryExample } from "./helpers/readme-example.ts";

const dir = mkdtempSync(join(tmpdir(), "api-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DEMO = fixturePath("full-bn-einsum-op17-static.onnx");
const HEAD = fixturePath("head-bn-einsum-op12-static.onnx");

describe("encodeModel and saveModel", () => {
  it("take what loadModel returns, and encodeModel the bare ModelProto too, to the same bytes", () => {
    const m = loadModel(DEMO);
    const a = encodeModel(m), b = encodeModel(m.proto);
    expect(Buffer.compare(a, b)).toBe(0);
    expect(Buffer.compare(a, readFileSync(DEMO))).toBe(0);
    const out = join(dir, "saved.onnx");
    saveModel(m, out);
    expect(Buffer.compare(readFileSync(out), readFileSync(DEMO))).toBe(0);
  });

  it("refuse anything else with a clear error instead of writing garbage", () => {
    const m = loadModel(DEMO);
    const bad: Array<[unknown, RegExp]> = [
      [m.proto.graph, /got an object with 'node', 'initializer'.*which ModelProto does not have/],
      [new Uint8Array(8), /got bytes \(Uint8Array\); decode them with loadModel first/],
      [null, /got null/],
      ["model.onnx", /got string/],
      [{ proto: m.proto.graph, baseDir: null, source: "x" }, /got a \{ proto \} whose proto is an object with 'node'/],
    ];
    for (const [value, message] of bad) {
      expect(() => encodeModel(value as never)).toThrow(TypeError);
      expect(() => encodeModel(value as never)).toThrow(message);
    }
    const out = join(dir, "refused.onnx");
    expect(() => saveModel(m.proto as never, out)).toThrow(/saveModel: expected what loadModel returns .*bare ModelProto/);
    expect(() => saveModel({ proto: m.proto.graph } as never, out)).toThrow(/saveModel: .*which ModelProto does not have/);
    expect(() => statSync(out)).toThrow();
  });
});

describe("library hygiene", () => {
  it("no library file prints or exits the process", () => {
    const files = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : e.name.endsWith(".ts") ? [join(d, e.name)] : []));
    const offenders = files(join(REPO, "passes")).flatMap((f) => readFileSync(f, "utf8").split("\n").map((line, i) => ({ f, i, line })))
      .filter(({ line }) => /process\.exit|console\.|process\.std(out|err)/.test(line.replace(/\/\/.*$/, "")));
    expect(offenders.map(({ f, i, line }) => `${f}:${i + 1}: ${line.trim()}`)).toEqual([]);
  });

  it("two reparamFile calls with validation, awaited together, give what each gives alone, and print nothing", async () => {
    const job = (input: string, name: string): ReparamFileOptions => ({ input, output: join(dir, name), report: join(dir, `${name}.json`) });
    const alone = [await reparamFile(job(DEMO, "a1.onnx")), await reparamFile(job(HEAD, "b1.onnx"))];
    const spies = [vi.spyOn(process.stdout, "write"), vi.spyOn(process.stderr, "write"), vi.spyOn(console, "log"), vi.spyOn(console, "warn"), vi.spyOn(console, "error")];
    const exit = vi.spyOn(process, "exit");
    try {
      const together = await Promise.all([reparamFile(job(DEMO, "a2.onnx")), reparamFile(job(HEAD, "b2.onnx")), reparamFile(job(DEMO, "a3.onnx"))]);
      for (const s of [...spies, exit]) expect(s).not.toHaveBeenCalled();
      for (const [i, j] of [[0, 0], [1, 1], [2, 0]]) {
        expect(together[i].exitCode).toBe(0);
        expect(together[i].validation?.passed).toBe(true);
        expect(together[i].sites).toEqual(alone[j].sites);
        expect(together[i].validation).toEqual(alone[j].validation);
      }
      const bytes = (n: string) => readFileSync(join(dir, n));
      expect(Buffer.compare(bytes("a2.onnx"), bytes("a1.onnx"))).toBe(0);
      expect(Buffer.compare(bytes("a3.onnx"), bytes("a1.onnx"))).toBe(0);
      expect(Buffer.compare(bytes("b2.onnx"), bytes("b1.onnx"))).toBe(0);
      expect(JSON.parse(bytes("b2.onnx.json").toString()).sites).toEqual(JSON.parse(bytes("b1.onnx.json").toString()).sites);
    } finally {
      for (const s of [...spies, exit]) s.mockRestore();
    }
  });
});

describe("docs/library.md Library example", () => {
  it("runs as written (against the sources) and writes a validated rewrite", () => {
    const out = mkdtempSync(join(dir, "readme-"));
    const src = readmeLibraryExample(DEMO, out).replaceAll('from "onnx-reparam"', `from ${JSON.stringify(join(REPO, "passes/index.ts"))}`);
    const file = join(out, "example.mts");
    writeFileSync(file, src);
    const stdout = execFileSync(process.execPath, ["--import", "tsx", file], { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_NO_WARNINGS: "1" } });
    checkReadmeExampleRun(stdout, out);
  });
});

