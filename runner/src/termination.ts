import { writeFileSync } from "node:fs";

import { describeError } from "./errors.js";
import type { TerminationReason } from "./reasons.js";

export const defaultTerminationMessagePath = "/dev/termination-log";

export interface TerminationMessage {
  reason: TerminationReason;
  message: string;
}

/**
 * Writes the termination message that Kubernetes copies into the pod status,
 * as one JSON object. Returns the write error, if any, for the log line: the
 * exit code must not depend on whether this file is writable.
 */
export function writeTerminationMessage(
  termination: TerminationMessage,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const filePath = env.TERMINATION_MESSAGE_PATH || defaultTerminationMessagePath;
  try {
    writeFileSync(
      filePath,
      JSON.stringify({ reason: termination.reason, message: termination.message }),
    );
    return undefined;
  } catch (error) {
    return describeError(error);
  }
}
