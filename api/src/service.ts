import type { KubeConfig } from "@kubernetes/client-node";
import {
  BatchV1Api,
  CoreV1Api,
  makeInformer,
  type V1Job,
  type V1Pod,
} from "@kubernetes/client-node";
import type { Express } from "express";

import { createApp } from "./app.js";
import { LIST_PAGE_SIZE, listAllPages, slimJob, slimPod } from "./cachedObjects.js";
import type { Config } from "./config.js";
import { Controller, type ControllerIntervals } from "./controller.js";
import { runnerSelector } from "./jobTemplate.js";
import { KubeClient } from "./kube.js";
import { LeaseElector } from "./lease.js";
import type { Logger } from "./logger.js";
import { Metrics } from "./metrics.js";
import { JobFiles } from "./storage.js";

export interface Service {
  app: Express;
  controller: Controller;
  files: JobFiles;
  metrics: Metrics;
  /** Makes new uploads get 503 while the server drains. */
  startDraining: () => void;
}

export interface ServiceOptions {
  defaultMetrics?: boolean;
  intervals?: Partial<ControllerIntervals>;
  delay?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** Wires the clients, informers, controller and HTTP app together. */
export function createService(
  config: Config,
  kubeConfig: KubeConfig,
  template: V1Job,
  logger: Logger,
  options: ServiceOptions = {},
): Service {
  const metrics = new Metrics({ defaultMetrics: options.defaultMetrics ?? true });
  const files = new JobFiles(config.dataDir);
  const kube = new KubeClient(kubeConfig, config.namespace, metrics);

  const selector = runnerSelector(config.releaseName);
  const batch = kubeConfig.makeApiClient(BatchV1Api);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const jobInformer = makeInformer<V1Job>(
    kubeConfig,
    `/apis/batch/v1/namespaces/${config.namespace}/jobs`,
    () =>
      listAllPages(
        (continueToken) =>
          batch.listNamespacedJob({
            namespace: config.namespace,
            labelSelector: selector,
            limit: LIST_PAGE_SIZE,
            _continue: continueToken,
          }),
        slimJob,
      ),
    selector,
  );
  const podInformer = makeInformer<V1Pod>(
    kubeConfig,
    `/api/v1/namespaces/${config.namespace}/pods`,
    () =>
      listAllPages(
        (continueToken) =>
          core.listNamespacedPod({
            namespace: config.namespace,
            labelSelector: selector,
            limit: LIST_PAGE_SIZE,
            _continue: continueToken,
          }),
        slimPod,
      ),
    selector,
  );
  const lease = new LeaseElector(kube, logger, {
    name: `${config.releaseName}-leader`,
    identity: config.podName,
    leaseDurationSeconds: 15,
    ...(options.now ? { now: options.now } : {}),
  });
  const controller = new Controller({
    config,
    kube,
    files,
    metrics,
    logger,
    lease,
    jobInformer,
    podInformer,
    ...(options.intervals ? { intervals: options.intervals } : {}),
    ...(options.delay ? { delay: options.delay } : {}),
    ...(options.now ? { now: options.now } : {}),
  });

  let draining = false;
  const app = createApp({
    config,
    controller,
    files,
    kube,
    template,
    metrics,
    logger,
    isDraining: () => draining,
  });
  return {
    app,
    controller,
    files,
    metrics,
    startDraining: () => {
      draining = true;
    },
  };
}
