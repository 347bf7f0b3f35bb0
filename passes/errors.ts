/** Exit codes are part of the CLI contract (README "Exit codes"). */
export const EXIT = { OK: 0, VALIDATION_FAILED: 1, USAGE: 2, NOTHING_TO_DO: 3 } as const;

/** An error the user caused or can fix: printed as one line, never with a stack. */
export class ReparamError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.USAGE) {
    super(message);
    this.name = "ReparamError";
  }
}

/** "1 class", "2 classes": a count in a message agrees with its noun. */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** The bytes are not a well-formed ONNX model. */
export class ModelFormatError extends ReparamError {
  constructor(readonly source: string, readonly detail: string) {
    super(`${source}: not a valid ONNX model: ${detail}`);
    this.name = "ModelFormatError";
  }
}
