// Messages (issue 17, item 5): counts agree with their nouns ("retargeted to 1 class"),
// rows are numbered from 1 everywhere, and `validate` on outputs of different shapes says
// which output and which shapes instead of "needs atol Infinity".
import { afterAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeModel } from "../passes/io/codec.ts";
import { readNpy, writeNpy } from "../passes/io/npy.ts";
import { plural } from "../passes/errors.ts";
import { validateFiles } from "../passes/validate/validate-files.ts";
import { GraphBuilder, attrInt } from "../models/build/yolo-world-sites.ts";
import { fixturePath } from "./helpers/fixtures.ts";
import { ownStderrLines, runCli } from "./helpers/cli.ts";

const tmp = mkdtempSync(join(tmpdir(), "messages-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** y = x (1, 4), or y = concat(x, x) (1, 8): same interface, different output shapes. */
function twoShapes(): [string, string] {
  const paths = [1, 2].map((copies) => {
    const g = new GraphBuilder(17);
    const x = g.input("x", [1, 4]);
    g.output(g.node("Concat", new Array(copies).fill(x), [attrInt("axis", 1)]), "y", [1, "n"]);
    const p = join(tmp, `copies${copies}.onnx`);
    writeFileSync(p, encodeModel(g.model(`c${copies}`)));
    return p;
  });
  return [paths[0], paths[1]];
}

describe("messages", () => {
  it("plural() agrees with the count", () => {
    expect(plural(1, "class", "classes")).toBe("1 class");
    expect(plural(0, "class", "classes")).toBe("0 classes");
    expect(plural(2, "site")).toBe("2 sites");
  });

  it("validate names the output whose shapes differ, in the result and on stderr (exit 1)", async () => {
    const [a, b] = twoShapes();
    const r = await validateFiles(a, b, { runs: 1 });
    expect(r.passed).toBe(false);
    expect(r.outputs[0].shapeMismatch).toEqual({ expected: [1, 4], actual: [1, 8] });
    const cli = await runCli(["validate", a, b, "--runs", "1", "--quiet"]);
    expect(cli.code).toBe(1);
    expect(ownStderrLines(cli.stderr)).toEqual(["onnx-reparam: the models disagree (y: shapes differ: [1, 4] in A, [1, 8] in B)"]);
    expect(cli.stdout).toContain("FAIL y            shapes differ: [1, 4] in A, [1, 8] in B");
    expect(cli.stdout + cli.stderr).not.toMatch(/Infinity/);
  });

  const model = fixturePath("ultralytics-world-op20-static-meta.onnx");
  it.skipIf(!existsSync(model))("a vocabulary of one row is 'retargeted to 1 class', the sites plural", async () => {
    const t = readNpy(fixturePath("vocab/texts-k20.npy"));
    const one = writeNpy(join(tmp, "one.npy"), [1, 512], t.data.subarray(0, 512));
    const r = await runCli(["reparam", model, "--text-embed", one, "-o", join(tmp, "one.onnx"), "--no-validate", "--quiet"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/retargeted to 1 class and rewrote 7 sites into/);
  });
});
