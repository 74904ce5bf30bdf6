/**
 * Upload intake: concurrent multipart uploads to the API against a bare
 * node:http server that streams the same bodies to disk and responds 202, in
 * alternating rounds. The API is the built api/dist/main.js as it runs in its
 * pod, with KUBECONFIG pointing at FakeKube in a third process, which creates
 * each Job at once. Then the API's peak memory while 50 uploads of 1 MiB,
 * and then of 20 MiB, arrive at once. Every request goes to 127.0.0.1.
 */
import { open, mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { noisePng } from "./images.js";
import { multipartBody, runLoad, type LoadResult } from "./lib/http-load.js";
import {
  loadSnapshot,
  machineInfo,
  measureFsyncMs,
  progress,
  repoRoot,
  writeResults,
} from "./lib/machine.js";
import {
  freePort,
  readProcessCpuMs,
  readProcessMemory,
  resetPeakMemory,
  startHttpServer,
  startIpcServer,
  type ChildServer,
} from "./lib/processes.js";
import {
  formatMebibytes,
  formatNumber,
  formatRatio,
  markdownTable,
  summarize,
  verdict,
  type Summary,
} from "./lib/stats.js";

const apiMain = path.join(repoRoot, "api", "dist", "main.js");
const runnerJobTemplate = path.join(repoRoot, "api", "test", "fixtures", "runner-job.yaml");
const bareScript = fileURLToPath(new URL("./servers/bare-server.ts", import.meta.url));
const fakeKubeScript = fileURLToPath(new URL("./servers/fake-kube-server.ts", import.meta.url));
const KiB = 1024;
const MiB = 1024 * 1024;
const maxUploadBytes = 25 * MiB;

const concurrency = 10;
const warmupRequests = 20;
const rounds = 4;
const requestsPerRound = Number(process.env.BENCH_UPLOADS_PER_ROUND ?? 50);
const memoryUploads = 50;

// BENCH_UPLOAD_SIZES (e.g. "100 KiB") and BENCH_SKIP_MEMORY=1 narrow a run down for profiling.
const sizes = [
  { name: "100 KiB", bytes: 100 * KiB, targetRatio: 3 },
  { name: "5 MiB", bytes: 5 * MiB, targetRatio: 1.5 },
].filter((size) => (process.env.BENCH_UPLOAD_SIZES ?? size.name).split(",").includes(size.name));
const skipMemory = process.env.BENCH_SKIP_MEMORY === "1";
const memorySizes = [
  { name: "1 MiB", bytes: 1 * MiB },
  { name: "20 MiB", bytes: 20 * MiB },
] as const;
// Peak RSS at 20 MiB over peak RSS at 1 MiB that still counts as flat, while the bytes in flight grow 20x.
const flatMemoryRatio = 1.25;

type ServerName = "api" | "bare";
const serverNames: readonly ServerName[] = ["api", "bare"];

interface Upload {
  body: Buffer;
  headers: Record<string, string>;
  fileBytes: number;
}

async function makeUpload(bytes: number, seed: number): Promise<Upload> {
  const file = await noisePng(bytes, seed);
  const { body, headers } = multipartBody(file, "bench.png", "image/png");
  return { body, headers, fileBytes: file.length };
}

type Server = ChildServer<{ port: number }> & { stub?: ChildServer<{ type: string }> };

/**
 * Starts the API (with its own FakeKube) or the bare server in a child
 * process, with stdout appended to `logFile`.
 */
async function startServer(name: ServerName, dataDir: string, logFile: string): Promise<Server> {
  await mkdir(dataDir, { recursive: true });
  const log = await open(logFile, "a");
  try {
    if (name === "bare") {
      const bare = await startIpcServer<{ type: string; port: number }>(bareScript, [dataDir], {
        stdout: log.fd,
        profileName: `upload-bare-${path.basename(dataDir)}`,
      });
      return { ...bare, ready: { port: bare.ready.port } };
    }

    const kubeconfig = path.join(path.dirname(logFile), `kubeconfig-${path.basename(dataDir)}`);
    const stub = await startIpcServer<{ type: string }>(fakeKubeScript, [kubeconfig], {
      nodeArgs: ["--import", "tsx"],
    });
    try {
      const port = await freePort();
      const api = await startHttpServer(apiMain, port, "/readyz", {
        stdout: log.fd,
        profileName: `upload-api-${path.basename(dataDir)}`,
        env: {
          PATH: process.env.PATH,
          KUBECONFIG: kubeconfig,
          PORT: String(port),
          DATA_DIR: dataDir,
          NAMESPACE: "thumbnails",
          RUNNER_JOB_TEMPLATE: runnerJobTemplate,
          POD_NAME: "bench-api",
          MAX_UPLOAD_BYTES: String(maxUploadBytes),
          MAX_RUNNING_JOBS: "0",
          LOG_LEVEL: "info",
          SHUTDOWN_GRACE_SECONDS: "5",
        },
      });
      return {
        ...api,
        stub,
        async stop() {
          await api.stop();
          await stub.stop();
        },
      };
    } catch (err) {
      await stub.stop();
      throw err;
    }
  } finally {
    await log.close();
  }
}

/** Empties <dataDir>/jobs between rounds, so that the disk's write-back load stays alike for both servers. */
async function clearJobs(dataDir: string): Promise<void> {
  const jobsDir = path.join(dataDir, "jobs");
  let entries: string[];
  try {
    entries = await readdir(jobsDir);
  } catch {
    return;
  }
  await Promise.all(
    entries.map((entry) => rm(path.join(jobsDir, entry), { recursive: true, force: true })),
  );
}

function uploadLoad(
  port: number,
  upload: Upload,
  count: number,
  inFlight: number,
): Promise<LoadResult> {
  return runLoad({
    baseUrl: `http://127.0.0.1:${port}`,
    method: "POST",
    path: () => "/v1/jobs",
    headers: upload.headers,
    body: upload.body,
    count,
    concurrency: inFlight,
    expectedStatus: 202,
  });
}

interface IntakeResult {
  requests: number;
  unexpected: number;
  statusCounts: Record<string, number>;
  firstUnexpectedBody: string | undefined;
  wallMs: number;
  requestsPerSecond: number;
  mebibytesPerSecond: number;
  latencyMs: Summary;
  latenciesMs: number[];
  /** CPU time of the server process per upload, user plus system. */
  cpuMsPerUpload: number;
  /** CPU time of the FakeKube process per upload; null for the bare server. */
  stubCpuMsPerUpload: number | null;
}

interface Round {
  load: LoadResult;
  cpuMs: number;
  stubCpuMs: number | null;
}

function mergeRounds(rounds: Round[]): IntakeResult {
  const results = rounds.map((round) => round.load);
  const latenciesMs = results.flatMap((result) => result.latenciesMs);
  const wallMs = results.reduce((sum, result) => sum + result.wallMs, 0);
  const requestBytes = results.reduce((sum, result) => sum + result.requestBytes, 0);
  const statusCounts: Record<string, number> = {};
  for (const result of results) {
    for (const [status, count] of Object.entries(result.statusCounts)) {
      statusCounts[status] = (statusCounts[status] ?? 0) + count;
    }
  }
  return {
    requests: latenciesMs.length,
    unexpected: results.reduce((sum, result) => sum + result.unexpected, 0),
    statusCounts,
    firstUnexpectedBody: results.find((result) => result.firstUnexpectedBody)?.firstUnexpectedBody,
    wallMs,
    requestsPerSecond: latenciesMs.length / (wallMs / 1000),
    mebibytesPerSecond: requestBytes / MiB / (wallMs / 1000),
    latencyMs: summarize(latenciesMs),
    latenciesMs,
    cpuMsPerUpload: rounds.reduce((sum, round) => sum + round.cpuMs, 0) / latenciesMs.length,
    stubCpuMsPerUpload: rounds.every((round) => round.stubCpuMs !== null)
      ? rounds.reduce((sum, round) => sum + round.stubCpuMs!, 0) / latenciesMs.length
      : null,
  };
}

/** Sends one round of uploads and counts the CPU time the server (and its FakeKube) spent on it. */
async function measureRound(server: Server, upload: Upload): Promise<Round> {
  const cpuBefore = await readProcessCpuMs(server.pid);
  const stubCpuBefore = server.stub ? await readProcessCpuMs(server.stub.pid) : null;
  const load = await uploadLoad(server.ready.port, upload, requestsPerRound, concurrency);
  const cpuMs = (await readProcessCpuMs(server.pid)) - cpuBefore;
  const stubCpuMs =
    server.stub && stubCpuBefore !== null
      ? (await readProcessCpuMs(server.stub.pid)) - stubCpuBefore
      : null;
  return { load, cpuMs, stubCpuMs };
}

/** Alternates rounds of uploads between the API and the bare server: api, bare, api, bare... */
async function measureIntake(
  servers: Record<ServerName, Server>,
  dataDirs: Record<ServerName, string>,
  upload: Upload,
): Promise<Record<ServerName, IntakeResult>> {
  for (const name of serverNames) {
    await uploadLoad(servers[name].ready.port, upload, warmupRequests, concurrency);
    await clearJobs(dataDirs[name]);
  }
  const rawRounds: Record<ServerName, Round[]> = { api: [], bare: [] };
  for (let round = 0; round < rounds; round++) {
    for (const name of serverNames) {
      rawRounds[name].push(await measureRound(servers[name], upload));
      await clearJobs(dataDirs[name]);
    }
  }
  return { api: mergeRounds(rawRounds.api), bare: mergeRounds(rawRounds.bare) };
}

interface MemoryResult {
  server: ServerName;
  size: string;
  uploads: number;
  /** RSS after a warm-up of 10 uploads of 1 MiB, before the burst. */
  rssBeforeBytes: number;
  /** VmHWM after the burst, its peak reset just before it; null when the kernel refused the reset. */
  peakRssBytes: number | null;
  /** Highest VmRSS seen by sampling every 20 ms during the burst. */
  sampledPeakRssBytes: number;
  unexpected: number;
  latencyMs: Summary;
}

/** Starts a fresh server, warms it up, then sends `memoryUploads` uploads at once and reads its peak RSS. */
async function measureMemory(
  name: ServerName,
  size: (typeof memorySizes)[number],
  upload: Upload,
  warmup: Upload,
  root: string,
): Promise<MemoryResult> {
  const dataDir = path.join(root, `memory-${name}-${size.bytes}`);
  const server = await startServer(name, dataDir, path.join(root, `memory-${name}.log`));
  try {
    await uploadLoad(server.ready.port, warmup, 10, 5);
    await clearJobs(dataDir);
    await new Promise((resolve) => setTimeout(resolve, 500));

    const before = await readProcessMemory(server.pid);
    const reset = await resetPeakMemory(server.pid);
    let sampledPeak = before.rssBytes;
    const sampler = setInterval(() => {
      void readProcessMemory(server.pid)
        .then((memory) => {
          sampledPeak = Math.max(sampledPeak, memory.rssBytes);
        })
        .catch(() => undefined);
    }, 20);
    let burst: LoadResult;
    try {
      burst = await uploadLoad(server.ready.port, upload, memoryUploads, memoryUploads);
    } finally {
      clearInterval(sampler);
    }
    const after = await readProcessMemory(server.pid);
    return {
      server: name,
      size: size.name,
      uploads: memoryUploads,
      rssBeforeBytes: before.rssBytes,
      peakRssBytes: reset ? after.peakRssBytes : null,
      sampledPeakRssBytes: Math.max(sampledPeak, after.rssBytes),
      unexpected: burst.unexpected,
      latencyMs: summarize(burst.latenciesMs),
    };
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function peakOf(result: MemoryResult): number {
  return result.peakRssBytes ?? result.sampledPeakRssBytes;
}

async function main(): Promise<void> {
  const loadAtStart = loadSnapshot();
  progress(`upload benchmark; ${loadAtStart.uptime}`);
  const root = await mkdtemp(path.join(os.tmpdir(), "thumbnailer-bench-upload-"));
  const dataDirs: Record<ServerName, string> = {
    api: path.join(root, "api"),
    bare: path.join(root, "bare"),
  };

  try {
    progress("generating the upload images");
    const uploads = await Promise.all(
      sizes.map((size, index) => makeUpload(size.bytes, 100 + index)),
    );
    const memoryUploadsBySize = await Promise.all(
      memorySizes.map((size, index) => makeUpload(size.bytes, 200 + index)),
    );
    const fsync = await measureFsyncMs(root);

    const servers = {
      api: await startServer("api", dataDirs.api, path.join(root, "api.log")),
      bare: await startServer("bare", dataDirs.bare, path.join(root, "bare.log")),
    };
    const intake: {
      size: string;
      fileBytes: number;
      targetRatio: number;
      results: Record<ServerName, IntakeResult>;
    }[] = [];
    try {
      for (const [index, size] of sizes.entries()) {
        const upload = uploads[index]!;
        progress(
          `${size.name}: ${rounds} rounds of ${requestsPerRound} uploads per server, ${concurrency} at a time`,
        );
        intake.push({
          size: size.name,
          fileBytes: upload.fileBytes,
          targetRatio: size.targetRatio,
          results: await measureIntake(servers, dataDirs, upload),
        });
      }
    } finally {
      await Promise.all(serverNames.map((name) => servers[name].stop()));
    }

    const memory: MemoryResult[] = [];
    for (const [index, size] of skipMemory ? [] : memorySizes.entries()) {
      for (const name of serverNames) {
        progress(
          `memory: ${memoryUploads} uploads of ${size.name} at once to a fresh ${name} server`,
        );
        memory.push(
          await measureMemory(
            name,
            size,
            memoryUploadsBySize[index]!,
            memoryUploadsBySize[0]!,
            root,
          ),
        );
      }
    }
    const loadAtEnd = loadSnapshot();

    const intakeRows = intake.flatMap((entry) =>
      serverNames.map((name) => {
        const result = entry.results[name];
        return [
          entry.size,
          name === "api" ? "API (main.js)" : "bare node:http",
          `${result.requests}${result.unexpected > 0 ? ` (${result.unexpected} not 202)` : ""}`,
          formatNumber(result.requestsPerSecond),
          formatNumber(result.mebibytesPerSecond),
          formatNumber(result.latencyMs.median),
          formatNumber(result.latencyMs.p90),
          formatNumber(result.latencyMs.p99),
          formatNumber(result.cpuMsPerUpload),
        ];
      }),
    );
    const ratioRows = intake.map((entry) => {
      const api = entry.results.api.latencyMs;
      const bare = entry.results.bare.latencyMs;
      const medianRatio = api.median / bare.median;
      return [
        entry.size,
        formatRatio(medianRatio),
        formatRatio(api.p90 / bare.p90),
        formatRatio(api.p99 / bare.p99),
        formatRatio(entry.results.bare.requestsPerSecond / entry.results.api.requestsPerSecond),
        formatRatio(entry.results.api.cpuMsPerUpload / entry.results.bare.cpuMsPerUpload),
        `≤ ${entry.targetRatio}x: ${verdict(medianRatio, entry.targetRatio)}`,
      ];
    });
    const memoryRows = memory.map((result) => [
      result.server === "api" ? "API (main.js)" : "bare node:http",
      `${result.uploads} x ${result.size}`,
      formatMebibytes(result.rssBeforeBytes),
      formatMebibytes(peakOf(result)),
      formatMebibytes(peakOf(result) - result.rssBeforeBytes),
      formatNumber(result.latencyMs.median),
    ]);
    const apiPeak = (size: string) =>
      peakOf(memory.find((m) => m.server === "api" && m.size === size)!);
    const memoryRatio = skipMemory ? Number.NaN : apiPeak("20 MiB") / apiPeak("1 MiB");

    const file = await writeResults("upload", {
      benchmark: "upload intake: API versus bare node:http",
      machine: machineInfo(),
      load: { start: loadAtStart, end: loadAtEnd },
      fsyncMs: fsync,
      settings: {
        concurrency,
        warmupRequests,
        rounds,
        requestsPerRound,
        memoryUploads,
        maxUploadBytes,
        maxRunningJobs: 0,
        logLevel: "info",
        flatMemoryRatio,
      },
      intake,
      memory,
      apiPeakRssRatio20To1MiB: memoryRatio,
    });

    console.log(
      `\n### Upload intake (${rounds * requestsPerRound} uploads per server and size, ${concurrency} in flight, alternating rounds)\n`,
    );
    console.log(
      markdownTable(
        [
          "size",
          "server",
          "requests",
          "req/s",
          "MiB/s",
          "p50 ms",
          "p90 ms",
          "p99 ms",
          "server CPU ms per upload",
        ],
        intakeRows,
      ),
    );
    console.log(
      `\nFakeKube, in its own process on the same cores, spent ${intake.map((entry) => `${formatNumber(entry.results.api.stubCpuMsPerUpload ?? Number.NaN)} ms (${entry.size})`).join(" and ")} of CPU per upload.`,
    );
    console.log("\n### API over bare server\n");
    console.log(
      markdownTable(
        [
          "size",
          "p50 ratio",
          "p90 ratio",
          "p99 ratio",
          "throughput ratio (bare / API)",
          "CPU per upload ratio",
          "target on p50",
        ],
        ratioRows,
      ),
    );
    console.log(`\n### Peak memory, ${memoryUploads} uploads at once (fresh server each)\n`);
    console.log(
      markdownTable(
        ["server", "burst", "RSS before", "peak RSS", "peak − before", "p50 ms"],
        memoryRows,
      ),
    );
    console.log(
      skipMemory
        ? "\nThe memory burst was skipped (BENCH_SKIP_MEMORY=1)."
        : `\nAPI peak RSS at 20 MiB over 1 MiB: ${formatRatio(memoryRatio)} (flat means ≤ ${flatMemoryRatio}x: ${verdict(memoryRatio, flatMemoryRatio)})`,
    );
    console.log(
      `fsync of a 100-byte file in the data folder: median ${formatNumber(fsync.median)} ms; load ${loadAtStart.loadAverage.map((l) => l.toFixed(2)).join(" ")} at start, ${loadAtEnd.loadAverage.map((l) => l.toFixed(2)).join(" ")} at end; raw numbers in ${path.relative(repoRoot, file)}`,
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
