import {
  ADD,
  DELETE,
  ERROR,
  UPDATE,
  type Informer,
  type ObjectCache,
  type V1Job,
  type V1Pod,
} from "@kubernetes/client-node";

import { slimJob, slimPod } from "./cachedObjects.js";
import { Limiter } from "./limiter.js";
import type { Config } from "./config.js";
import { LABEL_JOB_ID, jobName } from "./jobTemplate.js";
import {
  FAILURE_REASONS,
  describeJob,
  failureError,
  finishedAt,
  isSuspended,
  jobFinishState,
  type JobDocument,
  type JobStatus,
} from "./jobStatus.js";
import { isJobId } from "./ids.js";
import { classifyKubeError, kubeErrorMessage, type KubeClient } from "./kube.js";
import type { LeaseElector } from "./lease.js";
import { describeError, type Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";
import type { JobFiles, JobMeta, RunnerResult } from "./storage.js";

export type JobInformer = Informer<V1Job> & ObjectCache<V1Job>;
export type PodInformer = Informer<V1Pod> & ObjectCache<V1Pod>;

export interface ControllerDeps {
  config: Config;
  kube: KubeClient;
  files: JobFiles;
  metrics: Metrics;
  logger: Logger;
  lease: LeaseElector;
  jobInformer: JobInformer;
  podInformer: PodInformer;
  now?: () => number;
  /** Waits between informer restarts; tests pass one that does not sleep. */
  delay?: (ms: number) => Promise<void>;
  intervals?: Partial<ControllerIntervals>;
}

export interface ControllerIntervals {
  leaseRenewMs: number;
  reconcileMs: number;
  sweepMs: number;
  volumeCheckMs: number;
}

const DEFAULT_INTERVALS: ControllerIntervals = {
  leaseRenewMs: 5000,
  reconcileMs: 5000,
  sweepMs: 60000,
  volumeCheckMs: 15000,
};

const INFORMER_RETRY_MIN_MS = 500;
const INFORMER_RETRY_MAX_MS = 30000;

export interface ListOptions {
  status?: JobStatus;
  limit: number;
  /** Return jobs older than this id (ids are time-ordered). */
  before?: string;
}

/**
 * The in-process controller. Informers on the release's Jobs and runner Pods
 * feed an in-memory cache that serves every read. The Lease holder resumes
 * queued Jobs and removes the folders of Jobs that are gone.
 */
export class Controller {
  private readonly jobs = new Map<string, V1Job>();
  /** The keys of `jobs` in ascending order: UUIDv7 ids sort by creation time. */
  private readonly sortedIds: string[] = [];
  private readonly podsByJob = new Map<string, Map<string, V1Pod>>();
  private readonly metas = new Map<string, JobMeta>();
  private readonly results = new Map<string, RunnerResult | "missing">();
  private readonly finishHandled = new Set<string>();
  /** Bounds the volume reads in flight, which start by the thousand when the cache fills. */
  private readonly fileReads = new Limiter(32);
  private readonly resuming = new Set<string>();
  /** Ids of suspended, unfinished Jobs; their order is computed when a read needs it. */
  private readonly queued = new Set<string>();
  private queueOrder: Map<string, number> | undefined;
  private reconciling = false;
  private reconcileAgain = false;

  private jobsSynced = false;
  private podsSynced = false;
  private volumeError: string | undefined = "not checked yet";
  private stopped = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly now: () => number;
  private readonly delay: (ms: number) => Promise<void>;
  private readonly intervals: ControllerIntervals;

  constructor(private readonly deps: ControllerDeps) {
    this.now = deps.now ?? Date.now;
    this.delay = deps.delay ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.intervals = { ...DEFAULT_INTERVALS, ...deps.intervals };
  }

  async start(): Promise<void> {
    const { jobInformer, podInformer } = this.deps;

    await this.loadMetas();
    await this.checkVolume();

    jobInformer.on(ADD, (job) => this.onJob(job));
    jobInformer.on(UPDATE, (job) => this.onJob(job));
    jobInformer.on(DELETE, (job) => this.onJobDeleted(job));
    podInformer.on(ADD, (pod) => this.onPod(pod));
    podInformer.on(UPDATE, (pod) => this.onPod(pod));
    podInformer.on(DELETE, (pod) => this.onPodDeleted(pod));

    this.keepRunning("jobs", jobInformer, () => {
      this.jobsSynced = true;
      void this.sweep();
    });
    this.keepRunning("pods", podInformer, () => {
      this.podsSynced = true;
    });

    this.every(this.intervals.leaseRenewMs, () => this.renewLease());
    this.every(this.intervals.reconcileMs, () => this.reconcile());
    // Sweep as often as the grace period allows, within 1 s and the configured interval.
    const graceMs = this.deps.config.orphanGraceSeconds * 1000;
    this.every(Math.max(1000, Math.min(this.intervals.sweepMs, graceMs)), () => this.sweep());
    this.every(this.intervals.volumeCheckMs, () => this.checkVolume());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.deps.lease.release();
    await Promise.allSettled([this.deps.jobInformer.stop(), this.deps.podInformer.stop()]);
  }

  // Reads: served from memory only.

  /** Reports what /readyz checks: the caches are synced and the volume takes writes. */
  readiness(): { ready: boolean; checks: Record<string, string> } {
    const checks: Record<string, string> = {
      jobInformer: this.jobsSynced ? "ok" : "not synced",
      podInformer: this.podsSynced ? "ok" : "not synced",
      volume: this.volumeError ?? "ok",
    };
    return { ready: Object.values(checks).every((c) => c === "ok"), checks };
  }

  getJob(id: string): JobDocument | undefined {
    const job = this.jobs.get(id);
    return job === undefined ? undefined : this.describe(id, job);
  }

  listJobs(options: ListOptions): { items: JobDocument[]; nextCursor: string | null } {
    const ids = this.sortedIds;
    // Newest first: walk down from the end, or from just below the cursor.
    const start = options.before === undefined ? ids.length : lowerBound(ids, options.before);
    const items: JobDocument[] = [];
    let lastId: string | undefined;
    let more = false;
    for (let index = start - 1; index >= 0; index--) {
      const id = ids[index]!;
      const doc = this.describe(id, this.jobs.get(id)!);
      if (options.status !== undefined && doc.status !== options.status) continue;
      if (items.length === options.limit) {
        more = true;
        break;
      }
      items.push(doc);
      lastId = id;
    }
    return { items, nextCursor: more && lastId !== undefined ? lastId : null };
  }

  /** Jobs waiting suspended for admission; uploads get 429 past MAX_QUEUED_JOBS. */
  queueLength(): number {
    return this.queued.size;
  }

  /** Counts the cached jobs by stage, for the thumbnailer_jobs gauge. */
  countByStage(): Record<string, number> {
    const counts: Record<string, number> = {
      queued: 0,
      pending: 0,
      running: 0,
      succeeded: 0,
      failed: 0,
    };
    for (const [id, job] of this.jobs) {
      const stage = this.describe(id, job).stage;
      counts[stage] = (counts[stage] ?? 0) + 1;
    }
    return counts;
  }

  /** Called by the upload handler with the Job the API server returned. */
  jobCreated(id: string, job: V1Job, meta: JobMeta): void {
    this.metas.set(id, meta);
    if (!this.jobs.has(id)) {
      insertSorted(this.sortedIds, id);
      this.jobs.set(id, slimJob(job));
      this.setQueued(id, isSuspended(job));
    }
    this.deps.metrics.jobsCreated.inc();
  }

  /** Marks a thumbnail that the volume no longer has, so the job reads as failed. */
  thumbnailMissing(id: string): void {
    this.results.set(id, "missing");
  }

  hasJob(id: string): boolean {
    return this.jobs.has(id);
  }

  private describe(id: string, job: V1Job): JobDocument {
    const pods = this.podsByJob.get(id);
    return describeJob(id, job, {
      meta: this.metas.get(id),
      result: this.results.get(id),
      pods: pods === undefined ? [] : [...pods.values()],
      queuePosition: this.queued.has(id) ? this.queuePosition(id) : undefined,
    });
  }

  private queuePosition(id: string): number | undefined {
    if (this.queueOrder === undefined) {
      const order = [...this.queued].sort();
      this.queueOrder = new Map(order.map((queuedId, index) => [queuedId, index + 1]));
    }
    return this.queueOrder.get(id);
  }

  // Informer events.

  private onJob(job: V1Job): void {
    const id = job.metadata?.labels?.[LABEL_JOB_ID];
    if (!isJobId(id) || job.metadata?.name !== jobName(id)) return;

    slimJob(job);
    if (!this.jobs.has(id)) insertSorted(this.sortedIds, id);
    this.jobs.set(id, job);
    if (!job.spec?.suspend) this.resuming.delete(id);
    this.setQueued(id, isSuspended(job));
    if (!this.metas.has(id)) void this.loadMeta(id);

    const state = jobFinishState(job);
    if (state !== undefined && !this.finishHandled.has(id)) {
      this.finishHandled.add(id);
      void this.onJobFinished(id, job, state);
    }
    void this.reconcile();
  }

  private onJobDeleted(job: V1Job): void {
    const id = job.metadata?.labels?.[LABEL_JOB_ID];
    if (!isJobId(id)) return;

    if (this.jobs.delete(id)) removeSorted(this.sortedIds, id);
    this.metas.delete(id);
    this.results.delete(id);
    this.finishHandled.delete(id);
    this.resuming.delete(id);
    this.podsByJob.delete(id);
    this.setQueued(id, false);
    this.deps.logger.info("job deleted", { jobId: id });

    // Every replica that observes the deletion removes the folder (removal is
    // idempotent), so a deletion observed while the Lease changes hands is not lost.
    void this.removeFolder(id, "job deleted");
    void this.reconcile();
  }

  private onPod(pod: V1Pod): void {
    const id = pod.metadata?.labels?.[LABEL_JOB_ID];
    const name = pod.metadata?.name;
    if (!isJobId(id) || name === undefined) return;
    slimPod(pod);
    let pods = this.podsByJob.get(id);
    if (pods === undefined) {
      pods = new Map();
      this.podsByJob.set(id, pods);
    }
    pods.set(name, pod);
  }

  private onPodDeleted(pod: V1Pod): void {
    const id = pod.metadata?.labels?.[LABEL_JOB_ID];
    const name = pod.metadata?.name;
    if (!isJobId(id) || name === undefined) return;
    const pods = this.podsByJob.get(id);
    pods?.delete(name);
    if (pods?.size === 0) this.podsByJob.delete(id);
  }

  private async onJobFinished(
    id: string,
    job: V1Job,
    state: "succeeded" | "failed",
  ): Promise<void> {
    const { files, logger, metrics, config, lease } = this.deps;
    // Jobs that finished before this process started were counted by its predecessor.
    const live = this.jobsSynced;

    let reason = "";
    if (state === "succeeded") {
      await this.loadResult(id);
      if (this.results.get(id) === "missing") {
        state = "failed";
        reason = "ThumbnailMissing";
      }
    } else {
      reason = failureError(job, [...(this.podsByJob.get(id)?.values() ?? [])]).reason;
    }
    if (!FAILURE_REASONS.includes(reason) && reason !== "") reason = "JobFailed";

    // Not only the Lease holder: a new replica that lists Jobs which finished
    // while no replica held the Lease must not leave their originals behind.
    if (!config.keepOriginals) {
      try {
        await files.removeOriginal(id);
      } catch (err) {
        logger.error("removing the original failed", {
          jobId: id,
          error: describeError(err as Error),
        });
      }
    }
    if (!live) return;

    const startedMs = job.status?.startTime ? new Date(job.status.startTime).getTime() : undefined;
    const createdMs = job.metadata?.creationTimestamp
      ? new Date(job.metadata.creationTimestamp).getTime()
      : undefined;
    const endMs = finishedAt(job)?.getTime();
    metrics.jobsFinished.inc({ status: state, reason });
    if (startedMs !== undefined && endMs !== undefined) {
      metrics.jobDuration.observe({ status: state }, Math.max(0, (endMs - startedMs) / 1000));
    }
    if (startedMs !== undefined && createdMs !== undefined && config.maxRunningJobs > 0) {
      metrics.jobQueue.observe(Math.max(0, (startedMs - createdMs) / 1000));
    }

    if (state === "succeeded") {
      logger.info("job succeeded", { jobId: id, attempts: job.status?.succeeded ?? 1 });
    } else {
      logger.info("job failed", { jobId: id, reason });
    }
    if (lease.isLeader()) {
      const note = state === "succeeded" ? "Thumbnail written" : `Thumbnail failed: ${reason}`;
      await this.deps.kube
        .createJobEvent(
          job,
          state === "succeeded" ? "Normal" : "Warning",
          state === "succeeded" ? "ThumbnailReady" : "ThumbnailFailed",
          note,
        )
        .catch((err: unknown) =>
          logger.warn("creating the Job event failed", { jobId: id, error: kubeErrorMessage(err) }),
        );
    }
  }

  // Volume.

  private async loadMetas(): Promise<void> {
    const ids = await this.deps.files.listIds();
    await Promise.all(ids.map((id) => this.loadMeta(id)));
  }

  private async loadMeta(id: string): Promise<void> {
    try {
      const meta = await this.fileReads.run(() => this.deps.files.readMeta(id));
      if (meta !== undefined) this.metas.set(id, meta);
    } catch (err) {
      this.deps.logger.warn("reading the job metadata failed", {
        jobId: id,
        error: describeError(err as Error),
      });
    }
  }

  private async loadResult(id: string): Promise<void> {
    const { files, logger } = this.deps;
    try {
      const [result, hasThumbnail] = await this.fileReads.run(() =>
        Promise.all([files.readResult(id), files.hasThumbnail(id)]),
      );
      this.results.set(id, result !== undefined && hasThumbnail ? result : "missing");
    } catch (err) {
      logger.warn("reading the runner result failed", {
        jobId: id,
        error: describeError(err as Error),
      });
      this.results.set(id, "missing");
    }
  }

  private async removeFolder(id: string, cause: string): Promise<void> {
    try {
      await this.deps.files.remove(id);
      this.deps.logger.info("job folder removed", { jobId: id, cause });
    } catch (err) {
      this.deps.logger.error("removing the job folder failed", {
        jobId: id,
        error: describeError(err as Error),
      });
    }
  }

  private async checkVolume(): Promise<void> {
    const { files, metrics } = this.deps;
    try {
      await files.checkWritable();
      metrics.volumeFreeBytes.set(await files.freeBytes());
      this.volumeError = undefined;
    } catch (err) {
      const message = `volume not writable: ${describeError(err as Error)}`;
      if (this.volumeError !== message) {
        this.deps.logger.error("volume check failed", { dataDir: files.dataDir, error: message });
      }
      this.volumeError = message;
    }
  }

  /**
   * Removes folders without a Job: uploads whose Job was never made, and
   * Jobs deleted while no replica was watching. The grace period leaves
   * uploads in flight alone.
   */
  async sweep(): Promise<void> {
    if (!this.jobsSynced || !this.deps.lease.isLeader()) return;
    const graceMs = this.deps.config.orphanGraceSeconds * 1000;
    for (const id of await this.deps.files.listIds()) {
      if (this.jobs.has(id)) continue;
      const modifiedMs = await this.deps.files.modifiedAtMs(id);
      if (modifiedMs !== undefined && this.now() - modifiedMs > graceMs) {
        await this.removeFolder(id, "no Job after the grace period");
      }
    }
  }

  // Admission.

  private setQueued(id: string, queued: boolean): void {
    if (queued === this.queued.has(id)) return;
    if (queued) this.queued.add(id);
    else this.queued.delete(id);
    this.queueOrder = undefined;
  }

  /** Resumes the oldest suspended Jobs while fewer than MAX_RUNNING_JOBS run. */
  async reconcile(): Promise<void> {
    const { config, lease } = this.deps;
    if (this.stopped || !this.jobsSynced || !lease.isLeader() || config.maxRunningJobs === 0)
      return;
    if (this.reconciling) {
      this.reconcileAgain = true;
      return;
    }
    this.reconciling = true;
    try {
      do {
        this.reconcileAgain = false;
        await this.resumeQueued();
      } while (this.reconcileAgain && !this.stopped);
    } finally {
      this.reconciling = false;
    }
  }

  private async resumeQueued(): Promise<void> {
    const { config, kube, logger } = this.deps;

    let running = 0;
    for (const [id, job] of this.jobs) {
      if (jobFinishState(job) === undefined && !this.queued.has(id)) running += 1;
    }
    const queued = [...this.queued].filter((id) => !this.resuming.has(id)).sort();
    running += this.resuming.size;

    const free = config.maxRunningJobs - running;
    for (const id of queued.slice(0, Math.max(0, free))) {
      this.resuming.add(id);
      try {
        await kube.resumeJob(jobName(id));
        logger.info("job resumed", { jobId: id });
      } catch (err) {
        this.resuming.delete(id);
        const { kind } = classifyKubeError(err);
        if (kind === "notFound") continue; // deleted meanwhile
        logger.warn("resuming the job failed", { jobId: id, error: kubeErrorMessage(err) });
        return; // retried at the next tick
      }
    }
  }

  private async renewLease(): Promise<void> {
    const wasLeader = this.deps.lease.isLeader();
    const leader = await this.deps.lease.tryAcquireOrRenew();
    if (leader && !wasLeader) {
      await this.reconcile();
      await this.sweep();
    }
  }

  // Plumbing.

  /** Starts an informer and restarts it with backoff whenever it reports an error. */
  private keepRunning(
    name: string,
    informer: JobInformer | PodInformer,
    onSynced: () => void,
  ): void {
    let retryMs = INFORMER_RETRY_MIN_MS;
    const startOnce = async (): Promise<void> => {
      if (this.stopped) return;
      let failed = false;
      const onError = (err: unknown): void => {
        failed = true;
        informer.off(ERROR, onError);
        this.deps.logger.warn("informer failed; restarting", {
          informer: name,
          retryMs,
          code: classifyKubeError(err).code,
          error: kubeErrorMessage(err),
        });
        const wait = retryMs;
        retryMs = Math.min(retryMs * 2, INFORMER_RETRY_MAX_MS);
        void this.delay(wait).then(startOnce);
      };
      informer.on(ERROR, onError);
      await informer.start();
      if (!failed) {
        retryMs = INFORMER_RETRY_MIN_MS;
        onSynced();
      }
    };
    void startOnce();
  }

  /** Runs a task now and every `ms`, skipping a tick while the previous run is still going. */
  private every(ms: number, task: () => Promise<void>): void {
    let running = false;
    const run = (): void => {
      if (running || this.stopped) return;
      running = true;
      task()
        .catch((err: unknown) =>
          this.deps.logger.error("periodic task failed", { error: describeError(err as Error) }),
        )
        .finally(() => {
          running = false;
        });
    };
    const timer = setInterval(run, ms);
    timer.unref();
    this.timers.push(timer);
    run();
  }
}

/** Returns the index of the first element not less than `value` in a sorted array. */
function lowerBound(sorted: string[], value: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

function insertSorted(sorted: string[], value: string): void {
  // New ids are the newest, so this is an append in the common case.
  if (sorted.length === 0 || sorted[sorted.length - 1]! < value) {
    sorted.push(value);
    return;
  }
  sorted.splice(lowerBound(sorted, value), 0, value);
}

function removeSorted(sorted: string[], value: string): void {
  const index = lowerBound(sorted, value);
  if (sorted[index] === value) sorted.splice(index, 1);
}
