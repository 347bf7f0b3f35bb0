// --json on every command: stdout is exactly one JSON object with the keys docs/cli.md
// documents ("--json output"); progress and messages stay off stdout.
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixturePath } from "./helpers/fixtures.ts";
import { ownStderrLines, runCli } from "./helpers/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "cli-json-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const HEAD = fixturePath("head-bn-einsum-op12-static.onnx");
const V1 = fixturePath("v1-imgpool-l2-einsum-op17-static.onnx");
const keys = (o: object) => Object.keys(o).sort();

describe.concurrent("--json", () => {
  it("inspect: exitCode, sites, unmatched, removed, boundTextInput (exit 0, and 3 when nothing is rewritable)", async () => {
    const [ok, none] = await Promise.all([runCli(["inspect", HEAD, "--json"], 120_000), runCli(["inspect", V1, "--json"], 120_000)]);
    for (const [r, code] of [[ok, 0], [none, 3]] as const) {
      expect(r.code, r.stderr).toBe(code);
      const j = JSON.parse(r.stdout);
      expect(keys(j)).toEqual(["boundTextInput", "classes", "exitCode", "removed", "sites", "unmatched"]);
      expect(j.exitCode).toBe(code);
      expect(ownStderrLines(r.stderr)).toEqual([]);
    }
    const j = JSON.parse(ok.stdout);
    expect(j.sites.filter((s: { status: string }) => s.status === "rewritten")).toHaveLength(3);
    expect(keys(j.removed)).toEqual(["initializers", "nodes"]);
  });

  it("reparam: exitCode, message, sites, unmatched, validation", async () => {
    const r = await runCli(["reparam", HEAD, "-o", join(dir, "r.onnx"), "--json"], 120_000);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(keys(j)).toEqual(["exitCode", "message", "sites", "unmatched", "validation", "vocabulary", "warnings"]);
    expect(j.validation.passed).toBe(true);
    expect(keys(j.validation)).toEqual(["atol", "outputs", "passed", "rtol", "runs", "seed"]);
  });

  it("demo: reparam's object plus speed (bench's object: medians of original (a) and rewritten (b), ratio)", async () => {
    const out = join(dir, "demo.onnx");
    const [js, text] = await Promise.all([runCli(["demo", "-o", out, "--json"], 120_000), runCli(["demo", "-o", join(dir, "demo2.onnx"), "--quiet"], 120_000)]);
    expect(js.code, js.stderr).toBe(0);
    const j = JSON.parse(js.stdout);
    expect(keys(j)).toEqual(["exitCode", "message", "sites", "speed", "unmatched", "validation", "vocabulary", "warnings"]);
    expect(keys(j.speed)).toEqual(["a", "b", "exitCode", "inputs", "ratio", "rounds", "threads", "warmup"]);
    expect(j.speed.a.model).toMatch(/full-bn-einsum-op17-static\.onnx$/);
    expect(j.speed.b.model).toBe(out);
    expect(j.speed.rounds).toBeGreaterThanOrEqual(3);
    expect(j.speed.ratio).toBeGreaterThan(0);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/PASSED[\s\S]*rewrote 7 sites[\s\S]*\nspeed-up: \d+\.\d\dx \(original/);
  });
});
