import type { V1Job, V1JobCondition, V1Pod } from "@kubernetes/client-node";

import type { JobMeta, RunnerResult } from "./storage.js";

export type JobStatus = "processing" | "succeeded" | "failed";
export type JobStage = "queued" | "pending" | "running" | "succeeded" | "failed";

export interface JobError {
  reason: string;
  message: string;
}

/** The job document that GET /v1/jobs/{id} and the list return. */
export interface JobDocument {
  id: string;
  status: JobStatus;
  stage: JobStage;
  createdAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  attempts: number;
  queuePosition?: number;
  original: JobMeta["original"] | null;
  thumbnail?: {
    url: string;
    contentType: string;
    width: number;
    height: number;
    bytes: number;
  };
  error?: JobError;
}

/** Facts the cache keeps about one job, apart from the Job itself. */
export interface JobFacts {
  meta: JobMeta | undefined;
  /** The runner's result.json, or "missing" when the thumbnail is not on the volume. */
  result: RunnerResult | "missing" | undefined;
  pods: V1Pod[];
  queuePosition: number | undefined;
}

/**
 * Reasons the runner writes to its termination message. A copy of the
 * runner's list, because the API image does not carry the runner's code; a
 * test keeps the two equal.
 */
export const RUNNER_REASONS = [
  "EmptyInput",
  "UnsupportedFormat",
  "CorruptImage",
  "TooManyPixels",
  "TooManyFrames",
  "TooLarge",
  "InvalidArguments",
  "RunnerError",
] as const;

/** Reasons the API itself reports, besides the runner's and the Job controller's. */
const API_REASONS = ["OOMKilled", "ThumbnailMissing", "JobFailed"];

/** Reasons of the Job controller's Failed condition that pass through as they are. */
const JOB_CONDITION_REASONS = [
  "BackoffLimitExceeded",
  "DeadlineExceeded",
  "PodFailurePolicy",
  "MaxFailedIndexesExceeded",
  "FailedIndexes",
];

/** Every reason a failed job can carry: a bounded set, safe as a metric label. */
export const FAILURE_REASONS: readonly string[] = [
  ...RUNNER_REASONS,
  ...API_REASONS,
  ...JOB_CONDITION_REASONS,
];

function isTrue(job: V1Job, type: string): V1JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === type && c.status === "True");
}

function iso(value: Date | string | undefined | null): string | null {
  if (value === undefined || value === null) return null;
  return new Date(value).toISOString();
}

export function jobFinishState(job: V1Job): "succeeded" | "failed" | undefined {
  if (isTrue(job, "Failed") || isTrue(job, "FailureTarget")) return "failed";
  if (isTrue(job, "Complete") || isTrue(job, "SuccessCriteriaMet")) return "succeeded";
  return undefined;
}

export function isSuspended(job: V1Job): boolean {
  return job.spec?.suspend === true && jobFinishState(job) === undefined;
}

export function attempts(job: V1Job): number {
  const s = job.status;
  return (s?.active ?? 0) + (s?.failed ?? 0) + (s?.succeeded ?? 0);
}

/** Returns the time the Job finished, from its completionTime or its conditions. */
export function finishedAt(job: V1Job): Date | undefined {
  if (job.status?.completionTime) return new Date(job.status.completionTime);
  const condition =
    isTrue(job, "Failed") ??
    isTrue(job, "FailureTarget") ??
    isTrue(job, "Complete") ??
    isTrue(job, "SuccessCriteriaMet");
  return condition?.lastTransitionTime ? new Date(condition.lastTransitionTime) : undefined;
}

