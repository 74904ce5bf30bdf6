#!/usr/bin/env node
import { performance } from "node:perf_hooks";

import sharp from "sharp";

import { parseRunnerArgs, usage } from "./args.js";
import { describeError, RejectionError, RunnerError } from "./errors.js";
import { writeLogLine, type RunReport } from "./log.js";
import { readCgroupMemoryLimit } from "./memory.js";
import { removePendingTemporaryFilesSync } from "./output.js";
import { runnerErrorReason } from "./reasons.js";
import { runThumbnailer } from "./run.js";
import { writeTerminationMessage } from "./termination.js";

const exitSucceeded = 0;
const exitFailed = 1;
const exitRejected = 2;

async function main(): Promise<number> {
  const startedMs = performance.now();
  const elapsedMs = () => Math.round(performance.now() - startedMs);
  const report: RunReport = {};

  // One job per pod: no cache to reuse across images, and one libvips worker thread.
  sharp.cache(false);
  sharp.concurrency(1);

  process.once("SIGTERM", () => {
    removePendingTemporaryFilesSync();
    const message =
      "The runner was stopped by SIGTERM before it wrote the thumbnail; the Job retries it unless its deadline has passed.";
    const terminationMessageError = writeTerminationMessage({ reason: runnerErrorReason, message });
    writeLogLine({
      level: "error",
      msg: "runner stopped by signal",
      reason: runnerErrorReason,
      durationMs: elapsedMs(),
      ...report,
      ...(terminationMessageError && { terminationMessageError }),
    });
    process.exit(exitFailed);
  });

  try {
    const parsed = parseRunnerArgs(process.argv.slice(2));
    if (parsed.help) {
      process.stdout.write(usage);
      return exitSucceeded;
    }

    const memoryLimitBytes = parsed.options.memoryLimitBytes ?? (await readCgroupMemoryLimit());
    await runThumbnailer(parsed.options, {
      memoryLimitBytes,
      processBytes: () => process.memoryUsage().rss,
      nowMs: () => performance.now(),
      report,
    });
    writeLogLine({ level: "info", msg: "thumbnail written", durationMs: elapsedMs(), ...report });
    return exitSucceeded;
  } catch (error) {
    return reportFailure(error, report, elapsedMs());
  }
}

/** Writes the termination message and the log line for a failed run, and returns the exit code. */
function reportFailure(error: unknown, report: RunReport, durationMs: number): number {
  if (error instanceof RejectionError) {
    const terminationMessageError = writeTerminationMessage({
      reason: error.reason,
      message: error.message,
    });
    writeLogLine({
      level: "warn",
      msg: error.reason === "InvalidArguments" ? "arguments rejected" : "input rejected",
      reason: error.reason,
      durationMs,
      ...report,
      ...(error.detail !== undefined && { detail: describeError(error.detail) }),
      ...(terminationMessageError && { terminationMessageError }),
    });
    return exitRejected;
  }

  const message =
    error instanceof RunnerError
      ? error.message
      : "The runner failed unexpectedly; the Job retries it, and the runner pod's log has the error.";
  const cause = error instanceof RunnerError && error.cause !== undefined ? error.cause : error;
  const terminationMessageError = writeTerminationMessage({ reason: runnerErrorReason, message });
  writeLogLine({
    level: "error",
    msg: "runner failed",
    reason: runnerErrorReason,
    durationMs,
    ...report,
    detail: describeError(cause),
    ...(terminationMessageError && { terminationMessageError }),
  });
  return exitFailed;
}

process.exitCode = await main();
