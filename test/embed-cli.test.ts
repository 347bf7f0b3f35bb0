// `onnx-reparam embed` through the real CLI: exit 0 with the two files, --json is one
// object on stdout, and every bad input is exit 2, one stderr line, nothing written.
import { afterAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readNpy } from "../passes/io/npy.ts";
import { ownStderrLines, runCli, type CliRun } from "./helpers/cli.ts";
import { CLIP_MODEL, CLIP_TINY, encoderCopy, withPixelValues, withoutTextEmbeds } from "./helpers/clip-tiny.ts";

const root = mkdtempSync(join(tmpdir(), "embed-cli-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const cli = (args: string[]) => runCli(args, 120_000);
const fresh = () => mkdtempSync(join(root, `d${n++}-`));

function expectOneLineError(r: CliRun, pattern: RegExp): void {
  expect(r.code, `exit code; stderr: ${r.stderr}`).toBe(2);
  const lines = ownStderrLines(r.stderr);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^onnx-reparam: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toContain("    at ");
  expect(r.stdout).toBe("");
}

describe("onnx-reparam embed", () => {
  it("--json: one JSON object on stdout; the .npy and names file are written", async () => {
    const dir = fresh();
    const out = join(dir, "coco.npy");
    const r = await cli(["embed", "--encoder", CLIP_TINY, "--classes", "person, bus,traffic light", "-o", out, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(ownStderrLines(r.stderr)).toEqual([]); // no progress line off a TTY, no warnings
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j).sort()).toEqual(["count", "dims", "model", "namesFile", "output", "seconds", "warnings"]);
    expect(j).toMatchObject({ output: out, namesFile: join(dir, "coco.names.txt"), count: 3, dims: [3, 512], model: CLIP_MODEL, warnings: [] });
    expect(j.seconds).toBeGreaterThan(0);
    expect(readNpy(out).dims).toEqual([3, 512]);
    expect(readFileSync(j.namesFile, "utf8")).toBe("person\nbus\ntraffic light\n");
    expect(readdirSync(dir).sort()).toEqual(["coco.names.txt", "coco.npy"]);
  });

  it("--names FILE with a long name and a duplicate: exit 0, warnings on stderr, in --json too", async () => {
    const dir = fresh();
    const names = join(dir, "names.txt");
    writeFileSync(names, `cat\ndog\n${"word ".repeat(90)}\ncat\n`);
    const out = join(dir, "e.npy");
    const r = await cli(["embed", "--encoder", CLIP_TINY, "--names", names, "-o", out, "--json", "--batch", "3"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = ownStderrLines(r.stderr);
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.startsWith("onnx-reparam: warning: "))).toBe(true);
    expect(r.stderr).toMatch(/"cat" appears more than once/);
    expect(r.stderr).toMatch(/is 92 tokens; truncated to 77/);
    expect(JSON.parse(r.stdout).warnings).toHaveLength(2);
    expect(readNpy(out).dims).toEqual([4, 512]);
  });

  it("without --json: one summary line on stdout", async () => {
    const dir = fresh();
    const r = await cli(["embed", "--encoder", CLIP_TINY, "--classes", "cat", "-o", join(dir, "x.npy")]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*x\.npy \(1 × 512 float32, L2-normalized rows\) and .*x\.names\.txt in [\d.]+ s\n$/);
  });

  it("bad inputs: exit 2, one line naming the problem, nothing written", async () => {
    const dir = fresh();
    const noTok = encoderCopy(join(dir, "no-tokenizer"), { skip: ["tokenizer.json"] });
    const noModel = encoderCopy(join(dir, "no-model"), { model: null });
    const tower = encoderCopy(join(dir, "tower"), { model: null });
    withoutTextEmbeds(join(tower, "onnx", "text_model.onnx"));
    const whole = encoderCopy(join(dir, "whole"), { model: null, modelAt: "model.onnx" });
    withPixelValues(join(whole, "model.onnx"));
    const badJson = encoderCopy(join(dir, "bad-json"));
    writeFileSync(join(badJson, "tokenizer.json"), "{ not json");
    const garbage = encoderCopy(join(dir, "garbage"), { model: new TextEncoder().encode("not an onnx model\n".repeat(10)) });
    const empty = join(dir, "empty.txt");
    writeFileSync(empty, "\n \n");
    const badNames = join(dir, "bad.json");
    writeFileSync(badNames, '["cat", 3]');
    const ctlNames = join(dir, "ctl.json");
    writeFileSync(ctlNames, JSON.stringify(["cat", "two\nlines"]));
    const outDir = join(dir, "out");
    mkdirSync(outDir);
    const out = join(outDir, "e.npy");
    const base = (enc: string) => ["embed", "--encoder", enc, "--classes", "cat,dog", "-o", out];
    const cases: Array<[string[], RegExp]> = [
      [base(join(dir, "missing")), /missing: encoder folder not found/],
      [base(noTok), /no-tokenizer\/tokenizer\.json: not found/],
      [base(noModel), /no-model: no ONNX text model found \(looked for text_model\.onnx, onnx\/text_model\.onnx, model\.onnx/],
      [base(tower), /no text_embeds: it is the text tower without the projection/],
      [base(whole), /whole CLIP model \(it takes pixel_values\)/],
      [base(badJson), /bad-json\/tokenizer\.json: not valid JSON/],
      [base(garbage), /garbage\/onnx\/text_model\.onnx: onnxruntime cannot load the text model/],
      [[...base(CLIP_TINY), "--encoder-model", join(dir, "nope.onnx")], /nope\.onnx: --encoder-model file not found/],
      [["embed", "--encoder", CLIP_TINY, "--names", empty, "-o", out], /name 1 of .*empty\.txt is empty \(a blank line\)/],
      [["embed", "--encoder", CLIP_TINY, "--names", join(dir, "nope.txt"), "-o", out], /nope\.txt: names file not found/],
      [["embed", "--encoder", CLIP_TINY, "--names", badNames, "-o", out], /name 2 of .*bad\.json is number/],
      [["embed", "--encoder", CLIP_TINY, "--classes", " , ", "-o", out], /name 1 of --classes is empty/],
      [["embed", "--encoder", CLIP_TINY, "--names", ctlNames, "-o", out], /name 2 of .*ctl\.json holds a control character \(U\+000A, a line break\)$/],
      [["embed", "--encoder", CLIP_TINY, "-o", out], /--names FILE or --classes/],
      [["embed", "--encoder", CLIP_TINY, "--classes", "a", "--names", empty, "-o", out], /one of the two/],
      [[...base(CLIP_TINY), "--batch", "0"], /--batch: give a whole number of at least 1 \(got 0\)/],
      [[...base(CLIP_TINY), "--batch", "2.5"], /\(got 2\.5\)/],
      [[...base(CLIP_TINY), "--batch", "many"], /--batch: give a whole number/],
      [["embed", "--encoder", CLIP_TINY, "--classes", "cat"], /Missing required argument: output/],
      [["embed", "--classes", "cat", "-o", out], /Missing required argument: encoder/],
      [[...base(CLIP_TINY), "-o", join(dir, "other.npy")], /--output was given more than once/],
      [["embed", "--encoder", CLIP_TINY, "--classes", "cat", "-o", outDir], /is a directory/],
    ];
    // A few at a time: each is a node process loading tsx and onnxruntime on a shared machine.
    const runs: CliRun[] = [];
    for (let i = 0; i < cases.length; i += 3) runs.push(...await Promise.all(cases.slice(i, i + 3).map(([args]) => runCli(args, 120_000))));
    runs.forEach((r, i) => expectOneLineError(r, cases[i][1]));
    expect(readdirSync(outDir)).toEqual([]);
    expect(existsSync(join(dir, "other.npy"))).toBe(false);
  }, 600_000);
});
