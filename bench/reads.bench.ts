/**
 * Reads: GET /v1/jobs/{id} and GET /v1/jobs?limit=100 with 10,000 Jobs in
 * the informer cache, against GET /trivial (a constant JSON body) on the
 * same server, in interleaved rounds. Also the heap the cache takes per job
 * (the heap growth with 10,000 jobs minus the growth with none, over
 * 10,000) and the peak RSS of the built api/dist/main.js while it fills its
 * cache. FakeKube serves the Jobs from a process of its own. Every request goes
 * to 127.0.0.1.
 */
import { mkdtemp, open, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { runLoad, type LoadResult } from "./lib/http-load.js";
import { loadSnapshot, machineInfo, progress, repoRoot, writeResults } from "./lib/machine.js";
import {
  freePort,
  readProcessMemory,
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
import type { FakeKubeReady } from "./servers/fake-kube-server.js";
import type { ReadServerReady } from "./servers/read-server.js";

const serverScript = fileURLToPath(new URL("./servers/read-server.ts", import.meta.url));
const fakeKubeScript = fileURLToPath(new URL("./servers/fake-kube-server.ts", import.meta.url));
const apiMain = path.join(repoRoot, "api", "dist", "main.js");
const runnerJobTemplate = path.join(repoRoot, "api", "test", "fixtures", "runner-job.yaml");
const jobCount = Number(process.env.BENCH_JOBS ?? 10_000);
const rounds = 5;
const targetRatio = 2;

const endpoints = [
  { name: "trivial", label: "GET /trivial (constant JSON)", perRound: 1000, throughputCount: 3000 },
  { name: "get", label: "GET /v1/jobs/{id}", perRound: 1000, throughputCount: 3000 },
  { name: "list", label: "GET /v1/jobs?limit=100", perRound: 400, throughputCount: 1000 },
] as const;
type EndpointName = (typeof endpoints)[number]["name"];
const throughputConcurrency = 10;

function pathFor(endpoint: EndpointName, ids: readonly string[]): (index: number) => string {
  switch (endpoint) {
    case "trivial":
      return () => "/trivial";
    case "list":
      return () => "/v1/jobs?limit=100";
    case "get":
      // Visits the sampled ids in a scattered but repeatable order.
      return (index) => `/v1/jobs/${ids[(index * 7919) % ids.length]}`;
  }
}

function load(
  port: number,
  endpoint: EndpointName,
  ids: readonly string[],
  count: number,
  concurrency: number,
) {
  return runLoad({
    baseUrl: `http://127.0.0.1:${port}`,
    method: "GET",
    path: pathFor(endpoint, ids),
    count,
    concurrency,
    expectedStatus: 200,
  });
}

interface Cluster {
  stub: ChildServer<FakeKubeReady>;
  kubeconfig: string;
  dataDir: string;
  name: string;
}

/** Starts FakeKube holding `count` jobs, with their folders in a fresh data folder. */
async function startCluster(
  root: string,
  count: number,
  withManagedFields: boolean,
): Promise<Cluster> {
  const name = `${count}${withManagedFields ? "" : "-without-managed-fields"}`;
  const dataDir = path.join(root, `data-${name}`);
  const kubeconfig = path.join(root, `kubeconfig-${name}`);
  const variant = withManagedFields ? [] : ["without-managed-fields"];
  const stub = await startIpcServer<FakeKubeReady>(
    fakeKubeScript,
    [kubeconfig, String(count), dataDir, ...variant],
    { nodeArgs: ["--import", "tsx"] },
  );
  return { stub, kubeconfig, dataDir, name };
}

async function startReadServer(cluster: Cluster): Promise<ChildServer<ReadServerReady>> {
  const { outcomes } = cluster.stub.ready;
  return startIpcServer<ReadServerReady>(
    serverScript,
    [cluster.kubeconfig, cluster.dataDir, String(outcomes.succeeded), String(outcomes.failed)],
    { nodeArgs: ["--expose-gc", "--import", "tsx"], profileName: `reads-api-${cluster.name}` },
  );
}

/** Starts the API as its pod runs it and reads its peak RSS once its cache contains every job. */
async function measureApiMemory(cluster: Cluster, root: string) {
  const port = await freePort();
  const log = await open(path.join(root, "api-main.log"), "a");
  let api: ChildServer<{ port: number }>;
  try {
    api = await startHttpServer(apiMain, port, "/readyz", {
      stdout: log.fd,
      env: {
        PATH: process.env.PATH,
        KUBECONFIG: cluster.kubeconfig,
        PORT: String(port),
        DATA_DIR: cluster.dataDir,
        NAMESPACE: cluster.stub.ready.namespace,
        RUNNER_JOB_TEMPLATE: runnerJobTemplate,
        POD_NAME: "bench-api",
        MAX_RUNNING_JOBS: "0",
        LOG_LEVEL: "info",
        SHUTDOWN_GRACE_SECONDS: "5",
      },
    });
  } finally {
    await log.close();
  }
  try {
    // A succeeded job counts as running until its result.json is loaded.
    const expected = `thumbnailer_jobs{stage="succeeded"} ${cluster.stub.ready.outcomes.succeeded}`;
    const deadline = Date.now() + 120000;
    for (;;) {
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      if (metrics.split("\n").includes(expected)) break;
      if (Date.now() > deadline) throw new Error(`the API's metrics never showed ${expected}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return await readProcessMemory(api.pid);
  } finally {
    await api.stop();
  }
}

interface EndpointResult {
  latencyMs: Summary;
  latenciesMs: number[];
  unexpected: number;
  throughput: {
    concurrency: number;
    requests: number;
    requestsPerSecond: number;
    latencyMs: Summary;
  };
}

/** Warms up, then alternates rounds of each endpoint one request at a time, then measures throughput. */
async function measureReads(
  port: number,
  ids: readonly string[],
  results: Record<EndpointName, EndpointResult>,
): Promise<void> {
  for (const endpoint of endpoints) {
    await load(port, endpoint.name, ids, 100, 1);
  }

  progress(`${rounds} interleaved rounds, one request at a time`);
  const sequential: Record<EndpointName, LoadResult[]> = { trivial: [], get: [], list: [] };
  for (let round = 0; round < rounds; round++) {
    for (const endpoint of endpoints) {
      sequential[endpoint.name].push(await load(port, endpoint.name, ids, endpoint.perRound, 1));
    }
  }

  progress(`throughput, ${throughputConcurrency} requests in flight`);
  for (const endpoint of endpoints) {
    const concurrent = await load(
      port,
      endpoint.name,
      ids,
      endpoint.throughputCount,
      throughputConcurrency,
    );
    const latenciesMs = sequential[endpoint.name].flatMap((result) => result.latenciesMs);
    results[endpoint.name] = {
      latencyMs: summarize(latenciesMs),
      latenciesMs,
      unexpected:
        sequential[endpoint.name].reduce((sum, result) => sum + result.unexpected, 0) +
        concurrent.unexpected,
      throughput: {
        concurrency: throughputConcurrency,
        requests: concurrent.latenciesMs.length,
        requestsPerSecond: concurrent.latenciesMs.length / (concurrent.wallMs / 1000),
        latencyMs: summarize(concurrent.latenciesMs),
      },
    };
  }
}

async function main(): Promise<void> {
  const loadAtStart = loadSnapshot();
  progress(`read benchmark; ${loadAtStart.uptime}`);
  const root = await mkdtemp(path.join(os.tmpdir(), "thumbnailer-bench-reads-"));

  try {
    const heapGrowth: Record<string, ReadServerReady> = {};
    for (const [count, withManagedFields] of [
      [0, true],
      [jobCount, false],
    ] as const) {
      progress(
        `heap of the cache with ${count} jobs${withManagedFields ? "" : " without managedFields"}`,
      );
      const cluster = await startCluster(root, count, withManagedFields);
      try {
        const server = await startReadServer(cluster);
        heapGrowth[cluster.name] = server.ready;
        await server.stop();
      } finally {
        await cluster.stub.stop();
        await rm(cluster.dataDir, { recursive: true, force: true });
      }
    }

    progress(`${jobCount} jobs: the API's peak RSS, then the reads`);
    const cluster = await startCluster(root, jobCount, true);
    const { outcomes } = cluster.stub.ready;
    const results = {} as Record<EndpointName, EndpointResult>;
    let apiMemory: Awaited<ReturnType<typeof measureApiMemory>>;
    let full: ReadServerReady;
    try {
      apiMemory = await measureApiMemory(cluster, root);
      const server = await startReadServer(cluster);
      full = server.ready;
      try {
        await measureReads(server.ready.port, cluster.stub.ready.ids, results);
      } finally {
        await server.stop();
      }
    } finally {
      await cluster.stub.stop();
    }
    heapGrowth[cluster.name] = full;
    const loadAtEnd = loadSnapshot();

    const heapGrowthOf = (name: string) =>
      heapGrowth[name]!.memoryAfter.heapUsed - heapGrowth[name]!.memoryBefore.heapUsed;
    const heapPerJob = (heapGrowthOf(String(jobCount)) - heapGrowthOf("0")) / jobCount;
    const heapPerJobWithoutManagedFields =
      (heapGrowthOf(`${jobCount}-without-managed-fields`) - heapGrowthOf("0")) / jobCount;

    const trivial = results.trivial.latencyMs;
    const rows = endpoints.map((endpoint) => {
      const result = results[endpoint.name];
      const ratio = result.latencyMs.p99 / trivial.p99;
      return [
        endpoint.label,
        `${result.latencyMs.count}${result.unexpected > 0 ? ` (${result.unexpected} not 200)` : ""}`,
        formatNumber(result.latencyMs.median),
        formatNumber(result.latencyMs.p99),
        endpoint.name === "trivial" ? "1x" : formatRatio(result.latencyMs.median / trivial.median),
        endpoint.name === "trivial" ? "1x" : formatRatio(ratio),
        endpoint.name === "trivial"
          ? "baseline"
          : `≤ ${targetRatio}x: ${verdict(ratio, targetRatio)}`,
        formatNumber(result.throughput.requestsPerSecond),
      ];
    });

    const file = await writeResults("reads", {
      benchmark: "reads from the informer cache versus a constant endpoint",
      machine: machineInfo(),
      load: { start: loadAtStart, end: loadAtEnd },
      settings: { jobCount, rounds, endpoints, throughputConcurrency, logLevel: "info" },
      outcomes,
      cacheFillMs: full.cacheFillMs,
      memory: {
        readServer: heapGrowth,
        heapBytesPerJob: heapPerJob,
        heapBytesPerJobWithoutManagedFields: heapPerJobWithoutManagedFields,
        apiMainWithFullCache: apiMemory,
      },
      endpoints: results,
    });

    console.log(
      `\n### Reads with ${jobCount} jobs cached (${outcomes.succeeded} succeeded, ${outcomes.failed} failed, ${outcomes.running} running; one pod each)\n`,
    );
    console.log(
      markdownTable(
        [
          "endpoint",
          "requests (one at a time)",
          "p50 ms",
          "p99 ms",
          "p50 ratio",
          "p99 ratio",
          "target on p99",
          `req/s at ${throughputConcurrency} in flight`,
        ],
        rows,
      ),
    );
    console.log(
      `\nCache memory per job (Job + pod + metadata + result): ${formatNumber(heapPerJob / 1024)} KiB of heap, ${formatNumber(heapPerJobWithoutManagedFields / 1024)} KiB when the Jobs and pods carry no managedFields; ${jobCount} jobs take ${formatMebibytes(heapPerJob * jobCount)} of heap and filled the cache in ${formatNumber(full.cacheFillMs / 1000)} s.`,
    );
    console.log(
      `api/dist/main.js with ${jobCount} jobs cached: RSS ${formatMebibytes(apiMemory.rssBytes)}, peak RSS while filling the cache ${formatMebibytes(apiMemory.peakRssBytes)}.`,
    );
    console.log(
      `load ${loadAtStart.loadAverage.map((l) => l.toFixed(2)).join(" ")} at start, ${loadAtEnd.loadAverage.map((l) => l.toFixed(2)).join(" ")} at end; raw numbers in ${path.relative(repoRoot, file)}`,
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
