/**
 * End to end on the cluster of `make cluster-up`: the time from upload to
 * `succeeded` for one job at a time, and for 50 jobs uploaded at once with
 * jobs.maxRunning=10, each job split into queue, pod start and runner time.
 * The baseline, interleaved with the single jobs, is a plain Pod with the
 * runner's pod spec that runs `--help`: what a pod costs on this cluster
 * before any image work.
 *
 * It builds the images and loads them into the cluster, installs the chart
 * into a new namespace that enforces Pod Security "restricted", and deletes
 * that namespace at the end. Root is needed for the image load and for
 * crictl, which reads the node's containerd socket. Uploads and reads go
 * through `kubectl port-forward` to the API's Service.
 *
 * Environment: BENCH_E2E_RUNS single jobs and baseline pods (default 5),
 * BENCH_E2E_JOBS jobs in the burst (default 50).
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

import {
  CoreV1Api,
  KubeConfig,
  type V1ConfigMapList,
  type V1Job,
  type V1Node,
  type V1Pod,
} from "@kubernetes/client-node";
import sharp from "sharp";
import { parse as parseYaml } from "yaml";

import type * as kubeModule from "../e2e/kube.js";
import {
  ClusterWatch,
  NodeRuntime,
  type JobMoments,
  type NodeMoments,
  type PodMoments,
} from "./lib/cluster-times.js";
import { loadSnapshot, machineInfo, progress, repoRoot, writeResults } from "./lib/machine.js";
import { formatNumber, formatRatio, markdownTable, summarize, type Summary } from "./lib/stats.js";

// Type only: kube.ts reads E2E_NAMESPACE when it loads, so main() imports it
// once the namespace is chosen.
type KubeHelpers = typeof kubeModule;

const runs = Number(process.env.BENCH_E2E_RUNS ?? 5);
const burstJobs = Number(process.env.BENCH_E2E_JOBS ?? 50);
const maxRunning = 10;
const release = "thumbnailer";
const runnerContainer = "runner";
const imageSize = { width: 1024, height: 768 };
const singlePollMs = 100;
const burstPollMs = 250;
const jobTimeoutMs = 300_000;
const burstTimeoutMs = 900_000;

/** Paths of the local cluster's kubeconfig and tools, from hack/cluster/lib.sh. */
interface LocalCluster {
  kubeconfig: string;
  kubectl: string;
  helm: string;
  crictl: string;
  containerdSocket: string;
}

function localCluster(): LocalCluster {
  const script =
    'source hack/cluster/lib.sh && printf "%s\\n" "$CLUSTER_KUBECONFIG" "$CRICTL_BIN_DIR" "$CONTAINERD_SOCKET"';
  const [kubeconfig, crictlDir, containerdSocket] = execFileSync("bash", ["-c", script], {
    cwd: repoRoot,
    encoding: "utf8",
  })
    .trim()
    .split("\n");
  if (!kubeconfig || !existsSync(kubeconfig)) {
    throw new Error(`no kubeconfig at ${kubeconfig}: start the cluster with make cluster-up first`);
  }
  const crictl = path.join(crictlDir!, "crictl");
  if (!existsSync(crictl)) {
    throw new Error(`crictl not found at ${crictl}: make cluster-up builds it`);
  }
  const binDir = (pathScript: string) =>
    execFileSync(path.join(repoRoot, "hack", pathScript), { encoding: "utf8" }).trim();
  return {
    kubeconfig,
    kubectl: path.join(binDir("cluster/kubectl-path.sh"), "kubectl"),
    helm: path.join(binDir("helm-path.sh"), "helm"),
    crictl,
    containerdSocket: containerdSocket!,
  };
}

