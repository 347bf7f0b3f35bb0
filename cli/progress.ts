// Progress on stderr as one line rewritten in place: only when stderr is a terminal and
// --quiet is not given, so pipes, logs and CI see nothing. Dim unless NO_COLOR is set.
import type { Progress, ProgressFn } from "../passes/progress.ts";

export interface ProgressLine {
  /** undefined when progress is off, so library calls skip the work of describing it. */
  onProgress: ProgressFn | undefined;
  /** Erase the line (before results are printed, and at exit). */
  clear(): void;
}

let active: (() => void) | null = null;
/** Erase whatever progress line is shown, before an error line is printed. */
export const clearProgress = (): void => active?.();

export function progressLine(quiet: unknown, stream: NodeJS.WriteStream = process.stderr): ProgressLine {
  if (quiet || !stream.isTTY) return { onProgress: undefined, clear: () => {} };
  const color = !process.env.NO_COLOR;
  const start = Date.now();
  let shown = false;
  const clear = () => { if (shown) { stream.write("\r\x1b[2K"); shown = false; } };
  process.once("exit", clear);
  active = clear;
  return {
    clear,
    onProgress: (p: Progress) => {
      const text = `onnx-reparam: ${p.message}  ${((Date.now() - start) / 1000).toFixed(1)} s`;
      const width = Math.max(20, (stream.columns || 80) - 1);
      const line = text.length > width ? `${text.slice(0, width - 1)}…` : text;
      stream.write(`\r\x1b[2K${color ? `\x1b[2m${line}\x1b[22m` : line}`);
      shown = true;
    },
  };
}
