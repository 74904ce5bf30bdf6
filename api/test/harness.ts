import { mkdtemp, readFile, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";

import { loadConfig, type Config } from "../src/config.js";
import { parseRunnerJobTemplate } from "../src/jobTemplate.js";
import { createLogger } from "../src/logger.js";
import { createService, type Service } from "../src/service.js";
import { FakeKube } from "./fakeKube.js";

export const TEMPLATE_PATH = fileURLToPath(new URL("./fixtures/runner-job.yaml", import.meta.url));

export interface Harness {
  baseUrl: string;
  dataDir: string;
  config: Config;
  fake: FakeKube;
  service: Service;
  server: Server;
  /** Every log line the API wrote, parsed. */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/**
 * Starts the API on a loopback port with a fresh data folder, against a
 * FakeKube on another loopback port, and waits until it is ready.
 */
export async function startApi(
  env: Record<string, string> = {},
  fake = new FakeKube(),
): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), "thumbnailer-api-"));
  const config = loadConfig({
    DATA_DIR: dataDir,
    NAMESPACE: fake.namespace,
    RUNNER_JOB_TEMPLATE: TEMPLATE_PATH,
    POD_NAME: "api-test",
    MAX_RUNNING_JOBS: "0",
    ...env,
  });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  const logger = createLogger("debug", sink);
  const template = parseRunnerJobTemplate(await readFile(TEMPLATE_PATH, "utf8"));

  await fake.start();
  const service = createService(config, fake.kubeConfig(), template, logger, {
    defaultMetrics: false,
    intervals: { leaseRenewMs: 50, reconcileMs: 50, sweepMs: 100, volumeCheckMs: 100 },
    delay: () => new Promise((resolve) => setTimeout(resolve, 10)),
  });
  await service.controller.start();
  await waitFor(() => service.controller.readiness().ready, "the API to become ready");

  const server = service.app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    dataDir,
    config,
    fake,
    service,
    server,
    logs,
    async close() {
      await service.controller.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await fake.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls a condition every 10 ms, for at most `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** POSTs one file as multipart/form-data, the way curl -F does. */
export async function upload(
  baseUrl: string,
  file: Buffer,
  options: { filename?: string; field?: string; fit?: string; contentType?: string } = {},
): Promise<Response> {
  const form = new FormData();
  if (options.fit !== undefined) form.append("fit", options.fit);
  form.append(
    options.field ?? "image",
    new Blob([new Uint8Array(file)], { type: options.contentType ?? "application/octet-stream" }),
    options.filename ?? "emoji.png",
  );
  return fetch(`${baseUrl}/v1/jobs`, { method: "POST", body: form });
}
