/**
 * Runs the built runner exactly as the pod does (`node runner/dist/main.js
 * ...`) in a fresh folder, and reads back what it left there.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

import { expect } from "chai";
import sharp from "sharp";

import { makeTempDir, writeFixture, type Rgb, type Rgba } from "./fixtures.js";

export const runnerBin = path.resolve(import.meta.dirname, "../dist/main.js");

/** Fails with a clear message when the runner has not been built. */
export function requireBuiltRunner(): void {
  if (!existsSync(runnerBin)) {
    throw new Error(`${runnerBin} is missing; run \`npm run build\` first (npm test does).`);
  }
}

export interface RunnerRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  folder: string;
  inputPath: string;
  outputPath: string;
  resultPath: string;
  terminationPath: string;
  /** Files left in the folder after the run, sorted. */
  files: string[];
  /** Parsed termination message, or undefined when the file was not written. */
  termination: { reason: string; message: string } | undefined;
  /** Parsed stdout lines. */
  logLines: Record<string, unknown>[];
}

export interface RunOptions {
  /** Extra flags after --input, --output and --result. */
  args?: readonly string[];
  /** Name of the input file in the run folder (default `original`, as in the pod). */
  inputName?: string;
  /** Input path to pass instead of a written file, e.g. one that does not exist. */
  inputPath?: string;
  resultPath?: string;
  env?: NodeJS.ProcessEnv;
}

/** Writes `input` to a new folder, runs the built runner on it, and collects what it left. */
export async function runRunner(
  input: Buffer | string,
  options: RunOptions = {},
): Promise<RunnerRun> {
  const folder = await makeTempDir("thumbnailer-runner-test-");
  const inputPath =
    options.inputPath ?? (await writeFixture(folder, options.inputName ?? "original", input));
  const outputPath = path.join(folder, "thumbnail");
  const resultPath = options.resultPath ?? path.join(folder, "result.json");
  const terminationPath = path.join(folder, "termination-log");

  const args = [
    runnerBin,
    "--input",
    inputPath,
    "--output",
    outputPath,
    "--result",
    resultPath,
    ...(options.args ?? []),
  ];
  const env = { ...process.env, TERMINATION_MESSAGE_PATH: terminationPath, ...options.env };
  const { exitCode, stdout, stderr } = await execNode(args, env);

  let termination: RunnerRun["termination"];
  if (existsSync(terminationPath)) {
    termination = JSON.parse(await readFile(terminationPath, "utf8")) as RunnerRun["termination"];
  }
  const logLines = stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const files = (await readdir(folder)).sort();
  return {
    exitCode,
    stdout,
    stderr,
    folder,
    inputPath,
    outputPath,
    resultPath,
    terminationPath,
    files,
    termination,
    logLines,
  };
}

/** Runs the runner with exactly these arguments (no --input/--output/--result added). */
export async function runRunnerWithArgs(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ exitCode: number; stdout: string; termination: RunnerRun["termination"] }> {
  const folder = await makeTempDir("thumbnailer-runner-args-");
  const terminationPath = path.join(folder, "termination-log");
  const result = await execNode([runnerBin, ...args], {
    ...process.env,
    TERMINATION_MESSAGE_PATH: terminationPath,
    ...env,
  });
  const termination = existsSync(terminationPath)
    ? (JSON.parse(await readFile(terminationPath, "utf8")) as RunnerRun["termination"])
    : undefined;
  return { exitCode: result.exitCode, stdout: result.stdout, termination };
}

function execNode(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      args,
      { env, timeout: 30_000, maxBuffer: 4 * 2 ** 20 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          reject(error);
          return;
        }
        resolve({ exitCode: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
  });
}

/** Asserts a successful run: exit 0, thumbnail and result written, no temporary file left. */
export function expectSucceeded(run: RunnerRun): void {
  expect(run.exitCode, `exit code; stdout: ${run.stdout} stderr: ${run.stderr}`).to.equal(0);
  expect(run.files).to.include.members(["thumbnail", "result.json"]);
  expect(run.files.filter((name) => name.endsWith(".tmp"))).to.deep.equal([]);
  expect(run.termination).to.equal(undefined);
}

/** Asserts a rejected run: exit 2, the reason in the termination message, nothing but the input left. */
export function expectRejected(run: RunnerRun, reason: string): void {
  expect(run.exitCode, `exit code; stdout: ${run.stdout} stderr: ${run.stderr}`).to.equal(2);
  expect(run.termination?.reason).to.equal(reason);
  expect(Object.keys(run.termination ?? {}).sort()).to.deep.equal(["message", "reason"]);
  expectOneSentence(run.termination?.message ?? "");
  expect(run.files).to.deep.equal([path.basename(run.inputPath), "termination-log"].sort());
  expect(run.logLines).to.have.length(1);
  expect(run.logLines[0]).to.include({ level: "warn", service: "runner", reason });
}

/** Asserts that a termination message is one sentence on one line. */
export function expectOneSentence(message: string): void {
  expect(message).to.match(/^[A-Z][^\n]*\.$/);
  expect(message, "one sentence").not.to.match(/\.\s+[A-Z]/);
  expect(message.length).to.be.below(400);
}

export interface Pixels {
  width: number;
  height: number;
  at(x: number, y: number): Rgba;
}

/** Decodes an image to RGBA. For an animation, all frames are stacked top to bottom. */
export async function readPixels(
  image: Buffer | string,
  options: { animated?: boolean } = {},
): Promise<Pixels> {
  const { data, info } = await sharp(image, { animated: options.animated ?? false })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    at(x, y) {
      const offset = (y * info.width + x) * 4;
      return [
        data[offset] ?? -1,
        data[offset + 1] ?? -1,
        data[offset + 2] ?? -1,
        data[offset + 3] ?? -1,
      ];
    },
  };
}

/** Asserts an opaque pixel of the expected colour, each channel within `tolerance`. */
export function expectColour(actual: Rgba, expected: Rgb, tolerance: number, where: string): void {
  const message = `${where}: got rgba(${actual.join(", ")}), expected rgb(${expected.join(", ")}) within ${tolerance}`;
  expect(actual[3], message).to.equal(255);
  for (let channel = 0; channel < 3; channel++) {
    expect(Math.abs((actual[channel] ?? 0) - (expected[channel] ?? 0)), message).to.be.at.most(
      tolerance,
    );
  }
}

/** Asserts a fully transparent pixel. */
export function expectTransparent(actual: Rgba, where: string): void {
  expect(actual[3], `${where}: alpha of rgba(${actual.join(", ")})`).to.equal(0);
}

/** Returns the chunk types of a PNG file, in order. */
export function pngChunkTypes(png: Buffer): string[] {
  const types: string[] = [];
  let offset = 8;
  while (offset + 8 <= png.length) {
    const length = png.readUInt32BE(offset);
    types.push(png.toString("latin1", offset + 4, offset + 8));
    offset += 12 + length;
  }
  return types;
}

/** Returns the content type that an image's leading bytes show. */
export function contentTypeOf(bytes: Buffer): string | undefined {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return "image/png";
  if (bytes.toString("latin1", 0, 6) === "GIF89a" || bytes.toString("latin1", 0, 6) === "GIF87a")
    return "image/gif";
  if (bytes.toString("latin1", 0, 4) === "RIFF" && bytes.toString("latin1", 8, 12) === "WEBP")
    return "image/webp";
  return undefined;
}
