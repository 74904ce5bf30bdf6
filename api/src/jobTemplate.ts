import { readFile } from "node:fs/promises";

import type { V1Container, V1Job } from "@kubernetes/client-node";
import { parse } from "yaml";

/** Name of the container in the runner Job template that runs the runner. */
export const RUNNER_CONTAINER_NAME = "runner";

/** Mount path of the job folder in the runner pod. */
export const JOB_MOUNT_PATH = "/job";

export const LABEL_JOB_ID = "thumbnailer.cogent.co.jp/job-id";

export type Fit = "contain" | "cover" | "fill";

export interface JobStamp {
  id: string;
  namespace: string;
  releaseName: string;
  fit: Fit;
  suspend: boolean;
}

/** Reads and checks the runner Job template file that the chart renders. */
export async function loadRunnerJobTemplate(path: string): Promise<V1Job> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new Error(`cannot read the runner Job template ${path}`, { cause: err });
  }
  try {
    return parseRunnerJobTemplate(text);
  } catch (err) {
    throw new Error(`invalid runner Job template ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * Parses the runner Job template and checks the parts the API stamps into:
 * a batch/v1 Job with one container named "runner" that mounts /job.
 */
export function parseRunnerJobTemplate(text: string): V1Job {
  const job = parse(text) as V1Job | null;
  if (job === null || typeof job !== "object" || Array.isArray(job)) {
    throw new Error("the template is not a YAML object");
  }
  if (job.apiVersion !== "batch/v1" || job.kind !== "Job") {
    throw new Error(
      `expected apiVersion batch/v1 and kind Job, got ${String(job.apiVersion)} ${String(job.kind)}`,
    );
  }

  const podSpec = job.spec?.template?.spec;
  if (podSpec === undefined) {
    throw new Error("spec.template.spec is missing");
  }
  if (podSpec.restartPolicy !== "Never") {
    throw new Error(
      `spec.template.spec.restartPolicy must be Never, got ${String(podSpec.restartPolicy)}`,
    );
  }

  const runners = (podSpec.containers ?? []).filter((c) => c.name === RUNNER_CONTAINER_NAME);
  if (runners.length !== 1) {
    throw new Error(
      `expected one container named "${RUNNER_CONTAINER_NAME}", found ${runners.length}`,
    );
  }
  const runner = runners[0] as V1Container;
  if (!runner.image) {
    throw new Error(`container "${RUNNER_CONTAINER_NAME}" has no image`);
  }

  const mounts = (runner.volumeMounts ?? []).filter((m) => m.mountPath === JOB_MOUNT_PATH);
  if (mounts.length !== 1) {
    throw new Error(
      `container "${RUNNER_CONTAINER_NAME}" must mount one volume at ${JOB_MOUNT_PATH}`,
    );
  }
  const volumeName = mounts[0]?.name;
  if (!(podSpec.volumes ?? []).some((v) => v.name === volumeName)) {
    throw new Error(
      `the volume "${String(volumeName)}" mounted at ${JOB_MOUNT_PATH} is not defined`,
    );
  }
  return job;
}

/** Returns the labels that identify one job's Job and pods. */
export function jobLabels(releaseName: string, id: string): Record<string, string> {
  return {
    app: "thumbnailer",
    "app.kubernetes.io/name": "thumbnailer",
    "app.kubernetes.io/instance": releaseName,
    "app.kubernetes.io/component": "runner",
    [LABEL_JOB_ID]: id,
  };
}

/** Returns the label selector of every runner Job and pod of one release. */
export function runnerSelector(releaseName: string): string {
  return `app.kubernetes.io/instance=${releaseName},app.kubernetes.io/component=runner`;
}

export function jobName(id: string): string {
  return `thumb-${id}`;
}

/**
 * Builds the Job for one upload from the template. Pure: the template is
 * deep-copied and only the name, namespace, labels, subPath, suspend and the
 * --fit argument are set.
 */
export function buildJob(template: V1Job, stamp: JobStamp): V1Job {
  const job = structuredClone(template);
  const labels = jobLabels(stamp.releaseName, stamp.id);

  job.metadata = {
    ...job.metadata,
    name: jobName(stamp.id),
    namespace: stamp.namespace,
    labels: { ...job.metadata?.labels, ...labels },
  };
  delete job.metadata.generateName;
  delete job.metadata.resourceVersion;
  delete job.metadata.uid;

  const spec = job.spec!;
  spec.suspend = stamp.suspend;
  spec.template.metadata = {
    ...spec.template.metadata,
    labels: { ...spec.template.metadata?.labels, ...labels },
  };

  const runner = spec.template.spec!.containers.find((c) => c.name === RUNNER_CONTAINER_NAME)!;
  runner.args = [
    ...(runner.args ?? []).filter((a) => !a.startsWith("--fit")),
    `--fit=${stamp.fit}`,
  ];
  for (const mount of runner.volumeMounts ?? []) {
    if (mount.mountPath === JOB_MOUNT_PATH) {
      mount.subPath = `jobs/${stamp.id}`;
    }
  }
  return job;
}
