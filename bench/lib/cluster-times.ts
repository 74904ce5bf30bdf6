/**
 * Moments in the life of the Jobs and pods of one namespace, all on this
 * machine's clock, in milliseconds since the epoch. Informers give the moment
 * the bench saw each change, and crictl gives what the node recorded, in
 * nanoseconds: when the kubelet first saw each pod, and when containerd
 * created its sandbox and created, started and stopped its container. The API
 * server's own timestamps have a resolution of one second, too coarse for
 * steps that take less; they are kept for reference only.
 *
 * crictl reads the node's containerd socket, so this works only where the
 * bench runs on the node itself (the one-node cluster of `make cluster-up`),
 * as root.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

import {
  BatchV1Api,
  CoreV1Api,
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ObjectCache,
  type V1Job,
  type V1Pod,
} from "@kubernetes/client-node";

const execFileAsync = promisify(execFile);

/** Moments of one Job, as the bench saw them. */
export interface JobMoments {
  /** First seen: about when the Job was created. */
  seenMs: number;
  /** First seen with `spec.suspend` false: resumed, or created unsuspended. */
  resumedMs?: number;
  /** First seen with the condition SuccessCriteriaMet or Complete true. */
  succeededMs?: number;
  /** First seen with the condition FailureTarget or Failed true. */
  failedMs?: number;
  /** The API server's timestamps, to the second. */
  creationTimestamp?: string;
  startTime?: string;
  completionTime?: string;
}

/** Moments of one pod, as the bench saw them. */
export interface PodMoments {
  /** First seen: about when the pod object was created. */
  seenMs: number;
  /** The Job that owns the pod (its `batch.kubernetes.io/job-name` label). */
  jobName?: string;
  /** First seen with the condition PodScheduled true: bound to the node. */
  scheduledMs?: number;
  /** Seen with PodScheduled false for the reason Unschedulable (no node had room) at least once. */
  unschedulable?: boolean;
  /** First seen in the phase Succeeded or Failed. */
  finishedMs?: number;
  phase?: string;
  /** The ID of the container named by ClusterWatch's containerName, without "containerd://". */
  containerId?: string;
  creationTimestamp?: string;
}

/** Moments of one pod, as the node recorded them (from crictl). */
export interface NodeMoments {
  /** When the kubelet first received the pod (its `kubernetes.io/config.seen` annotation). */
  kubeletSeenMs: number;
  /** When containerd created the pod's sandbox. */
  sandboxCreatedMs: number;
  containerCreatedMs: number;
  containerStartedMs: number;
  containerFinishedMs: number;
  exitCode: number;
}

function conditionTrue(
  conditions: readonly { type: string; status: string }[] | undefined,
  types: readonly string[],
): boolean {
  return (conditions ?? []).some(
    (condition) => types.includes(condition.type) && condition.status === "True",
  );
}

function isoOrUndefined(value: Date | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value instanceof Date ? value.toISOString() : String(value);
}

/**
 * Parses an RFC 3339 time with up to nanoseconds ("2026-12-04T21:30:18.330960055Z")
 * into milliseconds since the epoch, keeping the fraction below a millisecond.
 */
export function parseNanoTime(text: string): number {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (match === null) throw new Error(`invalid RFC 3339 time "${text}"`);
  const wholeSecondsMs = Date.parse(`${match[1]}${match[3]}`);
  const fractionMs = Number(`0.${match[2] ?? "0"}`) * 1000;
  return wholeSecondsMs + fractionMs;
}

/** Converts a count of nanoseconds since the epoch, as a decimal string, into milliseconds. */
function nanosecondsToMs(text: string): number {
  return Number(BigInt(text) / 1000n) / 1000;
}

/**
 * Informers on the Jobs and pods of one namespace that record when each
 * change was first seen. An informer that fails is started again after a
 * second; `restarts` counts those, because a change made during the gap is
 * seen late.
 */
