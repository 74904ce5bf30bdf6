import type { KubernetesListObject, KubernetesObject, V1Job, V1Pod } from "@kubernetes/client-node";

/** Page size of the informers' list requests, so no single response carries every Job. */
export const LIST_PAGE_SIZE = 500;

/**
 * Drops from a Job the parts the cache never reads (managedFields,
 * annotations and the pod template), in place, and returns it. The
 * informer keeps the same object, so its copy shrinks too.
 */
export function slimJob(job: V1Job): V1Job {
  if (job.metadata) {
    delete job.metadata.managedFields;
    delete job.metadata.annotations;
  }
  if (job.spec) {
    job.spec = { suspend: job.spec.suspend, template: {} };
  }
  return job;
}

/** Keeps of a runner Pod only its metadata and the status the API reads. */
export function slimPod(pod: V1Pod): V1Pod {
  if (pod.metadata) {
    delete pod.metadata.managedFields;
    delete pod.metadata.annotations;
  }
  delete pod.spec;
  if (pod.status) {
    pod.status = { phase: pod.status.phase, containerStatuses: pod.status.containerStatuses };
  }
  return pod;
}

/**
 * Lists every page of a collection, slimming each item as it arrives, and
 * returns one list with the first page's resourceVersion: the pages of one
 * list share that snapshot.
 */
export async function listAllPages<T extends KubernetesObject>(
  listPage: (continueToken: string | undefined) => Promise<KubernetesListObject<T>>,
  slim: (item: T) => T,
): Promise<KubernetesListObject<T>> {
  const first = await listPage(undefined);
  const items = first.items.map(slim);
  let continueToken = first.metadata?._continue;
  while (continueToken) {
    const page = await listPage(continueToken);
    items.push(...page.items.map(slim));
    continueToken = page.metadata?._continue;
  }
  return { ...first, items, metadata: { ...first.metadata, _continue: undefined } };
}