/** Maps a Job, its pods and the cached facts to the job document. */
export function describeJob(id: string, job: V1Job, facts: JobFacts): JobDocument {
  const doc: JobDocument = {
    id,
    status: "processing",
    stage: "pending",
    createdAt: iso(job.metadata?.creationTimestamp) ?? facts.meta?.createdAt ?? null,
    startedAt: iso(job.status?.startTime),
    finishedAt: null,
    // The Job's counters lag its conditions: with FailureTarget set, a failed
    // pod can still be uncounted. Each runner pod seen is one attempt.
    attempts: Math.max(attempts(job), facts.pods.length),
    original: facts.meta?.original ?? null,
  };

  const state = jobFinishState(job);
  const result = facts.result;
  if (state === "succeeded") {
    if (result === undefined) {
      // The controller is still reading result.json: report it as not done yet.
      doc.stage = "running";
      return doc;
    }
    doc.finishedAt = iso(finishedAt(job));
    if (result === "missing") {
      doc.status = "failed";
      doc.stage = "failed";
      doc.error = {
        reason: "ThumbnailMissing",
        message:
          "The Job succeeded but its thumbnail is not on the volume; upload the image again.",
      };
      return doc;
    }
    doc.status = "succeeded";
    doc.stage = "succeeded";
    doc.thumbnail = {
      url: `/v1/jobs/${id}/thumbnail`,
      contentType: result.contentType,
      width: result.width,
      height: result.height,
      bytes: result.bytes,
    };
    return doc;
  }

  if (state === "failed") {
    doc.status = "failed";
    doc.stage = "failed";
    doc.finishedAt = iso(finishedAt(job));
    doc.error = failureError(job, facts.pods);
    return doc;
  }

  if (job.spec?.suspend === true) {
    doc.stage = "queued";
    if (facts.queuePosition !== undefined) doc.queuePosition = facts.queuePosition;
    return doc;
  }

  doc.stage = facts.pods.some((p) => p.status?.phase === "Running") ? "running" : "pending";
  return doc;
}

/**
 * Returns the error of a failed job, from the runner's JSON termination
 * message first, then the last pod's state (OOMKilled, exit code), then the
 * Job's condition.
 */
export function failureError(job: V1Job, pods: V1Pod[]): JobError {
  const terminated = lastTerminatedRunner(pods);
  if (terminated !== undefined) {
    const fromRunner = parseRunnerMessage(terminated.message);
    if (fromRunner !== undefined) return fromRunner;
    if (terminated.reason === "OOMKilled") {
      return {
        reason: "OOMKilled",
        message:
          "The runner ran out of memory; raise the runner's memory limit or upload a smaller image.",
      };
    }
    const lastLine = lastLineOf(terminated.message);
    return {
      reason: "RunnerError",
      message: trimMessage(
        `The runner exited with code ${terminated.exitCode}${lastLine ? `: ${lastLine}` : "."}`,
      ),
    };
  }

  const condition = isTrue(job, "Failed") ?? isTrue(job, "FailureTarget");
  const reason = condition?.reason;
  return {
    reason: reason !== undefined && JOB_CONDITION_REASONS.includes(reason) ? reason : "JobFailed",
    message: trimMessage(condition?.message) || "The Job failed.",
  };
}

interface TerminatedRunner {
  exitCode: number;
  reason: string | undefined;
  message: string | undefined;
}

function lastTerminatedRunner(pods: V1Pod[]): TerminatedRunner | undefined {
  const sorted = [...pods].sort(
    (a, b) =>
      new Date(b.metadata?.creationTimestamp ?? 0).getTime() -
      new Date(a.metadata?.creationTimestamp ?? 0).getTime(),
  );
  for (const pod of sorted) {
    const status = pod.status?.containerStatuses?.find((c) => c.name === "runner");
    const terminated = status?.state?.terminated ?? status?.lastState?.terminated;
    if (terminated !== undefined && terminated.exitCode !== 0) {
      return {
        exitCode: terminated.exitCode,
        reason: terminated.reason,
        message: terminated.message,
      };
    }
  }
  return undefined;
}

function parseRunnerMessage(message: string | undefined): JobError | undefined {
  if (!message) return undefined;
  try {
    const parsed = JSON.parse(message.trim()) as { reason?: unknown; message?: unknown };
    if (
      typeof parsed.reason === "string" &&
      typeof parsed.message === "string" &&
      (RUNNER_REASONS as readonly string[]).includes(parsed.reason)
    ) {
      return { reason: parsed.reason, message: trimMessage(parsed.message) };
    }
  } catch {
    // Not the runner's JSON: the caller falls back to the pod's state.
  }
  return undefined;
}

function lastLineOf(message: string | undefined): string {
  const lines = (message ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return trimMessage(lines.at(-1));
}

const MAX_MESSAGE_CHARS = 300;

function trimMessage(message: string | undefined): string {
  const text = (message ?? "").trim();
  return text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS - 1)}…` : text;
}
