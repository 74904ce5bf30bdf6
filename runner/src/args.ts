import { parseArgs } from "node:util";

import { RejectionError } from "./errors.js";

export const fits = ["contain", "cover", "fill"] as const;
export type Fit = (typeof fits)[number];

export const defaultSize = 100;
export const maxSize = 4096;
export const defaultMaxPixels = 100_000_000;
export const defaultMaxFrames = 500;

export interface RunnerOptions {
  inputPath: string;
  outputPath: string;
  resultPath: string;
  /** Width and height of the thumbnail, in pixels. */
  size: number;
  fit: Fit;
  /** Budget of decoded pixels: width x height, times the frame count for animations. */
  maxPixels: number;
  maxFrames: number;
  /** Memory the runner may use, in bytes; undefined means the cgroup limit, if any. */
  memoryLimitBytes: number | undefined;
}

export type ParsedArgs = { help: true } | { help: false; options: RunnerOptions };

export const usage = `Usage: thumbnailer-runner --input FILE --output FILE --result FILE [options]

Turns one image into a thumbnail and writes a JSON result next to it.

Options:
  --input FILE          image to read
  --output FILE         thumbnail to write (PNG, or GIF/WebP for animations)
  --result FILE         result JSON to write
  --size N              width and height of the thumbnail in pixels (default ${defaultSize}, max ${maxSize})
  --fit MODE            contain (default, transparent background), cover or fill
  --max-pixels N        most decoded pixels allowed; width x height x frames (default ${defaultMaxPixels})
  --max-frames N        most animation frames allowed (default ${defaultMaxFrames})
  --memory-limit BYTES  memory the runner may use (default: the cgroup memory limit)
  --help                print this help

Exit codes: 0 written, 2 input or arguments rejected for good, 1 any other failure.
The reason of a failure goes to TERMINATION_MESSAGE_PATH (default /dev/termination-log).
`;

/** Parses the command line; throws a RejectionError with reason InvalidArguments on any bad flag. */
export function parseRunnerArgs(argv: readonly string[]): ParsedArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        input: { type: "string" },
        output: { type: "string" },
        result: { type: "string" },
        size: { type: "string" },
        fit: { type: "string" },
        "max-pixels": { type: "string" },
        "max-frames": { type: "string" },
        "memory-limit": { type: "string" },
        help: { type: "boolean" },
      },
    }));
  } catch (error) {
    // Node's message starts with one sentence naming the option ("Unknown option '--x'").
    const firstSentence = error instanceof Error ? (error.message.split(". ", 1)[0] ?? "") : "";
    throw invalidArguments(firstSentence.replace(/\.$/, "").toLowerCase(), error);
  }

  if (values.help) {
    return { help: true };
  }

  const options: RunnerOptions = {
    inputPath: requirePath(values.input, "--input"),
    outputPath: requirePath(values.output, "--output"),
    resultPath: requirePath(values.result, "--result"),
    size: parseInteger(values.size, "--size", defaultSize, maxSize),
    fit: parseFit(values.fit),
    maxPixels: parseInteger(values["max-pixels"], "--max-pixels", defaultMaxPixels),
    maxFrames: parseInteger(values["max-frames"], "--max-frames", defaultMaxFrames),
    memoryLimitBytes: parseOptionalInteger(values["memory-limit"], "--memory-limit"),
  };

  if (options.outputPath === options.resultPath) {
    throw invalidArguments("--output and --result name the same file");
  }
  if (options.inputPath === options.outputPath || options.inputPath === options.resultPath) {
    throw invalidArguments("--output and --result must differ from --input");
  }
  return { help: false, options };
}

function requirePath(value: string | undefined, flag: string): string {
  if (value === undefined || value === "") {
    throw invalidArguments(`${flag} is missing`);
  }
  return value;
}

function parseInteger(
  value: string | undefined,
  flag: string,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  return parseOptionalInteger(value, flag, max) ?? fallback;
}

function parseOptionalInteger(
  value: string | undefined,
  flag: string,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const parsed = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < 1 || parsed > max) {
    throw invalidArguments(`${flag} must be a whole number from 1 to ${max}, got ${quote(value)}`);
  }
  return parsed;
}

function parseFit(value: string | undefined): Fit {
  if (value === undefined) {
    return "contain";
  }
  if (!(fits as readonly string[]).includes(value)) {
    throw invalidArguments(`--fit must be one of ${fits.join(", ")}, got ${quote(value)}`);
  }
  return value as Fit;
}

/** Quotes a flag value for a message, cut to 40 printable characters because the API passes --fit from the upload. */
function quote(value: string): string {
  const printable = value.replace(/[^\x20-\x7e]/g, "?");
  return JSON.stringify(printable.length > 40 ? `${printable.slice(0, 40)}...` : printable);
}

function invalidArguments(problem: string, cause?: unknown): RejectionError {
  return new RejectionError(
    "InvalidArguments",
    `The runner arguments are invalid (${problem}); fix the runner Job template, and see thumbnailer-runner --help for the usage.`,
    { cause },
  );
}
