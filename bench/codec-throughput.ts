// How far the codec is from the disk: decode / encode / save of a ≥100 MB model against
// plain readFileSync / writeFileSync of the same bytes. The model is built in memory with
// the project's own codec so the bench needs nothing from ../shared.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { Worker } from "node:worker_threads";
import { encodeModel } from "../passes/io/codec.ts";
import { loadModel, saveModel } from "../passes/io/model-io.ts";
import type { Model, Node, Tensor } from "../passes/io/onnx-types.ts";

const BIG_TENSORS = 4;
const BIG_FLOATS = 6_600_000; // 26.4 MB each
const SMALL_NODES = 5000;
const REPEATS = 5;

// A forced GC before each sample makes the RSS delta mean "what this step holds on to",
// not whatever garbage the previous step left behind.
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

function buildModel(): Model {
  const initializer: Tensor[] = [];
  for (let k = 0; k < BIG_TENSORS; k++) {
    const data = new Float32Array(BIG_FLOATS);
    let s = 0x9e3779b9 + k;
    for (let i = 0; i < data.length; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; data[i] = (s >>> 8) / 2 ** 24 - 0.5; }
    initializer.push({ name: `big${k}`, data_type: 1, dims: [BIG_FLOATS / 1000, 1000], raw_data: new Uint8Array(data.buffer) });
  }
  const node: Node[] = [];
  for (let i = 0; i < SMALL_NODES; i++) {
    const w = `w${i}`;
    initializer.push({ name: w, data_type: 1, dims: [8, 8, 1, 1], raw_data: new Uint8Array(256).fill(i & 255) });
    node.push({
      op_type: "Conv", name: `conv${i}`, input: [i ? `t${i - 1}` : "x", w], output: [`t${i}`],
      attribute: [
        { name: "kernel_shape", type: 7, ints: [1, 1] },
        { name: "strides", type: 7, ints: [1, 1] },
        { name: "pads", type: 7, ints: [0, 0, 0, 0] },
      ],
    });
  }
  node.push({ op_type: "MatMul", name: "head", input: [`t${SMALL_NODES - 1}`, "big0"], output: ["y"] });
  return {
    ir_version: 10, producer_name: "codec-throughput", opset_import: [{ domain: "", version: 21 }],
    graph: { name: "bench", node, initializer, input: [{ name: "x" }], output: [{ name: "y" }] },
  };
}

// The steps are synchronous, so the main thread cannot watch its own peak: a worker
// samples the process RSS every millisecond into shared memory instead.
class RssSampler {
  private cells = new Float64Array(new SharedArrayBuffer(16)); // [peak bytes, stop flag]
  private worker = new Worker(
    `const { workerData } = require("node:worker_threads");
     const cells = new Float64Array(workerData), tick = new Int32Array(new SharedArrayBuffer(4));
     while (cells[1] === 0) {
       const rss = process.memoryUsage.rss();
       if (rss > cells[0]) cells[0] = rss;
       Atomics.wait(tick, 0, 0, 1);
     }`,
    { eval: true, workerData: this.cells.buffer },
  );
  reset(): void { this.cells[0] = process.memoryUsage.rss(); }
  get peak(): number { return Math.max(this.cells[0], process.memoryUsage.rss()); }
  async stop(): Promise<void> { this.cells[1] = 1; await this.worker.terminate(); }
}

interface Row { step: string; ms: number; mbps: number; vsPlain: string; peakMB: number }

function measure(sampler: RssSampler, step: string, bytes: number, fn: () => unknown): Omit<Row, "vsPlain"> {
  let best = Infinity, peak = 0;
  for (let r = 0; r < REPEATS; r++) {
    gc();
    const before = process.memoryUsage.rss();
    sampler.reset();
    const t0 = process.hrtime.bigint();
    const result = fn();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    peak = Math.max(peak, sampler.peak - before);
    void result; // alive until the sample above
    best = Math.min(best, ms);
  }
  return { step, ms: best, mbps: bytes / 1e6 / (best / 1e3), peakMB: peak / 2 ** 20 };
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "codec-bench-"));
  const sampler = new RssSampler();
  try {
    const bytes = encodeModel(buildModel());
    const src = join(dir, "model.onnx");
    writeFileSync(src, bytes);
    const size = bytes.length;
    const loaded = loadModel(src);
    console.log(`model: ${(size / 1e6).toFixed(1)} MB, ${SMALL_NODES + 1} nodes, ${loaded.proto.graph!.initializer!.length} initializers; best of ${REPEATS}`);

    const read = measure(sampler, "readFileSync", size, () => readFileSync(src));
    const load = measure(sampler, "loadModel (read + decode)", size, () => loadModel(src));
    const encode = measure(sampler, "encodeModel", size, () => encodeModel(loaded.proto));
    const write = measure(sampler, "writeFileSync", size, () => writeFileSync(join(dir, "plain.onnx"), bytes));
    const save = measure(sampler, "saveModel (encode + atomic write)", size, () => saveModel(loaded, join(dir, "saved.onnx")));

    const rows: Row[] = [
      { ...read, vsPlain: "1.00× read" },
      { ...load, vsPlain: `${(load.ms / read.ms).toFixed(2)}× read` },
      { ...encode, vsPlain: `${(encode.ms / write.ms).toFixed(2)}× write` },
      { ...write, vsPlain: "1.00× write" },
      { ...save, vsPlain: `${(save.ms / write.ms).toFixed(2)}× write` },
    ];
    const table = rows.map((r) => ({
      step: r.step, "ms": r.ms.toFixed(1), "MB/s": r.mbps.toFixed(0), "time vs plain": r.vsPlain, "peak RSS Δ MB": r.peakMB.toFixed(0),
    }));
    console.table(table);
    console.log(`peak RSS Δ: highest resident size during a step minus the size before it, sampled every ~1 ms (file = ${(size / 2 ** 20).toFixed(0)} MiB)`);
  } finally {
    await sampler.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
