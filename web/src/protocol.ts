// Messages between the page and its worker. Model bytes travel as transferred
// ArrayBuffers (moved, not copied: a 200 MB model exists once).
import type { ReparamReport } from "../../passes/job/reparam-job.ts";

/** Asks for the class names a model declares (its `names` metadata) as soon as it is chosen. */
export interface InspectRequest { type: "inspect"; id: number; file: File }

export interface Inspected {
  type: "inspected"; id: number;
  /** The model's class names in order, null when it has no readable `names` metadata. */
  names: string[] | null;
  /** Why there are no names (no metadata, or one the page cannot read), or the decode error. */
  note?: string;
}

/** The text encoder's files as the user chose them (the page's "Text encoder" slot). */
export interface EncoderFiles {
  model: ArrayBuffer;
  modelName: string;
  tokenizer: { label: string; text: string };
  tokenizerConfig?: { label: string; text: string };
  specialTokensMap?: { label: string; text: string };
}

export interface RunRequest {
  type: "run";
  model: ArrayBuffer;
  modelName: string;
  textEmbed?: ArrayBuffer;
  textEmbedName?: string;
  names?: string;
  namesName?: string;
  /** Keep these of the model's classes, in this order (0-based indices or names): `--classes`. */
  classes?: Array<string | number>;
  encoder?: EncoderFiles;
  sites: "all" | "head" | "neck";
  neckForm: "conv" | "per-head" | "matmul";
  atol?: number;
  rtol?: number;
  validate: boolean;
  bench: boolean;
}

export interface Progress { type: "progress"; stage: string; detail: string; ms: number }

export interface BenchResult { shapes: string; runs: number; originalMs: number; rewrittenMs: number; speedup: number }

export interface Done {
  type: "done";
  exitCode: number;
  message: string;
  report: ReparamReport;
  /** The rewritten model (absent when nothing was written). */
  model?: ArrayBuffer;
  outputName: string;
  opsBefore: Record<string, number>;
  opsAfter: Record<string, number> | null;
  /** Wall time of each phase, ms: pass (decode + fold + rewrite), proof, encode, total. */
  timings: Record<string, number>;
  runtime: string;
  bench?: BenchResult | { error: string };
}

/** A refusal or a failure: one line, the CLI's exit code (2 input, 70 internal). */
export interface Failed { type: "error"; exitCode: number; message: string }

export type WorkerMessage = Progress | Done | Failed | Inspected;
export type PageMessage = RunRequest | InspectRequest;