export class ClusterWatch {
  readonly jobs = new Map<string, JobMoments>();
  readonly pods = new Map<string, PodMoments>();
  restarts = 0;
  private readonly informers: (Informer<KubernetesObject> & ObjectCache<KubernetesObject>)[] = [];
  private stopped = false;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly namespace: string,
    private readonly containerName: string,
  ) {}

  async start(): Promise<void> {
    const batch = this.kubeConfig.makeApiClient(BatchV1Api);
    const core = this.kubeConfig.makeApiClient(CoreV1Api);
    const jobInformer = makeInformer<V1Job>(
      this.kubeConfig,
      `/apis/batch/v1/namespaces/${this.namespace}/jobs`,
      () => batch.listNamespacedJob({ namespace: this.namespace }),
    );
    const podInformer = makeInformer<V1Pod>(
      this.kubeConfig,
      `/api/v1/namespaces/${this.namespace}/pods`,
      () => core.listNamespacedPod({ namespace: this.namespace }),
    );
    jobInformer.on("add", (job) => this.onJob(job));
    jobInformer.on("update", (job) => this.onJob(job));
    podInformer.on("add", (pod) => this.onPod(pod));
    podInformer.on("update", (pod) => this.onPod(pod));
    for (const informer of [jobInformer, podInformer] as const) {
      informer.on("error", () => {
        if (this.stopped) return;
        this.restarts += 1;
        setTimeout(() => void informer.start().catch(() => undefined), 1000);
      });
      this.informers.push(informer as unknown as (typeof this.informers)[number]);
    }
    await Promise.all([jobInformer.start(), podInformer.start()]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.informers.map((informer) => informer.stop()));
  }

  /** Returns the pods of a Job, oldest first. */
  podsOfJob(jobName: string): [string, PodMoments][] {
    return [...this.pods.entries()]
      .filter(([, pod]) => pod.jobName === jobName)
      .sort(([, a], [, b]) => a.seenMs - b.seenMs);
  }

  private onJob(job: V1Job): void {
    const name = job.metadata?.name;
    if (name === undefined) return;
    const now = Date.now();
    let moments = this.jobs.get(name);
    if (moments === undefined) {
      moments = { seenMs: now };
      this.jobs.set(name, moments);
    }
    if (moments.resumedMs === undefined && job.spec?.suspend !== true) moments.resumedMs = now;
    const conditions = job.status?.conditions;
    if (
      moments.succeededMs === undefined &&
      conditionTrue(conditions, ["SuccessCriteriaMet", "Complete"])
    ) {
      moments.succeededMs = now;
    }
    if (moments.failedMs === undefined && conditionTrue(conditions, ["FailureTarget", "Failed"])) {
      moments.failedMs = now;
    }
    moments.creationTimestamp = isoOrUndefined(job.metadata?.creationTimestamp);
    moments.startTime = isoOrUndefined(job.status?.startTime);
    moments.completionTime = isoOrUndefined(job.status?.completionTime);
  }

  private onPod(pod: V1Pod): void {
    const name = pod.metadata?.name;
    if (name === undefined) return;
    const now = Date.now();
    let moments = this.pods.get(name);
    if (moments === undefined) {
      moments = { seenMs: now, jobName: pod.metadata?.labels?.["batch.kubernetes.io/job-name"] };
      this.pods.set(name, moments);
    }
    if (
      moments.scheduledMs === undefined &&
      conditionTrue(pod.status?.conditions, ["PodScheduled"])
    ) {
      moments.scheduledMs = now;
    }
    const scheduled = pod.status?.conditions?.find(
      (condition) => condition.type === "PodScheduled",
    );
    if (scheduled?.status === "False" && scheduled.reason === "Unschedulable") {
      moments.unschedulable = true;
    }

    const phase = pod.status?.phase;
    moments.phase = phase;
    if (moments.finishedMs === undefined && (phase === "Succeeded" || phase === "Failed")) {
      moments.finishedMs = now;
    }
    const status = pod.status?.containerStatuses?.find(
      (container) => container.name === this.containerName,
    );
    if (status?.containerID) moments.containerId = status.containerID.replace(/^[a-z]+:\/\//, "");
    moments.creationTimestamp = isoOrUndefined(pod.metadata?.creationTimestamp);
  }
}

/** crictl on the node's containerd socket. */
export class NodeRuntime {
  constructor(
    private readonly crictl: string,
    private readonly socket: string,
  ) {}

  private async crictlJson<T>(subcommand: string, ...args: string[]): Promise<T> {
    const { stdout } = await execFileAsync(
      this.crictl,
      ["--runtime-endpoint", `unix://${this.socket}`, subcommand, "--output", "json", ...args],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    return JSON.parse(stdout) as T;
  }

  /**
   * Reads the sandbox and the container of one pod, which the node keeps
   * only until the pod is deleted.
   */
  async podMoments(namespace: string, podName: string, containerId: string): Promise<NodeMoments> {
    const sandboxes = await this.crictlJson<{
      items: {
        metadata: { name: string };
        createdAt: string;
        annotations?: Record<string, string>;
      }[];
    }>("pods", "--namespace", namespace, "--name", `^${podName}$`);
    const sandbox = sandboxes.items.find((item) => item.metadata.name === podName);
    if (sandbox === undefined) throw new Error(`crictl lists no sandbox for pod ${podName}`);
    const seen = sandbox.annotations?.["kubernetes.io/config.seen"];
    if (seen === undefined) {
      throw new Error(`the sandbox of pod ${podName} has no kubernetes.io/config.seen annotation`);
    }

    const container = await this.crictlJson<{
      status: {
        createdAt: string;
        startedAt: string;
        finishedAt: string;
        exitCode: number;
      };
    }>("inspect", containerId);
    return {
      kubeletSeenMs: parseNanoTime(seen),
      sandboxCreatedMs: nanosecondsToMs(sandbox.createdAt),
      containerCreatedMs: parseNanoTime(container.status.createdAt),
      containerStartedMs: parseNanoTime(container.status.startedAt),
      containerFinishedMs: parseNanoTime(container.status.finishedAt),
      exitCode: container.status.exitCode,
    };
  }
}
