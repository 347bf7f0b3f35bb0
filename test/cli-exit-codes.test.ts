// The CLI's exit-code contract (docs/cli.md "Exit codes"): 0 rewritten and validated,
// 1 validation failed, 2 usage or input error, 3 nothing to rewrite. Every failure is
// one stderr line starting with "onnx-reparam:" and never a stack; outputs are written
// atomically (no *.tmp left) and only when the contract says so.
// `--sites head` throughout, so the neck rule under development does not affect these.
import { afterAll, describe, expect, it } from "vitest";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModel } from "../passes/io/model-io.ts";
import { reparamFile } from "../passes/job/reparam-file.ts";
import { ReparamError } from "../passes/errors.ts";
import { fixtureByName, fixturePath, headEinsums } from "./helpers/fixtures.ts";
import { ownStderrLines, runCli, type CliRun } from "./helpers/cli.ts";

const root = mkdtempSync(join(tmpdir(), "cli-exit-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => { const d = join(root, `d${dirs++}`); rmSync(d, { recursive: true, force: true }); return mkdtempSync(d); };

const HEAD = fixtureByName("head-bn-einsum-op12-static");
const K1203 = fixtureByName("full-bn-einsum-k1203-op17-static");
const V1 = fixtureByName("v1-imgpool-l2-einsum-op17-static");
const TEXT = fixtureByName("full-bn-einsum-op17-textinput-static");
for (const [n, f] of Object.entries({ HEAD, K1203, V1, TEXT })) if (!f) console.warn(`[cli-exit-codes] SKIP cases needing ${n}: fixture not present`);

function expectOneLineError(r: CliRun, code: number, pattern?: RegExp): void {
  expect(r.code, `exit code; stderr: ${r.stderr}`).toBe(code);
  const lines = ownStderrLines(r.stderr);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0].startsWith("onnx-reparam: ")).toBe(true);
  expect(r.stderr).not.toContain("    at ");
  if (pattern) expect(lines[0]).toMatch(pattern);
}

const noTmp = (dir: string) => expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);

