/**
 * The server for the read benchmark: the API (createService, wired as
 * main.ts does) mounted under a parent Express app that adds GET /trivial, a
 * constant JSON body. It reads its Jobs from the FakeKube in KUBECONFIG_PATH
 * and its job folders from DATA_DIR. Measures the heap after a full GC
 * before the API starts and once its cache contains every job, so it needs
 * --expose-gc. Sends { type: "ready", ... } over IPC and exits on
 * { type: "stop" }.
 *
 * Usage: node --expose-gc --import tsx bench/servers/read-server.ts KUBECONFIG_PATH DATA_DIR
 *          SUCCEEDED FAILED
 */
import { readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";

import { KubeConfig } from "@kubernetes/client-node";
import express from "express";

import { loadConfig } from "../../api/src/config.js";
import { parseRunnerJobTemplate } from "../../api/src/jobTemplate.js";
import { createLogger } from "../../api/src/logger.js";
import { createService } from "../../api/src/service.js";
import { TEMPLATE_PATH } from "../../api/test/harness.js";
import { exitOnStopMessage } from "../lib/processes.js";

export interface ReadServerReady {
  type: "ready";
  port: number;
  /** process.memoryUsage() after a full GC, before createService and once the cache contains every job. */
  memoryBefore: NodeJS.MemoryUsage;
  memoryAfter: NodeJS.MemoryUsage;
  cacheFillMs: number;
}

function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("read-server.ts needs node --expose-gc");
  gc();
  gc();
}

async function waitUntil(
  condition: () => boolean,
  description: string,
  timeoutMs = 120000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function main(): Promise<void> {
  const [kubeconfigPath, dataDir, succeededText, failedText] = process.argv.slice(2);
  const expected = { succeeded: Number(succeededText), failed: Number(failedText) };
  if (
    kubeconfigPath === undefined ||
    dataDir === undefined ||
    !Number.isSafeInteger(expected.succeeded) ||
    !Number.isSafeInteger(expected.failed)
  ) {
    throw new Error("usage: read-server.ts KUBECONFIG_PATH DATA_DIR SUCCEEDED FAILED");
  }

  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const template = parseRunnerJobTemplate(await readFile(TEMPLATE_PATH, "utf8"));
  const config = loadConfig({
    DATA_DIR: dataDir,
    NAMESPACE: kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace,
    RUNNER_JOB_TEMPLATE: TEMPLATE_PATH,
    POD_NAME: "bench-api",
    MAX_RUNNING_JOBS: "0",
    LOG_LEVEL: "info",
  });
  const logger = createLogger(config.logLevel);

  fullGc();
  const memoryBefore = process.memoryUsage();
  const started = performance.now();
  const service = createService(config, kubeConfig, template, logger);
  await service.controller.start();
  await waitUntil(() => service.controller.readiness().ready, "the API to become ready");
  // A succeeded job reads as running until its result.json is loaded, so wait for every one.
  await waitUntil(() => {
    const stages = service.controller.countByStage();
    return stages.succeeded === expected.succeeded && stages.failed === expected.failed;
  }, "every job's result to be loaded");
  const cacheFillMs = performance.now() - started;
  fullGc();
  const memoryAfter = process.memoryUsage();

  const constantBody = { status: "ok", service: "thumbnailer-bench" };
  const parent = express();
  parent.disable("x-powered-by");
  parent.set("etag", false);
  parent.get("/trivial", (_req, res) => {
    res.json(constantBody);
  });
  parent.use(service.app);
  const server = parent.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  exitOnStopMessage(async () => {
    server.closeAllConnections();
    await service.controller.stop();
  });

  const ready: ReadServerReady = {
    type: "ready",
    port: (server.address() as AddressInfo).port,
    memoryBefore,
    memoryAfter,
    cacheFillMs,
  };
  process.send!(ready);
}

await main();
