import { readFile, stat } from "node:fs/promises";

import type { RunnerOptions } from "./args.js";
import { errorCode, RejectionError, RunnerError } from "./errors.js";
import type { SupportedFormat } from "./formats.js";
import { inspectImage } from "./inspect.js";
import { checkLimits } from "./limits.js";
import type { RunReport } from "./log.js";
import { formatMebibytes } from "./memory.js";
import { writeFilesAtomically } from "./output.js";
import { renderThumbnail, type ThumbnailContentType } from "./thumbnail.js";

/** The document written to `--result`, read by the API. */
export interface ThumbnailResult {
  contentType: ThumbnailContentType;
  width: number;
  height: number;
  bytes: number;
  frames: number;
  input: { format: SupportedFormat; width: number; height: number };
  durationMs: number;
}

export interface RunDependencies {
  /** Memory the process may use, in bytes; undefined for no limit. */
  memoryLimitBytes: number | undefined;
  /** Returns the memory the process uses now, in bytes. */
  processBytes: () => number;
  /** Returns a monotonic time in milliseconds. */
  nowMs: () => number;
  /** Filled in as the run learns about the input and output, for the log line. */
  report: RunReport;
}

/** Reads the input, checks it, renders the thumbnail and writes it with its result document. */
export async function runThumbnailer(
  options: RunnerOptions,
  deps: RunDependencies,
): Promise<ThumbnailResult> {
  const startedMs = deps.nowMs();

  const input = await readInput(options.inputPath, deps.memoryLimitBytes);
  deps.report.input = { bytes: input.length };

  const image = await inspectImage(input);
  deps.report.input = {
    format: image.format,
    width: image.width,
    height: image.height,
    frames: image.frames,
    bytes: input.length,
  };

  checkLimits(image, { ...options, memoryLimitBytes: deps.memoryLimitBytes }, deps.processBytes());

  const thumbnail = await renderThumbnail(input, image, options);
  const result: ThumbnailResult = {
    contentType: thumbnail.contentType,
    width: thumbnail.width,
    height: thumbnail.height,
    bytes: thumbnail.data.length,
    frames: thumbnail.frames,
    input: { format: image.format, width: image.width, height: image.height },
    durationMs: Math.round(deps.nowMs() - startedMs),
  };

  await writeFilesAtomically([
    { path: options.outputPath, data: thumbnail.data },
    // result.json goes last: the API treats its presence as the end of the run.
    { path: options.resultPath, data: `${JSON.stringify(result)}\n` },
  ]);
  deps.report.output = {
    contentType: result.contentType,
    width: result.width,
    height: result.height,
    frames: result.frames,
    bytes: result.bytes,
  };
  return result;
}

async function readInput(inputPath: string, memoryLimitBytes: number | undefined): Promise<Buffer> {
  let sizeBytes: number;
  try {
    const stats = await stat(inputPath);
    if (!stats.isFile()) {
      throw new RunnerError("The input path is not a regular file; check the runner Job template.");
    }
    sizeBytes = stats.size;
  } catch (error) {
    if (error instanceof RunnerError) throw error;
    throw readFailure(error);
  }

  // The whole file is held in memory, so a file near the memory limit cannot be decoded either.
  if (memoryLimitBytes !== undefined && sizeBytes > memoryLimitBytes / 2) {
    throw new RejectionError(
      "TooLarge",
      `The file is ${formatMebibytes(sizeBytes)}, too large for the runner's memory limit of ${formatMebibytes(memoryLimitBytes)}; upload a smaller file or ask the operator to raise the runner memory limit.`,
    );
  }

  try {
    return await readFile(inputPath);
  } catch (error) {
    throw readFailure(error);
  }
}

function readFailure(error: unknown): RunnerError {
  return new RunnerError(
    `Could not read the input file (${errorCode(error) ?? "unknown error"}); check that the job folder is mounted and readable.`,
    { cause: error },
  );
}