/** Runs a command with its output on stderr, so that stdout keeps only the tables. */
function runVisible(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, stdio: ["ignore", 2, 2] });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${command} ${args.join(" ")} exited with ${code}`)),
    );
  });
}

/**
 * Generates a 1024x768 RGB PNG of smooth colour waves plus grain, so that it
 * compresses like a photo.
 */
async function benchPng(): Promise<Buffer> {
  const { width, height } = imageSize;
  const pixels = Buffer.alloc(width * height * 3);
  let state = 12345;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * 3;
      const waves = [
        Math.sin((x / width) * 3 * Math.PI) * 70 + Math.sin((y / height) * 2 * Math.PI) * 40,
        Math.sin((x / width) * 5 * Math.PI + 1) * 60 + Math.sin((y / height) * 1.4 * Math.PI) * 50,
        Math.sin((x / width) * 1.6 * Math.PI + 2) * 80 + Math.sin((y / height) * 4 * Math.PI) * 30,
      ];
      for (let channel = 0; channel < 3; channel++) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        const grain = ((state >>> 24) % 25) - 12;
        pixels[offset + channel] = Math.max(0, Math.min(255, 128 + waves[channel]! + grain));
      }
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

interface Upload {
  id: string;
  jobName: string;
  sentMs: number;
  acceptedMs: number;
}

async function upload(apiUrl: string, png: Buffer, filename: string): Promise<Upload> {
  const form = new FormData();
  form.append("image", new Blob([new Uint8Array(png)], { type: "image/png" }), filename);
  const sentMs = Date.now();
  const response = await fetch(`${apiUrl}/v1/jobs`, {
    method: "POST",
    body: form,
    signal: AbortSignal.timeout(120_000),
  });
  const acceptedMs = Date.now();
  const body = await response.text();
  if (response.status !== 202) {
    throw new Error(`POST /v1/jobs returned ${response.status}, expected 202: ${body}`);
  }
  const id = (JSON.parse(body) as { id: string }).id;
  return { id, jobName: `thumb-${id}`, sentMs, acceptedMs };
}

/**
 * Polls the API until the job has succeeded and returns when the bench saw
 * it. Throws at once on `failed`.
 */
async function apiSucceededMs(apiUrl: string, id: string): Promise<number> {
  const deadline = Date.now() + jobTimeoutMs;
  while (Date.now() < deadline) {
    const response = await fetch(`${apiUrl}/v1/jobs/${id}`, {
      signal: AbortSignal.timeout(10_000),
    });
    const seenMs = Date.now();
    const document = (await response.json()) as { status?: string; error?: unknown };
    if (document.status === "succeeded") return seenMs;
    if (document.status === "failed") {
      throw new Error(`job ${id} failed: ${JSON.stringify(document.error)}`);
    }
    await sleep(singlePollMs);
  }
  throw new Error(`job ${id} did not succeed within ${jobTimeoutMs} ms`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Everything measured of one job, in milliseconds since the epoch on this machine's clock. */
interface JobRun {
  id: string;
  jobName: string;
  podName: string;
  pods: number;
  upload: Upload;
  apiSucceededMs: number;
  job: JobMoments;
  pod: PodMoments;
  node: NodeMoments;
  /** `durationMs` from the runner's log line: its work after loading, without the Node.js start. */
  runnerLogDurationMs: number | undefined;
}

interface BaselineRun {
  podName: string;
  createSentMs: number;
  createReturnedMs: number;
  pod: PodMoments;
  node: NodeMoments;
}

interface Context {
  kube: KubeHelpers;
  namespace: string;
  watch: ClusterWatch;
  runtime: NodeRuntime;
  apiUrl: string;
}

/**
 * Waits for the watch to see the job finish, then reads its pod's times from
 * the node and its log.
 */
async function collectJob(
  context: Context,
  upload: Upload,
  apiSucceededMs: number,
): Promise<JobRun> {
  const { kube, watch } = context;
  const job = await kube.eventually(
    `the watch to see Job ${upload.jobName} succeed`,
    async () => {
      const moments = watch.jobs.get(upload.jobName);
      return moments?.succeededMs !== undefined ? moments : undefined;
    },
    60_000,
    20,
  );
  const [podName, pod] = await kube.eventually(
    `the watch to see the pod of ${upload.jobName} succeed`,
    async () =>
      watch
        .podsOfJob(upload.jobName)
        .find(([, moments]) => moments.phase === "Succeeded" && moments.containerId !== undefined),
    60_000,
    20,
  );
  const node = await context.runtime.podMoments(context.namespace, podName, pod.containerId!);
  const log = await kube.kubectl("logs", podName, "-c", runnerContainer);
  return {
    id: upload.id,
    jobName: upload.jobName,
    podName,
    pods: watch.podsOfJob(upload.jobName).length,
    upload,
    apiSucceededMs,
    job,
    pod,
    node,
    runnerLogDurationMs: runnerLogDuration(log),
  };
}

function runnerLogDuration(log: string): number | undefined {
  for (const line of log.split("\n")) {
    if (!line.startsWith("{")) continue;
    const entry = JSON.parse(line) as { msg?: string; durationMs?: number };
    if (entry.msg === "thumbnail written") return entry.durationMs;
  }
  return undefined;
}

/**
 * Returns the runner's pod spec from the chart's Job template, changed to run
 * `--help` on a folder of its own.
 */
async function baselinePodSpec(kube: KubeHelpers): Promise<NonNullable<V1Pod["spec"]>> {
  const configMaps = await kube.kubectlJson<V1ConfigMapList>(
    "get",
    "configmaps",
    "-l",
    `app.kubernetes.io/instance=${release},app.kubernetes.io/component=runner`,
  );
  const template = configMaps.items[0]?.data?.["runner-job.yaml"];
  if (template === undefined) throw new Error("the runner Job template ConfigMap was not found");
  const spec = (parseYaml(template) as V1Job).spec?.template.spec;
  const container = spec?.containers.find((candidate) => candidate.name === runnerContainer);
  if (spec === undefined || container === undefined) {
    throw new Error(`the runner Job template has no container named ${runnerContainer}`);
  }
  container.args = ["--help"];
  for (const mount of container.volumeMounts ?? []) {
    if (mount.name === "data") mount.subPath = "bench-baseline";
  }
  return spec;
}

async function runBaseline(
  context: Context,
  core: CoreV1Api,
  spec: NonNullable<V1Pod["spec"]>,
  index: number,
): Promise<BaselineRun> {
  const podName = `bench-baseline-${index}`;
  const body: V1Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: podName, labels: { "app.kubernetes.io/name": "thumbnailer-bench" } },
    spec,
  };
  const createSentMs = Date.now();
  await core.createNamespacedPod({ namespace: context.namespace, body });
  const createReturnedMs = Date.now();
  const pod = await context.kube.eventually(
    `baseline pod ${podName} to finish`,
    async () => {
      const moments = context.watch.pods.get(podName);
      return moments?.finishedMs !== undefined && moments.containerId !== undefined
        ? moments
        : undefined;
    },
    jobTimeoutMs,
    20,
  );
  if (pod.phase !== "Succeeded") throw new Error(`baseline pod ${podName} ended ${pod.phase}`);
  const node = await context.runtime.podMoments(context.namespace, podName, pod.containerId!);
  return { podName, createSentMs, createReturnedMs, pod, node };
}

/** Uploads all at once, polls the list until every job succeeded, and collects each as it does. */
async function runBurst(context: Context, png: Buffer): Promise<JobRun[]> {
  const uploads = await Promise.all(
    Array.from({ length: burstJobs }, (_, index) =>
      upload(context.apiUrl, png, `burst-${index}.png`),
    ),
  );
  const pending = new Map(uploads.map((item) => [item.id, item]));
  const collected: Promise<JobRun>[] = [];
  const deadline = Date.now() + burstTimeoutMs;
  while (pending.size > 0) {
    if (Date.now() > deadline) {
      throw new Error(`${pending.size} jobs did not succeed within ${burstTimeoutMs} ms`);
    }
    const response = await fetch(`${context.apiUrl}/v1/jobs?limit=500`, {
      signal: AbortSignal.timeout(10_000),
    });
    const seenMs = Date.now();
    const list = (await response.json()) as {
      items: { id: string; status: string; error?: unknown }[];
    };
    for (const item of list.items) {
      const pendingUpload = pending.get(item.id);
      if (pendingUpload === undefined) continue;
      if (item.status === "failed") {
        throw new Error(`job ${item.id} failed: ${JSON.stringify(item.error)}`);
      }
      if (item.status === "succeeded") {
        pending.delete(item.id);
        collected.push(collectJob(context, pendingUpload, seenMs));
      }
    }
    if (pending.size > 0) await sleep(burstPollMs);
  }
  return Promise.all(collected);
}

/** The steps of one job, in milliseconds. */
interface JobSplits {
  uploadRequest: number;
  queue: number;
  podStart: number;
  jobController: number;
  scheduling: number;
  kubeletToSandbox: number;
  sandboxToRunner: number;
  runner: number;
  runnerLog: number;
  runnerExitToPodSucceeded: number;
  podSucceededToJobSucceeded: number;
  runnerExitToJobSucceeded: number;
  /** Resumed → Job condition seen: how long the job takes up one of the maxRunning places. */
  runningPlace: number;
  jobSucceededToApi: number;
  acceptedToApiSucceeded: number;
}

function jobSplits(run: JobRun): JobSplits {
  const resumedMs = run.job.resumedMs ?? run.job.seenMs;
  return {
    uploadRequest: run.upload.acceptedMs - run.upload.sentMs,
    queue: resumedMs - run.job.seenMs,
    podStart: run.node.containerStartedMs - resumedMs,
    jobController: run.pod.seenMs - resumedMs,
    scheduling: run.node.kubeletSeenMs - run.pod.seenMs,
    kubeletToSandbox: run.node.sandboxCreatedMs - run.node.kubeletSeenMs,
    sandboxToRunner: run.node.containerStartedMs - run.node.sandboxCreatedMs,
    runner: run.node.containerFinishedMs - run.node.containerStartedMs,
    runnerLog: run.runnerLogDurationMs ?? Number.NaN,
    runnerExitToPodSucceeded: run.pod.finishedMs! - run.node.containerFinishedMs,
    podSucceededToJobSucceeded: run.job.succeededMs! - run.pod.finishedMs!,
    runnerExitToJobSucceeded: run.job.succeededMs! - run.node.containerFinishedMs,
    runningPlace: run.job.succeededMs! - resumedMs,
    jobSucceededToApi: run.apiSucceededMs - run.job.succeededMs!,
    acceptedToApiSucceeded: run.apiSucceededMs - run.upload.acceptedMs,
  };
}

interface BaselineSplits {
  createRequest: number;
  podStart: number;
  scheduling: number;
  kubeletToSandbox: number;
  sandboxToRunner: number;
  runner: number;
  runnerExitToPodSucceeded: number;
  createToPodSucceeded: number;
}

function baselineSplits(run: BaselineRun): BaselineSplits {
  return {
    createRequest: run.createReturnedMs - run.createSentMs,
    podStart: run.node.containerStartedMs - run.pod.seenMs,
    scheduling: run.node.kubeletSeenMs - run.pod.seenMs,
    kubeletToSandbox: run.node.sandboxCreatedMs - run.node.kubeletSeenMs,
    sandboxToRunner: run.node.containerStartedMs - run.node.sandboxCreatedMs,
    runner: run.node.containerFinishedMs - run.node.containerStartedMs,
    runnerExitToPodSucceeded: run.pod.finishedMs! - run.node.containerFinishedMs,
    createToPodSucceeded: run.pod.finishedMs! - run.createSentMs,
  };
}

function summarizeField<T>(rows: readonly T[], field: keyof T): Summary {
  return summarize(rows.map((row) => row[field] as number).filter(Number.isFinite));
}

/** Returns the maximum number of runner containers that ran at the same moment. */
function peakConcurrentRunners(burst: readonly JobRun[]): number {
  const edges = burst.flatMap((run) => [
    { atMs: run.node.containerStartedMs, change: 1 },
    { atMs: run.node.containerFinishedMs, change: -1 },
  ]);
  edges.sort((a, b) => a.atMs - b.atMs || a.change - b.change);
  let running = 0;
  let peak = 0;
  for (const edge of edges) {
    running += edge.change;
    peak = Math.max(peak, running);
  }
  return peak;
}

const ms = (value: number) => formatNumber(value);
const medianRange = (summary: Summary) =>
  `${ms(summary.median)} (${ms(summary.min)}–${ms(summary.max)})`;

function singleTable(single: readonly JobSplits[], baseline: readonly BaselineSplits[]): string {
  const row = (label: string, summary: Summary) => [
    label,
    String(summary.count),
    medianRange(summary),
  ];
  const field = (name: keyof JobSplits) => summarizeField(single, name);
  const base = (name: keyof BaselineSplits) => summarizeField(baseline, name);
  return markdownTable(
    ["step", "runs", "ms, median (min–max)"],
    [
      row("job: upload request (POST sent → 202)", field("uploadRequest")),
      row("job: queue (Job created → resumed)", field("queue")),
      row("job: pod start (resumed → runner container started)", field("podStart")),
      row("job: runner container (started → exited)", field("runner")),
      row("job: runner's own durationMs (log line)", field("runnerLog")),
      row("job: runner exited → pod Succeeded seen (kubelet)", field("runnerExitToPodSucceeded")),
      row(
        "job: pod Succeeded seen → Job condition seen (Job controller)",
        field("podSucceededToJobSucceeded"),
      ),
      row(
        `job: Job condition seen → API says succeeded (poll every ${singlePollMs} ms)`,
        field("jobSucceededToApi"),
      ),
      row("**job: 202 → API says succeeded**", field("acceptedToApiSucceeded")),
      row("baseline: pod start (pod created → container started)", base("podStart")),
      row("baseline: `--help` container (started → exited)", base("runner")),
      row("baseline: container exited → pod Succeeded seen", base("runnerExitToPodSucceeded")),
      row("**baseline: create request sent → pod Succeeded seen**", base("createToPodSucceeded")),
    ],
  );
}

function podStartTable(
  single: readonly JobSplits[],
  burst: readonly JobSplits[],
  baseline: readonly BaselineSplits[],
): string {
  const cell = <T>(rows: readonly T[], name: keyof T) => ms(summarizeField(rows, name).median);
  return markdownTable(
    [
      "part of pod start, median ms",
      "baseline pod",
      `single job (${single.length})`,
      `burst (${burst.length})`,
    ],
    [
      [
        "Job resumed → pod created (Job controller)",
        "–",
        cell(single, "jobController"),
        cell(burst, "jobController"),
      ],
      [
        "pod created → kubelet has it (scheduler)",
        cell(baseline, "scheduling"),
        cell(single, "scheduling"),
        cell(burst, "scheduling"),
      ],
      [
        "kubelet has it → sandbox created",
        cell(baseline, "kubeletToSandbox"),
        cell(single, "kubeletToSandbox"),
        cell(burst, "kubeletToSandbox"),
      ],
      [
        "sandbox created → container started",
        cell(baseline, "sandboxToRunner"),
        cell(single, "sandboxToRunner"),
        cell(burst, "sandboxToRunner"),
      ],
      [
        "**pod start**",
        cell(baseline, "podStart"),
        cell(single, "podStart"),
        cell(burst, "podStart"),
      ],
    ],
  );
}

function burstTable(burst: readonly JobSplits[]): string {
  const row = (label: string, name: keyof JobSplits) => {
    const summary = summarizeField(burst, name);
    return [label, ms(summary.median), ms(summary.p90), ms(summary.max)];
  };
  return markdownTable(
    ["per job", "median ms", "p90 ms", "max ms"],
    [
      row("upload request (POST sent → 202)", "uploadRequest"),
      row("queue (Job created → resumed)", "queue"),
      row("pod start (resumed → runner container started)", "podStart"),
      row("runner container (started → exited)", "runner"),
      row("runner's own durationMs (log line)", "runnerLog"),
      row("runner exited → pod Succeeded seen (kubelet)", "runnerExitToPodSucceeded"),
      row("pod Succeeded seen → Job condition seen (Job controller)", "podSucceededToJobSucceeded"),
      row(
        `Job condition seen → API says succeeded (poll every ${burstPollMs} ms)`,
        "jobSucceededToApi",
      ),
      row("resumed → Job condition seen (time in a running place)", "runningPlace"),
      row("**202 → API says succeeded**", "acceptedToApiSucceeded"),
    ],
  );
}

/** Unfinished pods on the node outside this run's namespace, and the CPU they request. */
interface OtherPods {
  pods: number;
  cpuRequestMillicores: number;
  namespaces: string[];
}

function parseCpuMillicores(quantity: string | undefined): number {
  if (quantity === undefined) return 0;
  return quantity.endsWith("m") ? Number(quantity.slice(0, -1)) : Number(quantity) * 1000;
}

async function otherPods(kube: KubeHelpers, namespace: string): Promise<OtherPods> {
  const { items } = await kube.kubectlJson<{ items: V1Pod[] }>("get", "pods", "--all-namespaces");
  const others = items.filter(
    (pod) =>
      pod.metadata?.namespace !== namespace &&
      pod.status?.phase !== "Succeeded" &&
      pod.status?.phase !== "Failed",
  );
  return {
    pods: others.length,
    cpuRequestMillicores: others
      .flatMap((pod) => pod.spec?.containers ?? [])
      .reduce((sum, container) => sum + parseCpuMillicores(container.resources?.requests?.cpu), 0),
    namespaces: [...new Set(others.map((pod) => pod.metadata?.namespace ?? ""))].sort(),
  };
}

async function clusterFacts(kube: KubeHelpers): Promise<Record<string, string | undefined>> {
  const nodes = (await kube.kubectlJson<{ items: V1Node[] }>("get", "nodes")).items;
  const first = nodes[0];
  return {
    nodes: String(nodes.length),
    kubelet: first?.status?.nodeInfo?.kubeletVersion,
    containerRuntime: first?.status?.nodeInfo?.containerRuntimeVersion,
    allocatableCpu: first?.status?.allocatable?.cpu,
    allocatableMemory: first?.status?.allocatable?.memory,
  };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error(
      "bench-e2e must run as root: it loads images into the cluster's containerd and reads it with crictl",
    );
  }
  const cluster = localCluster();
  const stamp = new Date().toISOString().replace(/[-:]/g, "").slice(4, 15).replace("T", "-");
  const namespace = `bench-e2e-${stamp}`;
  Object.assign(process.env, {
    KUBECONFIG: cluster.kubeconfig,
    KUBECTL: cluster.kubectl,
    HELM: cluster.helm,
    E2E_NAMESPACE: namespace,
    E2E_RELEASE: release,
    E2E_REPO_ROOT: repoRoot,
  });
  const kube: KubeHelpers = await import("../e2e/kube.js");
  const loadAtStart = loadSnapshot();

  progress("building the images (make images)");
  await runVisible("nice", ["-n", "10", "make", "--no-print-directory", "images"]);
  const images = execFileSync(path.join(repoRoot, "hack", "images.sh"), ["names"], {
    encoding: "utf8",
  })
    .trim()
    .split(/\s+/);
  progress(`loading ${images.join(", ")} into the cluster`);
  await runVisible(path.join(repoRoot, "hack", "cluster-load-image.sh"), images);

  let namespaceMade = false;
  let portForward: InstanceType<KubeHelpers["PortForward"]> | undefined;
  let watch: ClusterWatch | undefined;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    portForward?.stop();
    await watch?.stop();
    if (namespaceMade) {
      progress(`deleting the namespace ${namespace}`);
      await kube.kubectl("delete", "namespace", namespace, "--timeout=300s");
    }
  };
  process.once("SIGINT", () => void cleanup().finally(() => process.exit(130)));

  try {
    await kube.kubectl("create", "namespace", namespace);
    namespaceMade = true;
    await kube.kubectl(
      "label",
      "namespace",
      namespace,
      "pod-security.kubernetes.io/enforce=restricted",
      "pod-security.kubernetes.io/enforce-version=latest",
    );
    progress(`installing the chart into ${namespace} with jobs.maxRunning=${maxRunning}`);
    await kube.helm(
      "install",
      release,
      path.join(repoRoot, "chart"),
      "--set",
      `jobs.maxRunning=${maxRunning}`,
      "--wait",
      "--timeout",
      "5m",
    );

    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cluster.kubeconfig);
    watch = new ClusterWatch(kubeConfig, namespace, runnerContainer);
    await watch.start();
    portForward = new kube.PortForward();
    await portForward.start();
    const apiUrl = portForward.url;
    await kube.eventually("the API to be ready through the port-forward", async () =>
      (await fetch(`${apiUrl}/readyz`)).status === 200 ? true : undefined,
    );
    const context: Context = {
      kube,
      namespace,
      watch,
      runtime: new NodeRuntime(cluster.crictl, cluster.containerdSocket),
      apiUrl,
    };
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const png = await benchPng();
    progress(`upload image: PNG ${imageSize.width}x${imageSize.height}, ${png.length} bytes`);

    // One warm-up of each, so that first-use costs (image files not yet in the
    // page cache, the API's first Job) stay out of the measured runs.
    const spec = await baselinePodSpec(kube);
    await runBaseline(context, core, spec, 0);
    const warmUp = await upload(apiUrl, png, "warm-up.png");
    await apiSucceededMs(apiUrl, warmUp.id);

    const single: JobRun[] = [];
    const baseline: BaselineRun[] = [];
    for (let run = 1; run <= runs; run++) {
      progress(`single job and baseline pod, run ${run} of ${runs}`);
      baseline.push(await runBaseline(context, core, spec, run));
      const item = await upload(apiUrl, png, `single-${run}.png`);
      single.push(await collectJob(context, item, await apiSucceededMs(apiUrl, item.id)));
    }

    progress(`${burstJobs} jobs uploaded at once, at most ${maxRunning} running`);
    const othersAtBurstStart = await otherPods(kube, namespace);
    const burstStartedMs = Date.now();
    const burst = await runBurst(context, png);
    const othersAtBurstEnd = await otherPods(kube, namespace);
    const unschedulable = burst.filter((run) => run.pod.unschedulable).length;
    const lastApiSucceededMs = Math.max(...burst.map((run) => run.apiSucceededMs));
    const lastJobSucceededMs = Math.max(...burst.map((run) => run.job.succeededMs!));
    const lastAcceptedMs = Math.max(...burst.map((run) => run.upload.acceptedMs));

    const singleSplits = single.map(jobSplits);
    const burstSplits = burst.map(jobSplits);
    const baselineSplitRows = baseline.map(baselineSplits);
    const burstWall = {
      allAcceptedMs: lastAcceptedMs - burstStartedMs,
      lastJobSucceededMs: lastJobSucceededMs - burstStartedMs,
      lastApiSucceededMs: lastApiSucceededMs - burstStartedMs,
    };
    const peakRunners = peakConcurrentRunners(burst);
    const retried =
      burst.filter((run) => run.pods > 1).length + single.filter((run) => run.pods > 1).length;

    const floor = summarizeField(baselineSplitRows, "podStart").median;
    const singlePodStart = summarizeField(singleSplits, "podStart").median;
    const burstPodStart = summarizeField(burstSplits, "podStart").median;
    const singleTotal = summarizeField(singleSplits, "acceptedToApiSucceeded").median;
    const baselineTotal = summarizeField(baselineSplitRows, "createToPodSucceeded").median;

    console.log(
      `## End to end: one job at a time (${runs} runs), against a plain pod running the runner image with --help\n`,
    );
    console.log(singleTable(singleSplits, baselineSplitRows));
    console.log("\n## Where pod start goes\n");
    console.log(podStartTable(singleSplits, burstSplits, baselineSplitRows));
    console.log(`\n## ${burstJobs} jobs uploaded at once, jobs.maxRunning=${maxRunning}\n`);
    console.log(burstTable(burstSplits));
    console.log(
      `\nWall time from the first upload: all ${burstJobs} accepted ${ms(burstWall.allAcceptedMs)} ms, ` +
        `last Job condition seen ${ms(burstWall.lastJobSucceededMs)} ms, ` +
        `last succeeded in the API ${ms(burstWall.lastApiSucceededMs)} ms. ` +
        `At most ${peakRunners} runner containers ran at once. Jobs that needed a second pod: ${retried}.`,
    );
    console.log(
      `\nRatios to the baseline pod's median pod start (${ms(floor)} ms): ` +
        `single job ${formatRatio(singlePodStart / floor)}, burst ${formatRatio(burstPodStart / floor)}. ` +
        `Single job 202 → succeeded against baseline create → Succeeded: ${formatRatio(singleTotal / baselineTotal)}.`,
    );
    console.log(
      `\nPods the scheduler first found no room for (CPU requests): ${unschedulable} of ${burstJobs}. ` +
        `Other unfinished pods on the node at the burst's start: ${othersAtBurstStart.pods} ` +
        `requesting ${othersAtBurstStart.cpuRequestMillicores}m CPU (${othersAtBurstStart.namespaces.join(", ")}); ` +
        `at its end: ${othersAtBurstEnd.pods} requesting ${othersAtBurstEnd.cpuRequestMillicores}m.`,
    );
    if (watch.restarts > 0) {
      console.log(
        `\nNOTE: the informers restarted ${watch.restarts} times; times seen around a restart are late.`,
      );
    }

    const file = await writeResults("e2e", {
      benchmark: "e2e",
      machine: machineInfo(),
      cluster: await clusterFacts(kube),
      loadAtStart,
      loadAtEnd: loadSnapshot(),
      settings: { runs, burstJobs, maxRunning, singlePollMs, burstPollMs, namespace },
      image: { format: "png", ...imageSize, bytes: png.length },
      informerRestarts: watch.restarts,
      summaries: {
        single: Object.fromEntries(
          Object.keys(singleSplits[0]!).map((key) => [
            key,
            summarizeField(singleSplits, key as keyof JobSplits),
          ]),
        ),
        burst: Object.fromEntries(
          Object.keys(burstSplits[0]!).map((key) => [
            key,
            summarizeField(burstSplits, key as keyof JobSplits),
          ]),
        ),
        baseline: Object.fromEntries(
          Object.keys(baselineSplitRows[0]!).map((key) => [
            key,
            summarizeField(baselineSplitRows, key as keyof BaselineSplits),
          ]),
        ),
        burstWallMs: burstWall,
        peakConcurrentRunners: peakRunners,
        jobsWithASecondPod: retried,
        unschedulablePods: unschedulable,
        otherPodsAtBurstStart: othersAtBurstStart,
        otherPodsAtBurstEnd: othersAtBurstEnd,
        podStartRatioToBaseline: { single: singlePodStart / floor, burst: burstPodStart / floor },
      },
      raw: { baseline, single, burst, burstStartedMs },
    });
    progress(`wrote ${file}`);
  } finally {
    await cleanup();
  }
}

await main();