describe.concurrent("onnx-reparam CLI exit codes", () => {
  it("--help exits 0 and lists the commands", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/reparam <input>/);
    expect(r.stdout).toMatch(/demo/);
    expect(r.stdout).toMatch(/Exit codes/);
  });

  it("usage and input errors exit 2 with one line and no stack", async () => {
    const dir = freshDir();
    const text = join(dir, "notes.onnx");
    writeFileSync(text, "this is not an ONNX model\n".repeat(20));
    const out = join(dir, "out.onnx");
    const [missing, notModel, unknownOpt, noValue, badChoice, twice] = await Promise.all([
      runCli(["reparam", join(dir, "missing.onnx"), "-o", out]),
      runCli(["reparam", text, "-o", out]),
      runCli(["reparam", text, "-o", out, "--bogus-option"]),
      runCli(["reparam", text, "-o"]),
      runCli(["reparam", text, "-o", out, "--sites", "bogus"]),
      runCli(["reparam", text, "-o", out, "-o", join(dir, "again.onnx")]),
    ]);
    expectOneLineError(missing, 2, /missing\.onnx.*no such file/);
    expectOneLineError(notModel, 2, /notes\.onnx.*not a valid ONNX model/);
    expectOneLineError(unknownOpt, 2, /bogus/i);
    expectOneLineError(noValue, 2, /Not enough arguments following: o/);
    expectOneLineError(badChoice, 2, /Invalid values: .*Given: "bogus"/);
    expectOneLineError(twice, 2, /--output was given more than once/);
    expect(existsSync(out)).toBe(false);
    noTmp(dir);
  });

  it.skipIf(!V1)("nothing to rewrite (v1 image pooling) exits 3 and writes nothing", async () => {
    const dir = freshDir();
    const out = join(dir, "v1.rep.onnx");
    const r = await runCli(["reparam", fixturePath(V1!.file), "-o", out, "--sites", "head"]);
    expectOneLineError(r, 3, /nothing to rewrite.*'images'/);
    expect(existsSync(out)).toBe(false);
    noTmp(dir);
  });

  it.skipIf(!HEAD)("rewrites a head fixture (exit 0), reports every site, and a second run finds nothing (exit 3)", async () => {
    const dir = freshDir();
    const out = join(dir, "head.rep.onnx");
    const report = join(dir, "reports", "r.json"); // the directory does not exist yet
    const r = await runCli(["reparam", fixturePath(HEAD!.file), "-o", out, "--sites", "head", "--report", report]);
    expect(r.code, r.stderr).toBe(0);
    expect(ownStderrLines(r.stderr)).toEqual([]);
    expect(existsSync(out)).toBe(true);
    const rep = JSON.parse(readFileSync(report, "utf8"));
    expect(rep.exitCode).toBe(0);
    expect(rep.output).toBe(out);
    expect(rep.sites).toHaveLength(HEAD!.expect.head.rewritable);
    for (const s of rep.sites) {
      expect(s).toMatchObject({ kind: "head", status: "rewritten", k: HEAD!.k });
      expect(s.nodes.length).toBeGreaterThan(0);
    }
    expect(rep.validation.passed).toBe(true);
    expect(rep.validation.outputs.map((o: { name: string }) => o.name).sort()).toEqual(["box0", "box1", "box2", "cls0", "cls1", "cls2"]);
    for (const o of rep.validation.outputs) {
      for (const key of ["maxAbsDiff", "maxRelDiff", "cosine", "minPassingAtol"]) expect(typeof o[key], key).toBe("number");
      expect(o.passed).toBe(true);
      expect(o.minPassingAtol).toBeLessThanOrEqual(rep.validation.atol);
    }
    const g = loadModel(out).proto.graph!;
    expect(headEinsums(g)).toEqual([]);

    const out2 = join(dir, "head.rep2.onnx");
    const again = await runCli(["reparam", out, "-o", out2, "--sites", "head"]);
    expectOneLineError(again, 3, /nothing to rewrite/);
    expect(existsSync(out2)).toBe(false);
    noTmp(dir);
  });

  it.skipIf(!K1203)("--atol 0 --rtol 0 fails validation (exit 1) and writes nothing; --force writes anyway (exit 1)", async () => {
    const dir = freshDir();
    const [outA, outB] = [join(dir, "a.onnx"), join(dir, "b.onnx")];
    const base = ["reparam", fixturePath(K1203!.file), "--sites", "head", "--atol", "0", "--rtol", "0"];
    const [a, b] = await Promise.all([
      runCli([...base, "-o", outA, "--report", join(dir, "a.json")]),
      runCli([...base, "-o", outB, "--force"]),
    ]);
    expectOneLineError(a, 1, /validation failed.*nothing written/);
    expect(existsSync(outA)).toBe(false);
    const rep = JSON.parse(readFileSync(join(dir, "a.json"), "utf8"));
    expect(rep.output).toBeNull();
    expect(rep.validation.passed).toBe(false);
    const failing = rep.validation.outputs.filter((o: { passed: boolean }) => !o.passed);
    expect(failing.length).toBeGreaterThan(0);
    for (const o of failing) expect(o.minPassingAtol).toBeGreaterThan(0);
    expectOneLineError(b, 1, /validation failed.*written anyway/);
    expect(existsSync(outB)).toBe(true);
    expect(headEinsums(loadModel(outB).proto.graph!)).toEqual([]);
    noTmp(dir);
  });

  it.skipIf(!HEAD)("-o equal to the input replaces the file in place", async () => {
    const dir = freshDir();
    const p = join(dir, "model.onnx");
    copyFileSync(fixturePath(HEAD!.file), p);
    const before = loadModel(p).proto.graph!;
    expect(headEinsums(before).length).toBe(HEAD!.expect.head.rewritable);
    const r = await runCli(["reparam", p, "-o", p, "--sites", "head"]);
    expect(r.code, r.stderr).toBe(0);
    const g = loadModel(p).proto.graph!;
    expect(g.node!.filter((n) => n.op_type === "Einsum")).toEqual([]);
    // Each head output is now written by a Conv (the embedding Conv before it merged in).
    const producerOps = (x: typeof g) => (x.output ?? []).filter((o) => /^cls/.test(o.name ?? "")).map((o) => x.node!.find((n) => n.output?.includes(o.name!))?.op_type);
    expect(producerOps(g)).toEqual(producerOps(before).map(() => "Conv"));
    expect(readdirSync(dir).sort()).toEqual(["model.onnx"]);
  });

  it("demo writes the given -o file and exits 0", async () => {
    const dir = freshDir();
    const out = join(dir, "demo.onnx");
    const r = await runCli(["demo", "-o", out, "--sites", "head"]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(headEinsums(loadModel(out).proto.graph!)).toEqual([]);
    noTmp(dir);
  });

  it.skipIf(!TEXT)("--text-embed binds the text input of the textinput fixture (exit 0)", async () => {
    const dir = freshDir();
    const out = join(dir, "text.rep.onnx");
    const r = await runCli(["reparam", fixturePath(TEXT!.file), "-o", out, "--sites", "head", "--text-embed", fixturePath(TEXT!.textInput!.npy)]);
    expect(r.code, r.stderr).toBe(0);
    const g = loadModel(out).proto.graph!;
    expect(g.input!.map((v) => v.name)).toEqual(["images"]);
    expect(headEinsums(g)).toEqual([]);
    noTmp(dir);
  });
});

// In-process (reparamFile is the CLI's library call), so no extra subprocess.
describe("reparamFile tolerance options", () => {
  it.each([["atol", NaN], ["atol", -1e-3], ["rtol", Infinity], ["rtol", -1]] as const)("--%s %s is a usage error (exit 2), nothing written", async (name, value) => {
    const dir = freshDir();
    const out = join(dir, "out.onnx");
    const input = HEAD ? fixturePath(HEAD.file) : join(dir, "absent.onnx");
    const err = await reparamFile({ input, output: out, sites: "head", tolerance: { [name]: value } }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ReparamError);
    expect((err as ReparamError).exitCode).toBe(2);
    expect((err as ReparamError).message).toContain(`--${name}`);
    expect(existsSync(out)).toBe(false);
  });
});
