/**
 * Runner versus bare sharp: the runner's work in-process (runThumbnailer,
 * the function the bin calls after parsing its arguments) against the
 * plainest sharp pipeline that writes the same bytes, on the same images,
 * in interleaved runs. Also times the runner's process start, reads the
 * bin's peak memory per image from its log line, and times Debian's
 * vipsthumbnail on the same files as an outside reference.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";

import sharp from "sharp";

import { defaultMaxFrames, defaultMaxPixels, type RunnerOptions } from "../runner/src/args.js";
import { inspectImage } from "../runner/src/inspect.js";
import { checkLimits } from "../runner/src/limits.js";
import { writeFilesAtomically } from "../runner/src/output.js";
import { runThumbnailer } from "../runner/src/run.js";
import { renderThumbnail } from "../runner/src/thumbnail.js";
import { writeRunnerImages, type BenchImage } from "./images.js";
import {
  loadSnapshot,
  machineInfo,
  measureFsyncMs,
  progress,
  repoRoot,
  writeResults,
} from "./lib/machine.js";
import { findExecutable, runCommand } from "./lib/processes.js";
import {
  formatMebibytes,
  formatNumber,
  formatRatio,
  markdownTable,
  summarize,
  verdict,
  type Summary,
} from "./lib/stats.js";

// At least minRuns measured pairs per image, and more up to maxRuns while the image's pairs
// have taken under pairBudgetMs, so that fast images get more samples on a noisy machine.
const minRuns = Number(process.env.BENCH_RUNS ?? 9);
const maxRuns = Math.max(minRuns, 31);
const pairBudgetMs = 8000;
const warmupRuns = 2;
const startRuns = 10;
const phaseRuns = 9;
const binRuns = 3;
const vipsRuns = 7;
const targetRatio = 1.3;
const thumbnailSize = 100;
// The chart's default runner memory limit; it only feeds the runner's TooLarge check here.
const memoryLimitBytes = 512 * 2 ** 20;
const runnerBin = path.join(repoRoot, "runner", "dist", "main.js");
const transparent = { r: 0, g: 0, b: 0, alpha: 0 };

interface ImageResult {
  image: Omit<BenchImage, "path">;
  identicalOutput: boolean;
  outputBytes: number;
  runnerMs: number[];
  bareMs: number[];
  runner: Summary;
  bare: Summary;
  /** Median runner time over median bare time. */
  ratio: number;
  /** Runner over bare of each interleaved pair. */
  pairRatio: Summary;
  phases: Record<Phase, Summary>;
  /** Bare sharp timed in alternation with the phase runs. */
  phasesBare: Summary;
  bin: { wallMs: Summary; maxRssBytes: Summary };
  vipsthumbnail: { wallMs: Summary; maxRssBytes: Summary | null } | null;
}

const phases = ["read", "inspect", "checkLimits", "render", "write"] as const;
type Phase = (typeof phases)[number];

function outputExtension(image: BenchImage): string {
  return image.animated ? "gif" : "png";
}

/** Runs the runner's whole job in this process: read, inspect, check limits, render, write atomically. */
async function runnerWork(image: BenchImage, folder: string): Promise<void> {
  const options: RunnerOptions = {
    inputPath: image.path,
    outputPath: path.join(folder, `runner-${image.name}.${outputExtension(image)}`),
    resultPath: path.join(folder, `runner-${image.name}.json`),
    size: thumbnailSize,
    fit: "contain",
    maxPixels: defaultMaxPixels,
    maxFrames: defaultMaxFrames,
    memoryLimitBytes,
  };
  await runThumbnailer(options, {
    memoryLimitBytes,
    processBytes: () => process.memoryUsage().rss,
    nowMs: () => performance.now(),
    report: {},
  });
}

/**
 * Runs the plainest sharp pipeline that writes the same bytes as the runner:
 * the same resize and encoder options, but no header check, no limits, no
 * result document and no fsync.
 */
