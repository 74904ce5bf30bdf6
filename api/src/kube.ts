import {
  ApiException,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Job,
  type V1Lease,
} from "@kubernetes/client-node";

import type { Metrics } from "./metrics.js";

export type KubeErrorKind =
  "notFound" | "conflict" | "invalid" | "forbidden" | "unavailable" | "other";

export interface KubeErrorInfo {
  kind: KubeErrorKind;
  /** The HTTP status, or a short word when no response came back. */
  code: string;
}

/**
 * Sorts an error from the Kubernetes API: not found and conflict are
 * expected races, invalid and forbidden are configuration faults that a
 * retry cannot fix, and unavailable (no connection, 429, 5xx) is transient.
 */
export function classifyKubeError(err: unknown): KubeErrorInfo {
  if (err instanceof ApiException) {
    const code = String(err.code);
    if (err.code === 404) return { kind: "notFound", code };
    if (err.code === 409) return { kind: "conflict", code };
    if (err.code === 400 || err.code === 422) return { kind: "invalid", code };
    if (err.code === 401 || err.code === 403) return { kind: "forbidden", code };
    if (err.code === 429 || err.code >= 500) return { kind: "unavailable", code };
    return { kind: "other", code };
  }
  // fetch failures (refused, reset, DNS, TLS, timeout) carry no status.
  return { kind: "unavailable", code: "network" };
}

/** Returns the message of the Kubernetes Status in an ApiException, when there is one. */
export function kubeErrorMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as unknown;
    if (typeof body === "string") {
      try {
        const status = JSON.parse(body) as { message?: string };
        if (status.message) return status.message;
      } catch {
        return body.slice(0, 300);
      }
    }
    if (typeof body === "object" && body !== null && "message" in body) {
      return String((body as { message: unknown }).message);
    }
    return `HTTP ${err.code}`;
  }
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
    return `${err.message}${cause}`;
  }
  return String(err);
}

/**
 * The Kubernetes calls the API makes, each counted in kube_api_errors_total when it fails.
 *
 * NOTE: @kubernetes/client-node 2.0.1 builds a new connection pool for every
 * call (KubeConfig.createAgent, kubernetes-client/javascript issue 2893), so
 * each Job creation opens a new TLS connection to the API server. Reusing one
 * needs a client release that caches its agent.
 */
export class KubeClient {
  readonly batch: BatchV1Api;
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;

  constructor(
    readonly kubeConfig: KubeConfig,
    readonly namespace: string,
    private readonly metrics: Metrics,
  ) {
    this.batch = kubeConfig.makeApiClient(BatchV1Api);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.coordination = kubeConfig.makeApiClient(CoordinationV1Api);
  }

  async createJob(job: V1Job, requestId?: string): Promise<V1Job> {
    return this.counted("create", "jobs", () =>
      this.batch.createNamespacedJob(
        { namespace: this.namespace, body: job },
        requestHeader(requestId),
      ),
    );
  }

  async deleteJob(name: string, requestId?: string): Promise<void> {
    await this.counted("delete", "jobs", () =>
      this.batch.deleteNamespacedJob(
        { name, namespace: this.namespace, propagationPolicy: "Background" },
        requestHeader(requestId),
      ),
    );
  }

  async resumeJob(name: string): Promise<V1Job> {
    return this.counted("patch", "jobs", () =>
      this.batch.patchNamespacedJob(
        { name, namespace: this.namespace, body: { spec: { suspend: false } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      ),
    );
  }

  async readLease(name: string): Promise<V1Lease> {
    return this.counted("get", "leases", () =>
      this.coordination.readNamespacedLease({ name, namespace: this.namespace }),
    );
  }

  async createLease(lease: V1Lease): Promise<V1Lease> {
    return this.counted("create", "leases", () =>
      this.coordination.createNamespacedLease({ namespace: this.namespace, body: lease }),
    );
  }

  async replaceLease(lease: V1Lease): Promise<V1Lease> {
    return this.counted("update", "leases", () =>
      this.coordination.replaceNamespacedLease({
        name: lease.metadata!.name!,
        namespace: this.namespace,
        body: lease,
      }),
    );
  }

  async createJobEvent(
    job: V1Job,
    type: "Normal" | "Warning",
    reason: string,
    note: string,
  ): Promise<void> {
    const now = new Date();
    await this.counted("create", "events", () =>
      this.core.createNamespacedEvent({
        namespace: this.namespace,
        body: {
          metadata: {
            generateName: `${job.metadata?.name ?? "thumb"}.`,
            namespace: this.namespace,
          },
          involvedObject: {
            apiVersion: "batch/v1",
            kind: "Job",
            name: job.metadata?.name,
            namespace: this.namespace,
            uid: job.metadata?.uid,
          },
          type,
          reason,
          message: note,
          source: { component: "thumbnailer-api" },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      }),
    );
  }

  private async counted<T>(verb: string, resource: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      this.metrics.kubeApiErrors.inc({ verb, resource, code: classifyKubeError(err).code });
      throw err;
    }
  }
}

function requestHeader(requestId: string | undefined) {
  return requestId === undefined ? undefined : setHeaderOptions("X-Request-Id", requestId);
}

/** Loads the in-cluster configuration inside a pod, else the current kubeconfig context. */
export function loadKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  if (kubeConfig.getCurrentCluster() === null) {
    throw new Error(
      "no Kubernetes cluster configured: run inside a pod or set KUBECONFIG to a kubeconfig file",
    );
  }
  return kubeConfig;
}
