/**
 * Jobs and pods shaped like the ones a Kubernetes 1.33 API server returns for
 * Thumbnailer: the fields the API server and the Job controller fill in, and
 * managedFields, which the informer keeps in its cache too. The managedFields
 * entries are built from the objects' own fields, so their size is close to
 * the real ones without being copied from any cluster.
 */
import { randomBytes, randomUUID } from "node:crypto";

import type { V1Job, V1ManagedFieldsEntry, V1Pod } from "@kubernetes/client-node";

import { buildJob, jobName } from "../../api/src/jobTemplate.js";

export type Outcome = "succeeded" | "failed" | "running";

/** Builds the FieldsV1 set of an object: every field as "f:name", list items with a name as "k:{...}". */
function fieldsOf(value: unknown): Record<string, unknown> {
  if (Array.isArray(value)) {
    const set: Record<string, unknown> = {};
    for (const item of value) {
      if (typeof item === "object" && item !== null && "name" in item) {
        set[`k:{"name":${JSON.stringify((item as { name: string }).name)}}`] = fieldsOf(item);
      } else if (typeof item !== "object") {
        set[`v:${JSON.stringify(item)}`] = {};
      }
    }
    return set;
  }
  if (typeof value === "object" && value !== null && !(value instanceof Date)) {
    const set: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) {
      set[`f:${key}`] = fieldsOf(field);
    }
    return set;
  }
  return {};
}

function managedFields(
  manager: string,
  time: Date,
  fields: unknown,
  subresource?: string,
): V1ManagedFieldsEntry {
  return {
    manager,
    operation: "Update",
    apiVersion: "v1",
    time,
    fieldsType: "FieldsV1",
    fieldsV1: fieldsOf(fields),
    ...(subresource !== undefined && { subresource }),
  };
}

function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}

/** A Job as the API server stores it after the API created it and the Job controller reported `outcome`. */
export function realisticJob(
  template: V1Job,
  stamp: {
    id: string;
    namespace: string;
    releaseName: string;
    createdAt: Date;
    resourceVersion: number;
  },
  outcome: Outcome,
): V1Job {
  const job = buildJob(template, { ...stamp, fit: "contain", suspend: false });
  const name = jobName(stamp.id);
  const uid = randomUUID();
  const started = addSeconds(stamp.createdAt, 2);
  const finished = addSeconds(stamp.createdAt, 6);
  const spec = job.spec!;
  const podSpec = spec.template.spec!;

  spec.completions = 1;
  spec.parallelism = 1;
  spec.completionMode = "NonIndexed";
  spec.manualSelector = false;
  spec.podReplacementPolicy = "TerminatingOrFailed";
  spec.selector = { matchLabels: { "batch.kubernetes.io/controller-uid": uid } };
  spec.template.metadata!.labels = {
    ...spec.template.metadata!.labels,
    "batch.kubernetes.io/controller-uid": uid,
    "batch.kubernetes.io/job-name": name,
    "controller-uid": uid,
    "job-name": name,
  };
  podSpec.dnsPolicy = "ClusterFirst";
  podSpec.schedulerName = "default-scheduler";
  podSpec.terminationGracePeriodSeconds = 30;
  for (const container of podSpec.containers) {
    container.terminationMessagePath = "/dev/termination-log";
  }

  if (outcome === "succeeded") {
    job.status = {
      startTime: started,
      completionTime: finished,
      succeeded: 1,
      ready: 0,
      terminating: 0,
      uncountedTerminatedPods: {},
      conditions: [
        {
          type: "SuccessCriteriaMet",
          status: "True",
          reason: "CompletionsReached",
          message: "Reached expected number of succeeded pods",
          lastProbeTime: finished,
          lastTransitionTime: finished,
        },
        {
          type: "Complete",
          status: "True",
          reason: "CompletionsReached",
          message: "Reached expected number of succeeded pods",
          lastProbeTime: finished,
          lastTransitionTime: finished,
        },
      ],
    };
  } else if (outcome === "failed") {
    job.status = {
      startTime: started,
      failed: 1,
      ready: 0,
      terminating: 0,
      uncountedTerminatedPods: {},
      conditions: [
        {
          type: "FailureTarget",
          status: "True",
          reason: "PodFailurePolicy",
          message: `Container runner for pod thumbnails/${name}-x failed with exit code 2 matching FailJob rule at index 0`,
          lastProbeTime: finished,
          lastTransitionTime: finished,
        },
        {
          type: "Failed",
          status: "True",
          reason: "PodFailurePolicy",
          message: `Container runner for pod thumbnails/${name}-x failed with exit code 2 matching FailJob rule at index 0`,
          lastProbeTime: finished,
          lastTransitionTime: finished,
        },
      ],
    };
  } else {
    job.status = {
      startTime: started,
      active: 1,
      ready: 1,
      terminating: 0,
      uncountedTerminatedPods: {},
    };
  }

  job.metadata = {
    ...job.metadata,
    uid,
    resourceVersion: String(stamp.resourceVersion),
    generation: 1,
    creationTimestamp: stamp.createdAt,
    annotations: { "batch.kubernetes.io/job-tracking": "" },
  };
  job.metadata.managedFields = [
    managedFields("thumbnailer-api", stamp.createdAt, {
      metadata: { labels: job.metadata.labels },
      spec,
    }),
    managedFields("kube-controller-manager", finished, { status: job.status }, "status"),
  ];
  return job;
}

