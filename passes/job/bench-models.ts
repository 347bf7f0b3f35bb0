// `bench`: one or two models timed on the same inputs, as deployed (graph optimization "all").
import type * as ort from "onnxruntime-node";
import { ReparamError } from "../errors.ts";
import type { ConstTensor } from "../ir/tensor.ts";
import { loadModel } from "../io/model-io.ts";
import { checkSameInterface, concreteInputs } from "../validate/model-inputs.ts";
import { makeFeeds, nodeRuntime, type ModelSource } from "../validate/validate.ts";
import { timeSessions, timingResult, type TimingOptions, type TimingResult } from "./timing.ts";

export interface BenchModelsOptions extends TimingOptions {
  /** onnxruntime intra-op threads (default: onnxruntime's own choice, one per core). */
  threads?: number;
  /** Concrete shapes for symbolic input dims (default batch 1, 640x640 images). */
  inputShapes?: Map<string, number[]>;
  /** Real input data; other inputs get seeded uniform [0, 1) values (seed 0). */
  inputs?: Map<string, ConstTensor>;
}

export interface BenchModelsResult extends TimingResult {
  threads: number | null;
  inputs: Array<{ name: string; shape: number[] }>;
}

const label = (s: ModelSource, fallback: string) => s.path ?? fallback;

/** Times model A (and B, alternating) on the same inputs, with graph optimization "all" as deployed. */
export async function benchModels(a: ModelSource, b: ModelSource | null = null, o: BenchModelsOptions = {}): Promise<BenchModelsResult> {
  if (o.threads !== undefined && !(Number.isInteger(o.threads) && o.threads >= 1)) throw new ReparamError("--threads expects a whole number >= 1");
  const proto = (s: ModelSource) => loadModel(s.path ?? s.bytes!).proto;
  o.onProgress?.({ message: `loading ${label(a, "A")}` });
  const ma = proto(a);
  if (b) checkSameInterface(ma, proto(b), [label(a, "A"), label(b, "B")]);
  const given = o.inputs ?? new Map<string, ConstTensor>();
  const inputs = concreteInputs(ma, o.inputShapes ?? new Map(), given);
  // nodeRuntime's tensors are onnxruntime-node's own.
  const feeds = makeFeeds(nodeRuntime, inputs, 0, given) as unknown as Record<string, ort.Tensor>;
  const so: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: "all", logSeverityLevel: 3, ...(o.threads ? { intraOpNumThreads: o.threads } : {}) };
  const models = [a, ...(b ? [b] : [])].map((s, i) => ({ name: label(s, i ? "B" : "A"), path: s.path, bytes: s.bytes }));
  const t = timingResult(await timeSessions(models, feeds, so, o), o);
  return { ...t, threads: o.threads ?? null, inputs: inputs.map(({ name, shape }) => ({ name, shape })) };
}
