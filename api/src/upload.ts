import type { NextFunction, Request, RequestHandler, Response } from "express";
import multer, { MulterError } from "multer";
import type { V1Job } from "@kubernetes/client-node";

import type { Config } from "./config.js";
import type { Controller } from "./controller.js";
import { newJobId } from "./ids.js";
import { buildJob, jobName, type Fit } from "./jobTemplate.js";
import { classifyKubeError, kubeErrorMessage, type KubeClient } from "./kube.js";
import { describeError, type Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";
import { HttpProblem } from "./problem.js";
import { ACCEPTED_FORMATS_SENTENCE, sniffImage } from "./sniff.js";
import { isNoSpace, type JobFiles, type JobMeta } from "./storage.js";

export const FILE_FIELD = "image";
const FIT_FIELD = "fit";
const FITS: readonly Fit[] = ["contain", "cover", "fill"];

/** Multipart framing can add this much to a body beyond the file itself. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

export interface UploadDeps {
  config: Config;
  files: JobFiles;
  kube: KubeClient;
  controller: Controller;
  template: V1Job;
  metrics: Metrics;
  logger: Logger;
  /** True once SIGTERM arrived: new uploads are refused. */
  isDraining: () => boolean;
}

/**
 * Handles POST /v1/jobs: streams the file into a new job folder, sniffs its
 * bytes, writes meta.json and creates the Job. Anything short of a created
 * Job removes the folder again.
 */
export function createUploadHandler(deps: UploadDeps): RequestHandler {
  const { config, files, logger } = deps;
  const folders = new WeakMap<Request, string>();

  const multipart = multer({
    storage: multer.diskStorage({
      destination: (req, _file, callback) => callback(null, folders.get(req)!),
      filename: (_req, _file, callback) => callback(null, "original"),
    }),
    // busboy decodes file names as latin1 by default, and cuts them to their
    // last path segment unless preservePath is set. The name is only stored,
    // never used as a path.
    defParamCharset: "utf8",
    preservePath: true,
    limits: {
      fileSize: config.maxUploadBytes,
      files: 1,
      fields: 1,
      parts: 3,
      fieldNameSize: 100,
      fieldSize: 100,
      headerPairs: 20,
    },
  }).single(FILE_FIELD);

  return async (req: Request, res: Response, next: NextFunction) => {
    const started = performance.now();
    const requestId = res.locals.requestId as string;

    try {
      rejectEarly(deps, req);
    } catch (err) {
      // Node reads and drops the unread body so the connection stays usable,
      // except for a body already known to be too large: that one is cut off.
      if (err instanceof HttpProblem && err.status === 413) res.setHeader("Connection", "close");
      next(err);
      return;
    }

    const id = newJobId();
    let created = false;
    try {
      try {
        folders.set(req, await files.createDir(id));
      } catch (err) {
        throw storageProblem(err, id);
      }
      await receive(multipart, req, res, id, config.maxUploadBytes);

      const meta = await checkUpload(req, id);
      try {
        await files.writeMeta(meta);
      } catch (err) {
        throw storageProblem(err, id);
      }

      const job = await createJob(deps, id, meta.fit, requestId);
      created = true;
      deps.controller.jobCreated(id, job, meta);
      deps.metrics.uploadBytes.observe(meta.original.bytes);
      logger.info("job created", {
        requestId,
        jobId: id,
        bytes: meta.original.bytes,
        format: meta.original.contentType,
        suspended: job.spec?.suspend === true,
        durationMs: Math.round(performance.now() - started),
      });
      if (job.spec?.suspend === true) {
        logger.info("job queued", {
          requestId,
          jobId: id,
          queueLength: deps.controller.queueLength(),
        });
      }

      res.status(202).location(`/v1/jobs/${id}`).json(deps.controller.getJob(id));
    } catch (err) {
      // Remove the folder before responding, so a client that gets the error finds no leftovers.
      if (!created) await removeRejected(deps, id, requestId);
      next(err);
    }
  };
}

async function removeRejected(deps: UploadDeps, id: string, requestId: string): Promise<void> {
  try {
    await deps.files.remove(id);
  } catch (err) {
    deps.logger.error("removing a rejected upload failed", {
      requestId,
      jobId: id,
      error: describeError(err as Error),
    });
  }
}

function rejectEarly(deps: UploadDeps, req: Request): void {
  const { config, controller } = deps;
  if (deps.isDraining()) {
    throw new HttpProblem(503, "The server is shutting down; send the upload again.", {
      retryAfterSeconds: 5,
    });
  }
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > config.maxUploadBytes + MULTIPART_OVERHEAD_BYTES) {
    throw tooLarge(config.maxUploadBytes);
  }
  if (config.maxRunningJobs > 0 && controller.queueLength() >= config.maxQueuedJobs) {
    throw new HttpProblem(
      429,
      `The queue is full (${config.maxQueuedJobs} jobs waiting); send the upload again later.`,
      { retryAfterSeconds: 30 },
    );
  }
}