/** The pod of a Job, as the kubelet last reported it for `outcome`. */
export function realisticPod(job: V1Job, outcome: Outcome, resourceVersion: number): V1Pod {
  const name = job.metadata!.name!;
  const created = job.metadata!.creationTimestamp!;
  const started = addSeconds(created, 2);
  const finished = addSeconds(created, 6);
  const spec = structuredClone(job.spec!.template.spec!);
  spec.nodeName = "worker-1";
  spec.priority = 0;
  spec.preemptionPolicy = "PreemptLowerPriority";
  spec.serviceAccount = spec.serviceAccountName;
  spec.tolerations = [
    {
      key: "node.kubernetes.io/not-ready",
      operator: "Exists",
      effect: "NoExecute",
      tolerationSeconds: 300,
    },
    {
      key: "node.kubernetes.io/unreachable",
      operator: "Exists",
      effect: "NoExecute",
      tolerationSeconds: 300,
    },
  ];
  const containerId = `containerd://${randomBytes(32).toString("hex")}`;
  const runner = spec.containers[0]!;

  const terminated =
    outcome === "succeeded"
      ? {
          exitCode: 0,
          reason: "Completed",
          startedAt: started,
          finishedAt: finished,
          containerID: containerId,
        }
      : outcome === "failed"
        ? {
            exitCode: 2,
            reason: "Error",
            message: JSON.stringify({
              reason: "TooManyFrames",
              message:
                "The animation has 3000 frames, over the limit of 500; upload an animation with fewer frames.",
            }),
            startedAt: started,
            finishedAt: finished,
            containerID: containerId,
          }
        : undefined;
  const podIsDone = outcome !== "running";
  const condition = (type: string, status: boolean, at: Date, reason?: string) => ({
    type,
    status: status ? "True" : "False",
    lastProbeTime: undefined,
    lastTransitionTime: at,
    ...(reason !== undefined && { reason }),
  });

  const pod: V1Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `${name}-${randomBytes(3).toString("hex").slice(0, 5)}`,
      generateName: `${name}-`,
      namespace: job.metadata!.namespace!,
      uid: randomUUID(),
      resourceVersion: String(resourceVersion),
      creationTimestamp: created,
      labels: { ...job.spec!.template.metadata!.labels },
      ownerReferences: [
        {
          apiVersion: "batch/v1",
          kind: "Job",
          name,
          uid: job.metadata!.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec,
    status: {
      phase: outcome === "succeeded" ? "Succeeded" : outcome === "failed" ? "Failed" : "Running",
      conditions: [
        condition("PodReadyToStartContainers", !podIsDone, started),
        condition("Initialized", true, created, podIsDone ? "PodCompleted" : undefined),
        condition("Ready", !podIsDone, finished, podIsDone ? "PodCompleted" : undefined),
        condition("ContainersReady", !podIsDone, finished, podIsDone ? "PodCompleted" : undefined),
        condition("PodScheduled", true, created),
      ],
      hostIP: "172.18.0.2",
      hostIPs: [{ ip: "172.18.0.2" }],
      podIP: "10.244.0.17",
      podIPs: [{ ip: "10.244.0.17" }],
      startTime: created,
      qosClass: "Burstable",
      containerStatuses: [
        {
          name: runner.name,
          image: runner.image!,
          imageID: `docker.io/library/${runner.image!}@sha256:${randomBytes(32).toString("hex")}`,
          containerID: containerId,
          ready: !podIsDone,
          started: !podIsDone,
          restartCount: 0,
          state: terminated ? { terminated } : { running: { startedAt: started } },
          lastState: {},
        },
      ],
    },
  };
  pod.metadata!.managedFields = [
    managedFields("kube-controller-manager", created, { metadata: pod.metadata, spec }),
    managedFields("kubelet", finished, { status: pod.status }, "status"),
  ];
  return pod;
}
