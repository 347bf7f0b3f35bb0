// Long work reports what it is doing through an optional callback; the library never
// prints. The CLI renders these as one updating line on a terminal (cli/progress.ts).

export interface Progress {
  /** What is happening, one short phrase: "loading a.onnx (52 MB)", "validation run 2/3". */
  message: string;
  /** Steps done and in total, when the work is counted (bench rounds, validation runs). */
  done?: number;
  total?: number;
}

export type ProgressFn = (p: Progress) => void;

export const megabytes = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(bytes < 10 * 2 ** 20 ? 1 : 0)} MB`;