async function bareWork(image: BenchImage, folder: string): Promise<void> {
  const pipeline = sharp(image.path, { animated: image.animated }).resize(
    thumbnailSize,
    thumbnailSize,
    { fit: "contain", background: transparent },
  );
  if (image.animated) pipeline.gif({ keepDuplicateFrames: true });
  else pipeline.png({ compressionLevel: 9 });
  await pipeline.toFile(path.join(folder, `bare-${image.name}.${outputExtension(image)}`));
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

async function compareOutputs(
  image: BenchImage,
  folder: string,
): Promise<{ identical: boolean; bytes: number }> {
  const extension = outputExtension(image);
  const fromRunner = await readFile(path.join(folder, `runner-${image.name}.${extension}`));
  const fromBare = await readFile(path.join(folder, `bare-${image.name}.${extension}`));
  return { identical: fromRunner.equals(fromBare), bytes: fromRunner.length };
}

/** Times runner and bare sharp in alternation (A B A B ...) so that both see the same noise. */
async function measureInterleaved(image: BenchImage, folder: string) {
  for (let run = 0; run < warmupRuns; run++) {
    await runnerWork(image, folder);
    await bareWork(image, folder);
  }
  const runnerMs: number[] = [];
  const bareMs: number[] = [];
  let spentMs = 0;
  for (let run = 0; run < maxRuns && (run < minRuns || spentMs < pairBudgetMs); run++) {
    runnerMs.push(await timed(() => runnerWork(image, folder)));
    bareMs.push(await timed(() => bareWork(image, folder)));
    spentMs += runnerMs[run]! + bareMs[run]!;
  }
  return { runnerMs, bareMs };
}

/**
 * Times each step of the runner's work on its own, to show where the time
 * over bare sharp goes. NOTE: this repeats the steps of runThumbnailer in
 * runner/src/run.ts as they are today; update it when that function changes.
 */
async function measurePhases(
  image: BenchImage,
  folder: string,
): Promise<{ phases: Record<Phase, Summary>; bare: Summary }> {
  const samples: Record<Phase, number[]> = {
    read: [],
    inspect: [],
    checkLimits: [],
    render: [],
    write: [],
  };
  const bareMs: number[] = [];
  const options = { size: thumbnailSize, fit: "contain", maxPixels: defaultMaxPixels } as const;
  for (let run = 0; run < phaseRuns; run++) {
    let started = performance.now();
    const lap = (phase: Phase): void => {
      const now = performance.now();
      samples[phase].push(now - started);
      started = now;
    };
    const input = await readFile(image.path);
    lap("read");
    const inspected = await inspectImage(input);
    lap("inspect");
    checkLimits(
      inspected,
      { ...options, maxFrames: defaultMaxFrames, memoryLimitBytes },
      process.memoryUsage().rss,
    );
    lap("checkLimits");
    const thumbnail = await renderThumbnail(input, inspected, options);
    lap("render");
    await writeFilesAtomically([
      { path: path.join(folder, `phases-${image.name}`), data: thumbnail.data },
      { path: path.join(folder, `phases-${image.name}.json`), data: "{}\n" },
    ]);
    lap("write");
    bareMs.push(await timed(() => bareWork(image, folder)));
  }
  const phaseSummaries = Object.fromEntries(
    phases.map((phase) => [phase, summarize(samples[phase])]),
  ) as Record<Phase, Summary>;
  return { phases: phaseSummaries, bare: summarize(bareMs) };
}

/** Median wall time of starting Node.js with nothing to do, and of `runner --help`. */
async function measureProcessStart() {
  const nodeMs: number[] = [];
  const helpMs: number[] = [];
  for (let run = 0; run < startRuns + 1; run++) {
    const node = await runCommand(process.execPath, ["-e", ""]);
    const help = await runCommand(process.execPath, [runnerBin, "--help"]);
    if (help.exitCode !== 0)
      throw new Error(`runner --help exited with ${help.exitCode}: ${help.stderr}`);
    // The first pair warms the page cache.
    if (run === 0) continue;
    nodeMs.push(node.wallMs);
    helpMs.push(help.wallMs);
  }
  return { nodeMs, helpMs, node: summarize(nodeMs), runnerHelp: summarize(helpMs) };
}

/** Runs the real bin as the pod does and reads maxRssBytes from its JSON log line. */
async function measureBin(image: BenchImage, folder: string) {
  const wallMs: number[] = [];
  const maxRssBytes: number[] = [];
  for (let run = 0; run < binRuns; run++) {
    const result = await runCommand(
      process.execPath,
      [
        runnerBin,
        `--input=${image.path}`,
        `--output=${path.join(folder, `bin-${image.name}.${outputExtension(image)}`)}`,
        `--result=${path.join(folder, `bin-${image.name}.json`)}`,
        `--memory-limit=${memoryLimitBytes}`,
      ],
      { PATH: process.env.PATH, TERMINATION_MESSAGE_PATH: path.join(folder, "termination-log") },
    );
    if (result.exitCode !== 0) {
      throw new Error(`the runner bin failed on ${image.name}: ${result.stdout}${result.stderr}`);
    }
    const logLine = JSON.parse(result.stdout.trim().split("\n").pop() ?? "{}") as {
      maxRssBytes?: number;
    };
    if (typeof logLine.maxRssBytes !== "number") {
      throw new Error(`the runner's log line has no maxRssBytes: ${result.stdout}`);
    }
    wallMs.push(result.wallMs);
    maxRssBytes.push(logLine.maxRssBytes);
  }
  return { wallMs: summarize(wallMs), maxRssBytes: summarize(maxRssBytes) };
}

/**
 * Times vipsthumbnail on the same file, process start included, as a
 * reference for the cost of a libvips thumbnail. Its output differs from the
 * runner's because it fits the image inside 100x100 without padding.
 */
async function measureVipsthumbnail(image: BenchImage, folder: string, vipsthumbnail: string) {
  // GNU time reports the peak RSS; Debian's package "time" installs it.
  const timeCommand = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;
  const input = image.animated ? `${image.path}[n=-1]` : image.path;
  const output = path.join(folder, `vips-%s.${outputExtension(image)}`);
  const vipsArgs = [input, "--size", `${thumbnailSize}x${thumbnailSize}`, "-o", output];
  const wallMs: number[] = [];
  const maxRssBytes: number[] = [];
  for (let run = 0; run < vipsRuns + 1; run++) {
    const result = timeCommand
      ? await runCommand(timeCommand, ["-f", "BENCH_MAX_RSS_KB %M", vipsthumbnail, ...vipsArgs])
      : await runCommand(vipsthumbnail, vipsArgs);
    if (result.exitCode !== 0) {
      throw new Error(`vipsthumbnail failed on ${image.name}: ${result.stderr}`);
    }
    if (run === 0) continue;
    wallMs.push(result.wallMs);
    const match = /BENCH_MAX_RSS_KB (\d+)/.exec(result.stderr);
    if (match) maxRssBytes.push(Number(match[1]) * 1024);
  }
  return {
    wallMs: summarize(wallMs),
    maxRssBytes: maxRssBytes.length > 0 ? summarize(maxRssBytes) : null,
  };
}

function range(summary: Summary): string {
  return `${formatNumber(summary.min)}–${formatNumber(summary.max)}`;
}

async function main(): Promise<void> {
  const loadAtStart = loadSnapshot();
  progress(`runner benchmark; ${loadAtStart.uptime}`);
  const folder = await mkdtemp(path.join(os.tmpdir(), "thumbnailer-bench-runner-"));
  const outputs = path.join(folder, "out");
  await mkdir(outputs);

  try {
    progress("generating the images");
    const images = await writeRunnerImages(folder);

    // The same libvips settings as the runner's main: no operation cache, one worker thread.
    sharp.cache(false);
    sharp.concurrency(1);

    const vipsthumbnail = findExecutable("vipsthumbnail");
    let vipsVersion: string | null = null;
    if (vipsthumbnail === undefined) {
      progress(
        "vipsthumbnail is missing, so the outside reference is skipped; install it with `apt-get install libvips-tools` (Debian).",
      );
    } else {
      vipsVersion = (await runCommand(vipsthumbnail, ["--vips-version"])).stdout.trim();
    }

    const results: ImageResult[] = [];
    for (const image of images) {
      progress(`${image.name}: ${warmupRuns} warm-up and ${minRuns} to ${maxRuns} measured pairs`);
      const { runnerMs, bareMs } = await measureInterleaved(image, outputs);
      const output = await compareOutputs(image, outputs);
      const runner = summarize(runnerMs);
      const bare = summarize(bareMs);
      const phaseTimes = await measurePhases(image, outputs);

      progress(`${image.name}: the runner bin, ${binRuns} runs`);
      const bin = await measureBin(image, outputs);
      let vips: ImageResult["vipsthumbnail"] = null;
      if (vipsthumbnail !== undefined) {
        progress(`${image.name}: vipsthumbnail, ${vipsRuns} runs`);
        vips = await measureVipsthumbnail(image, outputs, vipsthumbnail);
      }
      const { path: _path, ...imageFacts } = image;
      results.push({
        image: imageFacts,
        identicalOutput: output.identical,
        outputBytes: output.bytes,
        runnerMs,
        bareMs,
        runner,
        bare,
        ratio: runner.median / bare.median,
        pairRatio: summarize(runnerMs.map((ms, index) => ms / bareMs[index]!)),
        phases: phaseTimes.phases,
        phasesBare: phaseTimes.bare,
        bin,
        vipsthumbnail: vips,
      });
    }

    progress(`process start, ${startRuns} runs`);
    const start = await measureProcessStart();
    const fsync = await measureFsyncMs(outputs);
    const loadAtEnd = loadSnapshot();

    const workTable = markdownTable(
      [
        "image",
        "input",
        "pairs",
        "runner ms, median (min–max)",
        "bare sharp ms, median (min–max)",
        "runner / bare",
        `target ≤ ${targetRatio}x`,
        "same bytes",
      ],
      results.map((result) => [
        result.image.name,
        `${result.image.description}, ${formatMebibytes(result.image.bytes)}`,
        String(result.runner.count),
        `${formatNumber(result.runner.median)} (${range(result.runner)})`,
        `${formatNumber(result.bare.median)} (${range(result.bare)})`,
        formatRatio(result.ratio),
        verdict(result.ratio, targetRatio),
        result.identicalOutput ? "yes" : "NO",
      ]),
    );
    const phaseTable = markdownTable(
      ["image", ...phases.map((phase) => `${phase} ms`), "bare sharp ms"],
      results.map((result) => [
        result.image.name,
        ...phases.map((phase) => formatNumber(result.phases[phase].median)),
        formatNumber(result.phasesBare.median),
      ]),
    );
    const binTable = markdownTable(
      [
        "image",
        "runner bin wall ms (median)",
        "runner bin peak RSS (median)",
        `vipsthumbnail ${vipsVersion ?? "(missing)"} wall ms (median)`,
        "vipsthumbnail peak RSS (median)",
      ],
      results.map((result) => [
        result.image.name,
        formatNumber(result.bin.wallMs.median),
        formatMebibytes(result.bin.maxRssBytes.median),
        result.vipsthumbnail ? formatNumber(result.vipsthumbnail.wallMs.median) : "n/a",
        result.vipsthumbnail?.maxRssBytes
          ? formatMebibytes(result.vipsthumbnail.maxRssBytes.median)
          : "n/a",
      ]),
    );
    const startTable = markdownTable(
      ["process", "wall ms, median (min–max)"],
      [
        ["node -e ''", `${formatNumber(start.node.median)} (${range(start.node)})`],
        [
          "node runner/dist/main.js --help",
          `${formatNumber(start.runnerHelp.median)} (${range(start.runnerHelp)})`,
        ],
      ],
    );

    const file = await writeResults("runner", {
      benchmark: "runner versus bare sharp",
      machine: machineInfo(),
      load: { start: loadAtStart, end: loadAtEnd },
      fsyncMs: fsync,
      settings: {
        minRuns,
        maxRuns,
        pairBudgetMs,
        warmupRuns,
        thumbnailSize,
        sharpCache: false,
        sharpConcurrency: 1,
        memoryLimitBytes,
      },
      versions: {
        sharp: sharp.versions.sharp,
        libvips: sharp.versions.vips,
        vipsthumbnail: vipsVersion,
      },
      images: results,
      processStart: start,
    });

    console.log("\n### Runner versus bare sharp (interleaved pairs, after warm-up)\n");
    console.log(workTable);
    console.log(
      `\n### Where the runner's time goes (median of ${phaseRuns} runs, each followed by a bare sharp run; write includes three fsyncs)\n`,
    );
    console.log(phaseTable);
    console.log("\n### Runner bin, peak memory, and vipsthumbnail as an outside reference\n");
    console.log(binTable);
    console.log("\n### Process start\n");
    console.log(startTable);
    console.log(
      `\nfsync of a 100-byte file in the output folder: median ${formatNumber(fsync.median)} ms (${range(fsync)})`,
    );
    console.log(
      `sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}; load ${loadAtStart.loadAverage.map((l) => l.toFixed(2)).join(" ")} at start, ${loadAtEnd.loadAverage.map((l) => l.toFixed(2)).join(" ")} at end; raw numbers in ${path.relative(repoRoot, file)}`,
    );
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

await main();
