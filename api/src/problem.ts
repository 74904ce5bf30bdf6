import type { ErrorRequestHandler } from "express";

import { describeError, type Logger } from "./logger.js";

const TITLES: Record<number, string> = {
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
  507: "Insufficient Storage",
};

export interface ProblemOptions {
  jobId?: string;
  retryAfterSeconds?: number;
  cause?: unknown;
  extra?: Record<string, unknown>;
}

/** An error that the error middleware sends as application/problem+json (RFC 9457). */
export class HttpProblem extends Error {
  override name = "HttpProblem";
  readonly status: number;
  readonly jobId: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly extra: Record<string, unknown>;

  constructor(status: number, detail: string, options: ProblemOptions = {}) {
    super(detail, { cause: options.cause });
    this.status = status;
    this.jobId = options.jobId;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.extra = options.extra ?? {};
  }
}

export function problemBody(status: number, detail: string, jobId?: string): object {
  return {
    type: `https://thumbnailer.cogent.co.jp/problems/${status}`,
    title: TITLES[status] ?? "Error",
    status,
    detail,
    ...(jobId === undefined ? {} : { jobId }),
  };
}

/**
 * Turns every error into one problem+json response. Errors that are not
 * HttpProblem become 500 and are logged with their cause; body-parser
 * errors keep their 4xx status.
 */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const requestId = res.locals.requestId as string | undefined;
    let problem: HttpProblem;
    if (err instanceof HttpProblem) {
      problem = err;
    } else if (isClientError(err)) {
      problem = new HttpProblem(err.status, err.message);
    } else {
      logger.error("request failed", {
        requestId,
        method: req.method,
        route: req.route?.path,
        error: err instanceof Error ? describeError(err) : String(err),
      });
      problem = new HttpProblem(500, "The server failed to handle the request; see its logs.");
    }

    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (problem.retryAfterSeconds !== undefined) {
      res.setHeader("Retry-After", String(problem.retryAfterSeconds));
    }
    res
      .status(problem.status)
      .type("application/problem+json")
      .send(
        JSON.stringify({
          ...problemBody(problem.status, problem.message, problem.jobId),
          ...problem.extra,
        }),
      );
  };
}

function isClientError(err: unknown): err is { status: number; message: string } {
  if (typeof err !== "object" || err === null) return false;
  const status = (err as { status?: unknown }).status;
  return typeof status === "number" && status >= 400 && status < 500;
}