function receive(
  multipart: RequestHandler,
  req: Request,
  res: Response,
  id: string,
  maxBytes: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    void multipart(req, res, (err?: unknown) => {
      if (err === undefined) resolve();
      else reject(uploadProblem(err, id, maxBytes));
    });
  });
}

async function checkUpload(req: Request, id: string): Promise<JobMeta> {
  const file = req.file;
  if (file === undefined) {
    throw new HttpProblem(
      400,
      `No file: send the image as multipart/form-data in the field "${FILE_FIELD}".`,
    );
  }
  const fields = Object.keys(req.body ?? {});
  const unknown = fields.find((name) => name !== FIT_FIELD);
  if (unknown !== undefined) {
    throw new HttpProblem(
      400,
      `Unknown form field ${JSON.stringify(unknown)}: the form takes "${FILE_FIELD}" and "${FIT_FIELD}" only.`,
    );
  }
  const fitValue = (req.body as Record<string, unknown>)[FIT_FIELD] ?? "contain";
  if (!FITS.includes(fitValue as Fit)) {
    throw new HttpProblem(
      400,
      `Invalid fit ${JSON.stringify(fitValue)}: use one of ${FITS.join(", ")}.`,
    );
  }
  if (file.size === 0) {
    throw new HttpProblem(400, "The uploaded file is empty.");
  }

  const sniffed = await sniffImage(file.path);
  if (sniffed === undefined) {
    throw new HttpProblem(415, `The file is not a supported image. ${ACCEPTED_FORMATS_SENTENCE}`);
  }

  return {
    id,
    createdAt: new Date().toISOString(),
    fit: fitValue as Fit,
    original: { filename: file.originalname, contentType: sniffed.contentType, bytes: file.size },
  };
}

async function createJob(
  deps: UploadDeps,
  id: string,
  fit: Fit,
  requestId: string,
): Promise<V1Job> {
  const { config, kube, logger } = deps;
  const job = buildJob(deps.template, {
    id,
    namespace: config.namespace,
    releaseName: config.releaseName,
    fit,
    suspend: config.maxRunningJobs > 0,
  });
  try {
    return await kube.createJob(job, requestId);
  } catch (err) {
    const { kind, code } = classifyKubeError(err);
    logger.error("creating the Job failed", {
      requestId,
      jobId: id,
      code,
      error: kubeErrorMessage(err),
    });
    if (kind === "unavailable") {
      // The create may have reached the API server before the connection broke.
      await kube.deleteJob(jobName(id), requestId).catch(() => undefined);
      throw new HttpProblem(503, "The Kubernetes API is unavailable; send the upload again.", {
        retryAfterSeconds: 10,
        cause: err,
      });
    }
    throw new HttpProblem(
      500,
      `The Kubernetes API rejected the Job (HTTP ${code}); an operator should read the API's logs.`,
      { cause: err },
    );
  }
}

function tooLarge(maxBytes: number): HttpProblem {
  return new HttpProblem(413, `The image is larger than the limit of ${maxBytes} bytes.`);
}

function storageProblem(err: unknown, id: string): unknown {
  if (isNoSpace(err)) {
    return new HttpProblem(507, "The data volume is full; try again later.", {
      retryAfterSeconds: 60,
      jobId: id,
    });
  }
  return err;
}

/** Maps multer's and busboy's errors to problems; a client that went away gets none. */
function uploadProblem(err: unknown, id: string, maxBytes: number): unknown {
  if (err instanceof MulterError) {
    switch (err.code) {
      case "LIMIT_FILE_SIZE":
        return tooLarge(maxBytes);
      case "LIMIT_UNEXPECTED_FILE":
      case "LIMIT_FILE_COUNT":
        return new HttpProblem(400, `Send exactly one file, in the form field "${FILE_FIELD}".`);
      default:
        return new HttpProblem(400, `The multipart form is invalid: ${err.message}.`);
    }
  }
  if (isNoSpace(err)) return storageProblem(err, id);
  const message = err instanceof Error ? err.message : String(err);
  if (/^(Request aborted|Request closed)$/.test(message)) {
    return new HttpProblem(400, "The upload was interrupted.");
  }
  if (/multipart|boundary|part|form/i.test(message)) {
    return new HttpProblem(400, `The multipart body is malformed: ${message}.`);
  }
  return err;
}
