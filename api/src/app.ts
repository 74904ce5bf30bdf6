import { randomUUID } from "node:crypto";
import { open } from "node:fs/promises";

import express, { type Express, type NextFunction, type Request, type Response } from "express";
import type { V1Job } from "@kubernetes/client-node";

import type { Config } from "./config.js";
import type { Controller } from "./controller.js";
import { isJobId } from "./ids.js";
import { jobName } from "./jobTemplate.js";
import type { JobStatus } from "./jobStatus.js";
import { classifyKubeError, kubeErrorMessage, type KubeClient } from "./kube.js";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";
import { openApiDocument } from "./openapi.js";
import { HttpProblem, problemHandler } from "./problem.js";
import { isNotFound, type JobFiles } from "./storage.js";
import { createUploadHandler } from "./upload.js";

export interface AppDeps {
  config: Config;
  controller: Controller;
  files: JobFiles;
  kube: KubeClient;
  template: V1Job;
  metrics: Metrics;
  logger: Logger;
  isDraining: () => boolean;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const PROBE_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);
const STATUSES: readonly JobStatus[] = ["processing", "succeeded", "failed"];
const LIST_LIMIT_DEFAULT = 50;
const LIST_LIMIT_MAX = 500;

/** Builds the Express app: every route of the HTTP API, with one error middleware. */
export function createApp(deps: AppDeps): Express {
  const { controller, metrics, logger } = deps;
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("query parser", "simple");

  app.use(requestContext(deps));

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  app.get("/readyz", (_req, res) => {
    const { ready, checks } = controller.readiness();
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not ready", checks });
  });

  app.get("/metrics", async (_req, res) => {
    for (const [stage, count] of Object.entries(controller.countByStage())) {
      metrics.jobs.set({ stage }, count);
    }
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.get("/openapi.json", (_req, res) => {
    res.json(openApiDocument(deps.config));
  });

  app.post("/v1/jobs", createUploadHandler(deps));

  app.get("/v1/jobs", (req, res) => {
    const query = parseListQuery(req.query as Record<string, unknown>);
    res.json(controller.listJobs(query));
  });

  app.get("/v1/jobs/:id", (req, res) => {
    const id = checkedId(req.params.id);
    const doc = controller.getJob(id);
    if (doc === undefined) throw notFound(id);
    res.json(doc);
  });

  app.get("/v1/jobs/:id/thumbnail", async (req, res) => {
    const id = checkedId(req.params.id);
    await sendThumbnail(deps, id, req, res);
  });

  app.delete("/v1/jobs/:id", async (req, res) => {
    const id = checkedId(req.params.id);
    if (!controller.hasJob(id)) throw notFound(id);
    try {
      await deps.kube.deleteJob(jobName(id), res.locals.requestId as string);
    } catch (err) {
      const { kind } = classifyKubeError(err);
      if (kind === "notFound") throw notFound(id);
      logger.error("deleting the Job failed", {
        requestId: res.locals.requestId,
        jobId: id,
        error: kubeErrorMessage(err),
      });
      if (kind === "unavailable") {
        throw new HttpProblem(503, "The Kubernetes API is unavailable; try again.", {
          retryAfterSeconds: 10,
          jobId: id,
        });
      }
      throw err;
    }
    logger.info("job deletion requested", { requestId: res.locals.requestId, jobId: id });
    res.status(204).end();
  });

  app.use((req, _res, next: NextFunction) => {
    next(new HttpProblem(404, `No route for ${req.method} ${req.path}.`));
  });
  app.use(problemHandler(logger));
  return app;
}

/** Sets the request id, and counts, times and logs each request when it ends. */
function requestContext(deps: AppDeps) {
  const { metrics, logger } = deps;
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = performance.now();
    const incoming = req.get("x-request-id");
    const requestId = incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader("X-Request-Id", requestId);

    res.on("finish", () => {
      const durationMs = performance.now() - started;
      // Route templates, not paths, keep the label values bounded.
      const route = (req.route?.path as string | undefined) ?? "unmatched";
      const labels = { method: req.method, route, status: String(res.statusCode) };
      metrics.httpRequests.inc(labels);
      metrics.httpRequestDuration.observe(labels, durationMs / 1000);
      if (PROBE_PATHS.has(req.path)) return;
      logger.info("request served", {
        requestId,
        method: req.method,
        route,
        status: res.statusCode,
        durationMs: Math.round(durationMs),
        jobId: isJobId(req.params?.id) ? req.params.id : res.locals.jobId,
      });
    });
    next();
  };
}

function checkedId(value: unknown): string {
  if (!isJobId(value)) {
    throw new HttpProblem(400, "Invalid job id: expected a lower-case UUIDv7.");
  }
  return value;
}

function notFound(id: string): HttpProblem {
  return new HttpProblem(404, "No job with this id; it may have expired.", { jobId: id });
}

function parseListQuery(query: Record<string, unknown>) {
  for (const key of Object.keys(query)) {
    if (!["status", "limit", "cursor"].includes(key)) {
      throw new HttpProblem(
        400,
        `Unknown query parameter ${JSON.stringify(key)}: use status, limit or cursor.`,
      );
    }
  }
  const { status, limit, cursor } = query;
  if (status !== undefined && !STATUSES.includes(status as JobStatus)) {
    throw new HttpProblem(
      400,
      `Invalid status ${JSON.stringify(status)}: use one of ${STATUSES.join(", ")}.`,
    );
  }
  let limitValue = LIST_LIMIT_DEFAULT;
  if (limit !== undefined) {
    limitValue = Number(limit);
    if (
      typeof limit !== "string" ||
      !/^\d+$/.test(limit) ||
      limitValue < 1 ||
      limitValue > LIST_LIMIT_MAX
    ) {
      throw new HttpProblem(
        400,
        `Invalid limit ${JSON.stringify(limit)}: use an integer from 1 to ${LIST_LIMIT_MAX}.`,
      );
    }
  }
  if (cursor !== undefined && !isJobId(cursor)) {
    throw new HttpProblem(400, "Invalid cursor: pass the nextCursor of the previous page.");
  }
  return {
    status: status as JobStatus | undefined,
    limit: limitValue,
    before: cursor as string | undefined,
  };
}

async function sendThumbnail(
  deps: AppDeps,
  id: string,
  req: Request,
  res: Response,
): Promise<void> {
  const doc = deps.controller.getJob(id);
  if (doc === undefined) throw notFound(id);
  if (doc.status !== "succeeded" || doc.thumbnail === undefined) {
    throw new HttpProblem(
      409,
      `The job is ${doc.status}; the thumbnail exists once it has succeeded.`,
      {
        jobId: id,
        extra: { jobStatus: doc.status },
      },
    );
  }

  const etag = `"${id}"`;
  res.setHeader("ETag", etag);
  res.setHeader("Cache-Control", "private, max-age=3600");
  if (req.get("if-none-match") === etag) {
    res.status(304).end();
    return;
  }

  let handle;
  try {
    handle = await open(deps.files.thumbnailPath(id), "r");
  } catch (err) {
    if (!isNotFound(err)) throw err;
    deps.controller.thumbnailMissing(id);
    deps.logger.warn("thumbnail missing on the volume", {
      requestId: res.locals.requestId,
      jobId: id,
    });
    res.removeHeader("ETag");
    res.removeHeader("Cache-Control");
    throw new HttpProblem(409, "The job is failed; its thumbnail is missing on the volume.", {
      jobId: id,
      extra: { jobStatus: "failed" },
    });
  }

  const { size } = await handle.stat();
  res.status(200).type(doc.thumbnail.contentType).setHeader("Content-Length", String(size));
  const stream = handle.createReadStream();
  await new Promise<void>((resolve, reject) => {
    stream.on("error", reject);
    res.on("close", resolve);
    stream.pipe(res);
  });
}
