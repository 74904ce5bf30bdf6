import { once } from "node:events";
import type { Server } from "node:http";

import { ConfigError, loadConfig } from "./config.js";
import { loadRunnerJobTemplate } from "./jobTemplate.js";
import { loadKubeConfig } from "./kube.js";
import { createLogger, describeError } from "./logger.js";
import { createService } from "./service.js";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`thumbnailer-api: invalid configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const template = await loadRunnerJobTemplate(config.runnerJobTemplatePath);
  const kubeConfig = loadKubeConfig();
  const service = createService(config, kubeConfig, template, logger);

  await service.controller.start();
  const server = service.app.listen(config.port);
  await once(server, "listening");
  logger.info("api started", {
    port: config.port,
    namespace: config.namespace,
    releaseName: config.releaseName,
    maxRunningJobs: config.maxRunningJobs,
    maxQueuedJobs: config.maxQueuedJobs,
  });

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    service.startDraining();
    logger.info("shutdown started", { signal, graceSeconds: config.shutdownGraceSeconds });
    void drain(server, config.shutdownGraceSeconds * 1000).then(async (forced) => {
      await service.controller.stop();
      logger.info("shutdown finished", { closedByForce: forced });
      process.exit(0);
    });
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

/**
 * Stops accepting connections, lets requests in flight finish while idle
 * keep-alive connections are closed, and closes what is left once the grace
 * period is over. Resolves true when it had to close connections by force.
 */
async function drain(server: Server, graceMs: number): Promise<boolean> {
  const closed = new Promise<boolean>((resolve) => server.close(() => resolve(false)));
  const idleTimer = setInterval(() => server.closeIdleConnections(), 200);
  server.closeIdleConnections();
  let deadlineTimer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((resolve) => {
    deadlineTimer = setTimeout(() => {
      server.closeAllConnections();
      resolve(true);
    }, graceMs);
  });
  const forced = await Promise.race([closed, deadline]);
  clearInterval(idleTimer);
  clearTimeout(deadlineTimer);
  return forced;
}

main().catch((err: unknown) => {
  process.stderr.write(
    `${JSON.stringify({
      time: new Date().toISOString(),
      level: "error",
      msg: "api failed to start",
      service: "thumbnailer-api",
      error: err instanceof Error ? describeError(err) : String(err),
    })}\n`,
  );
  process.exit(1);
});
