// The page's own layer, without a browser. Every CLI flag a library message can name has a page control to name instead: the flags are
// collected from the string literals of passes/ and cli/ (so a new flag in a message fails
// here until the page knows its control), then each is put through the page's translation.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pageMessage } from "../web/src/control-names.ts";
import { outputName, reportName } from "../web/src/output-name.ts";

const REPO = join(import.meta.dirname, "..");
const walk = (dir: string): string[] => readdirSync(join(REPO, dir), { withFileTypes: true })
  .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));

/** `--flag` inside a string or template literal of the library's sources. */
function flagsInMessages(): Set<string> {
  const flags = new Set<string>();
  for (const f of walk("passes")) {
    const src = readFileSync(join(REPO, f), "utf8");
    for (const lit of src.match(/`(?:[^`\\]|\\.)*`|"(?:[^"\\\n]|\\.)*"/g) ?? []) {
      for (const m of lit.matchAll(/(?:^|[\s(`"'])--([a-z][a-z-]*[a-z])/g)) flags.add(m[1]);
    }
  }
  return flags;
}

describe("the page's messages", () => {
  const flags = flagsInMessages();
  console.log(`flags in messages: ${[...flags].join(", ")}`);

  it("finds the flags the library's messages name", () => {
    for (const f of ["text-embed", "names", "encoder", "classes"]) expect(flags).toContain(f);
  });

  it("no message keeps a CLI flag once the page has translated it", () => {
    for (const f of flags) {
      const out = pageMessage(`x.npy: give --${f} too (or --${f}); "--${f}" ends`);
      expect(out, f).not.toMatch(new RegExp(`--${f}\\b`));
    }
  });

  it("the words around a flag stay as they were", () => {
    expect(pageMessage("--names sets the class names of a new vocabulary: give --text-embed (or --encoder) too"))
      .toBe("“Class names” sets the class names of a new vocabulary: give “Text embeddings (.npy)” (or “Text encoder” (model and tokenizer.json)) too");
    expect(pageMessage("validation failed (output0: max abs diff 1e-3); nothing written (--force writes anyway)")).toBe("validation failed (output0: max abs diff 1e-3); nothing written");
    expect(pageMessage("model-v2--final.onnx: truncated")).toBe("model-v2--final.onnx: truncated");
  });
});

describe("download names", () => {
  it("from the input and the vocabulary", () => {
    expect(outputName("yolo_world.onnx", null)).toBe("yolo_world.rep.onnx");
    expect(outputName("yolo_world.onnx", 20)).toBe("yolo_world.20cls.onnx");
    expect(outputName("yolov8s-worldv2.ONNX", 1)).toBe("yolov8s-worldv2.1cls.onnx");
    expect(outputName("model", 3)).toBe("model.3cls.onnx");
    expect(outputName(".onnx", null)).toBe("model.rep.onnx");
    expect(reportName("yolo_world.20cls.onnx")).toBe("yolo_world.20cls.report.json");
  });
});
