import { execFileSync } from "node:child_process";
import { mkdir, open, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

import { summarize, type Summary } from "./stats.js";

export const benchDir = fileURLToPath(new URL("..", import.meta.url));
export const repoRoot = path.resolve(benchDir, "..");
export const resultsDir = path.join(benchDir, "results");

/** The machine's load at one moment: `uptime` and the 1, 5 and 15 minute load averages. */
export interface LoadSnapshot {
  time: string;
  uptime: string;
  loadAverage: number[];
}

export function loadSnapshot(): LoadSnapshot {
  let uptime: string;
  try {
    uptime = execFileSync("uptime", { encoding: "utf8" }).trim();
  } catch {
    uptime = "uptime not available";
  }
  return { time: new Date().toISOString(), uptime, loadAverage: os.loadavg() };
}

export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  memoryBytes: number;
  kernel: string;
  node: string;
}

export function machineInfo(): MachineInfo {
  return {
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    cpus: os.cpus().length,
    memoryBytes: os.totalmem(),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
  };
}

/**
 * Times writing and fsync-ing a 100-byte file in `folder`, which the API does
 * for every meta.json; a slow or busy disk shows here first.
 */
export async function measureFsyncMs(folder: string, runs = 20): Promise<Summary> {
  const probe = path.join(folder, "fsync-probe");
  const durations: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    const handle = await open(probe, "w");
    try {
      await handle.writeFile("x".repeat(100));
      await handle.sync();
    } finally {
      await handle.close();
    }
    durations.push(performance.now() - started);
  }
  await rm(probe, { force: true });
  return summarize(durations);
}

/**
 * Writes a result document to bench/results/<name>.json and returns its path.
 * A profiling run (BENCH_PROFILE_DIR set) writes it next to its profiles
 * instead, so that it leaves the results of a plain run alone.
 */
export async function writeResults(name: string, document: unknown): Promise<string> {
  const folder = process.env.BENCH_PROFILE_DIR ?? resultsDir;
  await mkdir(folder, { recursive: true });
  const file = path.join(folder, `${name}.json`);
  await writeFile(file, `${JSON.stringify(document, null, 2)}\n`);
  return file;
}

/** Prints a progress line on stderr, so that stdout keeps only the tables. */
export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
