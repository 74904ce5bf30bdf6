/**
 * Reasons the runner writes to the termination-message file. The API reads
 * them back as `error.reason` and uses them as metric label values, so this
 * set is fixed: adding a reason is a change to the API contract.
 */

/** Reasons for exit code 2: the input or the arguments are rejected for good. */
export const rejectionReasons = [
  "EmptyInput",
  "UnsupportedFormat",
  "CorruptImage",
  "TooManyPixels",
  "TooManyFrames",
  "TooLarge",
  "InvalidArguments",
] as const;

export type RejectionReason = (typeof rejectionReasons)[number];

/** Reason for exit code 1: anything else; the Job retries the pod. */
export const runnerErrorReason = "RunnerError";

/** Every reason the runner can write, rejections first. */
export const terminationReasons = [...rejectionReasons, runnerErrorReason] as const;

export type TerminationReason = (typeof terminationReasons)[number];

export function isRejectionReason(value: unknown): value is RejectionReason {
  return typeof value === "string" && (rejectionReasons as readonly string[]).includes(value);
}
