import type { RejectionReason } from "./reasons.js";

/**
 * An input or argument that no retry can fix. Its message is the one sentence
 * written to the termination-message file, so it never contains a file name or
 * pixel data. `detail` carries library output for the log only.
 */
export class RejectionError extends Error {
  override readonly name = "RejectionError";
  readonly reason: RejectionReason;
  readonly detail: string | undefined;

  constructor(
    reason: RejectionReason,
    message: string,
    options: { cause?: unknown; detail?: string } = {},
  ) {
    super(message, { cause: options.cause });
    this.reason = reason;
    this.detail = options.detail;
  }
}

/**
 * A failure of the runner or its environment (volume, memory, signal), as
 * opposed to a bad input: the Job retries it. The message is written to the
 * termination-message file, so it names the step and the error code only.
 */
export class RunnerError extends Error {
  override readonly name = "RunnerError";

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
  }
}

/** Returns the first line of an error's message, cut to `maxLength` characters, for log fields. */
export function describeError(error: unknown, maxLength = 300): string {
  const text = error instanceof Error ? error.message : String(error);
  const firstLine = text.split("\n", 1)[0] ?? "";
  return firstLine.length > maxLength ? `${firstLine.slice(0, maxLength)}...` : firstLine;
}

/** Returns the Node.js system error code (`ENOENT`, `ENOSPC`...) of an error, if it has one. */
export function errorCode(error: unknown): string | undefined {
  if (error instanceof Error && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return undefined;
}
