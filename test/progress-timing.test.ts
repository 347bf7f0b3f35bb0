// The progress line (only on a terminal, never with --quiet, plain under NO_COLOR) and
// the timing harness's round structure (warm-up, alternating order, per-round ratios).
import { afterEach, describe, expect, it } from "vitest";
import { clearProgress, progressLine } from "../cli/progress.ts";
import { median, timeAlternating } from "../passes/job/timing.ts";

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns: 40, write: (s: string) => { writes.push(s); return true; } } as unknown as NodeJS.WriteStream };
}

describe("progress line", () => {
  const saved = process.env.NO_COLOR;
  afterEach(() => { if (saved === undefined) delete process.env.NO_COLOR; else process.env.NO_COLOR = saved; });

  it("draws one line in place on a terminal, cut to its width, and erases it", () => {
    delete process.env.NO_COLOR;
    const { writes, stream } = fakeStream(true);
    const p = progressLine(false, stream);
    p.onProgress!({ message: "loading a.onnx" });
    p.onProgress!({ message: "a message far longer than the forty columns of this terminal", done: 1, total: 3 });
    p.clear();
    p.clear();
    expect(writes).toHaveLength(3);
    expect(writes[0]).toMatch(/^\r\x1b\[2K\x1b\[2monnx-reparam: loading a\.onnx {2}\d+\.\d s\x1b\[22m$/);
    expect(writes[1].replace(/\x1b\[\d*[mK]/g, "").length).toBeLessThanOrEqual(40);
    expect(writes[2]).toBe("\r\x1b[2K");
    p.onProgress!({ message: "folding" });
    clearProgress(); // what the CLI's error path does before its one line
    expect(writes.slice(3)).toEqual([expect.stringContaining("folding"), "\r\x1b[2K"]);
  });

  it("is plain under NO_COLOR, and off when not a terminal or with --quiet", () => {
    process.env.NO_COLOR = "1";
    const tty = fakeStream(true);
    progressLine(false, tty.stream).onProgress!({ message: "saving" });
    expect(tty.writes[0]).not.toMatch(/\x1b\[\d*m/);
    for (const [quiet, isTTY] of [[true, true], [false, false]] as const) {
      const s = fakeStream(isTTY);
      const p = progressLine(quiet, s.stream);
      expect(p.onProgress).toBeUndefined();
      p.clear();
      expect(s.writes).toEqual([]);
    }
  });
});

describe("timing harness", () => {
  it("warms up, then alternates A and B round by round; ratio is the median of per-round ratios", async () => {
    const calls: string[] = [];
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const progress: string[] = [];
    const r = await timeAlternating(async () => { calls.push("a"); await sleep(12); }, async () => { calls.push("b"); await sleep(1); }, { runs: 5, warmup: 2, onProgress: (p) => progress.push(p.message) });
    expect(calls.join("")).toBe("abab" + "ab" + "ba" + "ab" + "ba" + "ab");
    expect(r.rounds).toBe(5);
    expect(r.a.times).toHaveLength(5);
    expect(r.b!.times).toHaveLength(5);
    expect(r.ratio).toBe(median(r.a.times.map((t, i) => t / r.b!.times[i])));
    expect(r.ratio).toBeGreaterThan(1); // A sleeps 12 ms, B 1 ms
    expect(r.a.min).toBe(Math.min(...r.a.times));
    expect(progress).toEqual(["warm-up 1/2", "warm-up 2/2", "round 1/5", "round 2/5", "round 3/5", "round 4/5", "round 5/5"]);
  });

  it("one model: no ratio; a budget stops early after at least 3 rounds", async () => {
    let n = 0;
    const r = await timeAlternating(async () => { n++; await new Promise((res) => setTimeout(res, 5)); }, null, { runs: 100, warmup: 0, budgetMs: 1 });
    expect(r.b).toBeNull();
    expect(r.ratio).toBeNull();
    expect(r.rounds).toBe(3);
    expect(n).toBe(3);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    await expect(timeAlternating(async () => {}, null, { runs: 0 })).rejects.toThrow(/--runs expects a whole number/);
  });
});
