// Tests hack/support-bundle.sh without a cluster: its `summarize` command on
// bundle folders written here, and its `scrub-check` command on files with
// image signatures. The facts tables have the columns of the script's
// go-templates; free text is quoted as Go's %q quotes it (JSON agrees for
// these strings).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { expect } from "chai";

const script = resolve(dirname(fileURLToPath(import.meta.url)), "../support-bundle.sh");

const PODS_HEADER =
  "# pod\tinstance\tcomponent\tjobId\tphase\tcreated\tcontainer\timage\timageID\tready\trestarts\tstate\treason\texitCode\tfinishedAt\tmessage\tlastReason\tlastExitCode";
const JOBS_HEADER =
  "# job\tinstance\tcomponent\tjobId\tcreated\tsuspend\tactive\tfailedPods\toutcome\treason\tmessage";
const DEPLOYMENTS_HEADER =
  "# deployment\tinstance\tcomponent\treplicas\treadyReplicas\tavailableReplicas\tproblem";
const PVCS_HEADER =
  "# claim\tphase\tstorageClassName\tvolumeName\taccessModes\trequested\tcapacity";
const STORAGECLASSES_HEADER = "# storageClass\tprovisioner\tdefault\tvolumeBindingMode";
const EVENTS_HEADER = "# time\ttype\treason\tkind\tname\tcount\tmessage";
const NODES_HEADER =
  "# node\tready\tpressure\tunschedulable\tallocatableCpu\tallocatableMemory\tallocatablePods\tallocatableEphemeralStorage\tkubeletVersion";

const JOB_A = "019349f0-8b2a-7c6e-9d7e-3f1a2b4c5d6e";
const JOB_B = "019349f0-8b2a-7c6e-9d7e-3f1a2b4c5d6f";
const JOB_C = "019349f0-8b2a-7c6e-9d7e-3f1a2b4c5d70";
const JOB_D = "019349f0-8b2a-7c6e-9d7e-3f1a2b4c5d71";
const JOB_E = "019349f0-8b2a-7c6e-9d7e-3f1a2b4c5d72";

interface PodRow {
  pod: string;
  instance?: string;
  component: string;
  jobId?: string;
  phase: string;
  created?: string;
  container?: string;
  image?: string;
  ready?: boolean;
  restarts?: number;
  state: "waiting" | "running" | "terminated" | "unscheduled" | "none";
  reason?: string;
  exitCode?: number;
  message?: string;
  lastReason?: string;
  lastExitCode?: number;
}

function podRow(row: PodRow): string {
  return [
    row.pod,
    row.instance ?? "thumbnailer",
    row.component,
    row.jobId ?? "",
    row.phase,
    row.created ?? "2026-12-04T10:00:00Z",
    row.container ?? (row.component === "api" ? "api" : "runner"),
    row.image ?? `thumbnailer-${row.component}:0.1.0`,
    "",
    String(row.ready ?? false),
    String(row.restarts ?? 0),
    row.state,
    row.reason ?? "",
    row.exitCode === undefined ? "" : String(row.exitCode),
    "",
    JSON.stringify(row.message ?? ""),
    row.lastReason ?? "",
    row.lastExitCode === undefined ? "" : String(row.lastExitCode),
  ].join("\t");
}

interface JobRow {
  jobId: string;
  created?: string;
  suspend?: boolean;
  outcome?: "Complete" | "Failed";
  reason?: string;
  instance?: string;
}

function jobRow(row: JobRow): string {
  return [
    `thumb-${row.jobId}`,
    row.instance ?? "thumbnailer",
    "runner",
    row.jobId,
    row.created ?? "2026-12-04T10:00:00Z",
    String(row.suspend ?? false),
    row.outcome === undefined ? "1" : "0",
    row.outcome === "Failed" ? "1" : "0",
    row.outcome ?? "",
    row.reason ?? "",
    JSON.stringify(""),
  ].join("\t");
}

function runnerMessage(reason: string, message: string): string {
  return JSON.stringify({ reason, message });
}

function table(header: string, rows: string[]): string {
  return [header, ...rows].join("\n") + "\n";
}

const healthyApiPod = podRow({
  pod: "thumbnailer-7d9c-abcde",
  component: "api",
  phase: "Running",
  ready: true,
  state: "running",
});

const healthyDeployment = "thumbnailer\tthumbnailer\tapi\t1\t1\t1\t" + JSON.stringify("");

const helmList = [
  "- app_version: 0.1.0",
  "  chart: thumbnailer-0.1.0",
  "  name: thumbnailer",
  "  namespace: thumbnails",
  '  revision: "3"',
  "  status: deployed",
  "",
].join("\n");

/** Returns the files of a healthy bundle, which each test changes to break one thing. */
function healthyBundle(): Record<string, string> {
  return {
    "facts/bundle.txt":
      "namespace=thumbnails\nrelease=thumbnailer\ntakenAt=2026-12-04T10:05:00Z\ncontext=test\nkubectl=v1.35.4\nserver=v1.35.4\nhelm=v4.3.2\n",
    "facts/pods.tsv": table(PODS_HEADER, [healthyApiPod]),
    "facts/jobs.tsv": table(JOBS_HEADER, [jobRow({ jobId: JOB_A, outcome: "Complete" })]),
    "facts/deployments.tsv": table(DEPLOYMENTS_HEADER, [healthyDeployment]),
    "facts/pvcs.tsv": table(PVCS_HEADER, [
      "thumbnailer-data\tBound\tstandard\tpvc-1\tReadWriteOnce\t10Gi\t10Gi",
    ]),
    "facts/storageclasses.tsv": table(STORAGECLASSES_HEADER, [
      "standard\trancher.io/local-path\ttrue\tWaitForFirstConsumer",
    ]),
    "facts/events.tsv": table(EVENTS_HEADER, []),
    "facts/nodes.tsv": table(NODES_HEADER, [
      "node-1\tTrue\t\tfalse\t2\t24Gi\t110\t100Gi\tv1.35.4",
    ]),
    "helm/list.yaml": helmList,
    "helm/values.yaml": "USER-SUPPLIED VALUES:\nnull\n",
    "api/readyz.json":
      '{"status":"ready","checks":{"jobInformer":"ok","podInformer":"ok","volume":"ok"}}',
    "volume/usage.txt":
      "bytesTotal=10737418240\nbytesUsed=1073741824\nbytesFree=9663676416\njobFolders=1\nwithOriginal=0\nwithThumbnail=1\n",
    "volume/job-folder-ids.txt": `${JOB_A}\n`,
    "collection-log.tsv": "ok\tfacts/pods.tsv\t\n",
  };
}

let workDir: string;

function writeBundle(files: Record<string, string>): string {
  const dir = mkdtempSync(join(workDir, "bundle-"));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

/** Runs `summarize` on a bundle made of the healthy files with these changes. */
function summarize(changes: Record<string, string | null> = {}): string {
  const files = healthyBundle();
  for (const [path, content] of Object.entries(changes)) {
    if (content === null) delete files[path];
    else files[path] = content;
  }
  const dir = writeBundle(files);
  const result = spawnSync("bash", [script, "summarize", dir], { encoding: "utf8" });
  expect(result.stderr, "stderr of summarize").to.equal("");
  expect(result.status, "exit code of summarize").to.equal(0);
  return readFileSync(join(dir, "SUMMARY.txt"), "utf8");
}

/** Returns the lines between "Findings" and the next blank line, without their bullets. */
function findings(summary: string): string[] {
  const lines = summary.split("\n");
  const start = lines.indexOf("Findings") + 1;
  const end = lines.indexOf("", start);
  return lines.slice(start, end).map((line) => line.replace(/^ {2}- /, "").trim());
}

function scrubCheck(files: Record<string, string | Buffer>) {
  const dir = mkdtempSync(join(workDir, "scrub-"));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return spawnSync("bash", [script, "scrub-check", dir], { encoding: "utf8" });
}

describe("support-bundle.sh summarize", () => {
  before(() => {
    workDir = mkdtempSync(join(tmpdir(), "support-bundle-test-"));
  });

  after(() => {
    rmSync(workDir, { recursive: true, force: true });
  });

  it("healthy bundle reports no problem", () => {
    const summary = summarize();

    expect(findings(summary)).to.deep.equal(["no problem found in the collected data"]);
    expect(summary).to.include(
      "Chart thumbnailer-0.1.0, app version 0.1.0, release status deployed (revision 3)",
    );
    expect(summary).to.include("Jobs: 1 in total: 1 succeeded, 0 failed");
    expect(summary).to.include("API deployment thumbnailer: 1/1 ready");
    expect(summary).to.include("nothing: every step succeeded");
  });

  it("PVC with a missing StorageClass names the class", () => {
    const summary = summarize({
      "facts/pvcs.tsv": table(PVCS_HEADER, [
        "thumbnailer-data\tPending\tfast-ssd\t\tReadWriteOnce\t10Gi\t",
      ]),
    });

    expect(findings(summary)[0]).to.match(
      /^PVC thumbnailer-data is Pending \(StorageClass "fast-ssd" not found: set persistence\.storageClassName/,
    );
  });

  it("PVC without a class and no default class says so", () => {
    const summary = summarize({
      "facts/pvcs.tsv": table(PVCS_HEADER, [
        "thumbnailer-data\tPending\t<unset>\t\tReadWriteOnce\t10Gi\t",
      ]),
      "facts/storageclasses.tsv": table(STORAGECLASSES_HEADER, [
        "standard\trancher.io/local-path\t\tWaitForFirstConsumer",
      ]),
    });

    expect(findings(summary)).to.include(
      "PVC thumbnailer-data is Pending (it names no StorageClass and the cluster has no default StorageClass: set persistence.storageClassName)",
    );
  });

  it("PVC with an existing class quotes its latest Warning event", () => {
    const summary = summarize({
      "facts/pvcs.tsv": table(PVCS_HEADER, [
        "thumbnailer-data\tPending\tstandard\t\tReadWriteOnce\t10Gi\t",
      ]),
      "facts/events.tsv": table(EVENTS_HEADER, [
        `2026-12-04T10:01:00Z\tWarning\tProvisioningFailed\tPersistentVolumeClaim\tthumbnailer-data\t1\t${JSON.stringify("old message")}`,
        `2026-12-04T10:02:00Z\tWarning\tProvisioningFailed\tPersistentVolumeClaim\tthumbnailer-data\t4\t${JSON.stringify('failed to provision volume: "disk full"')}`,
      ]),
    });

    expect(findings(summary)).to.include(
      'PVC thumbnailer-data is Pending (ProvisioningFailed: failed to provision volume: "disk full")',
    );
  });

  it("StorageClasses not readable falls back to events", () => {
    const summary = summarize({
      "facts/storageclasses.tsv": null,
      "facts/pvcs.tsv": table(PVCS_HEADER, [
        "thumbnailer-data\tPending\tfast-ssd\t\tReadWriteOnce\t10Gi\t",
      ]),
      "facts/events.tsv": table(EVENTS_HEADER, [
        `2026-12-04T10:02:00Z\tWarning\tProvisioningFailed\tPersistentVolumeClaim\tthumbnailer-data\t2\t${JSON.stringify('storageclass.storage.k8s.io "fast-ssd" not found')}`,
      ]),
      "collection-log.tsv":
        "failed\tfacts/storageclasses.tsv\tstorageclasses.storage.k8s.io is forbidden: User \"dev\" cannot list resource\n",
    });

    expect(findings(summary)).to.include(
      'PVC thumbnailer-data is Pending (ProvisioningFailed: storageclass.storage.k8s.io "fast-ssd" not found)',
    );
    expect(summary).to.include(
      '  - facts/storageclasses.tsv (failed): storageclasses.storage.k8s.io is forbidden: User "dev" cannot list resource',
    );
  });

  it("failed jobs are counted by reason, most frequent first", () => {
    const pods = [healthyApiPod];
    for (const [index, jobId] of [JOB_A, JOB_B, JOB_C].entries()) {
      pods.push(
        podRow({
          pod: `thumb-${jobId}-x${index}`,
          component: "runner",
          jobId,
          phase: "Failed",
          state: "terminated",
          reason: "Error",
          exitCode: 2,
          message: runnerMessage("UnsupportedFormat", "The file is not a supported image."),
        }),
      );
    }
    pods.push(
      podRow({
        pod: `thumb-${JOB_D}-oom`,
        component: "runner",
        jobId: JOB_D,
        phase: "Failed",
        state: "terminated",
        reason: "OOMKilled",
        exitCode: 137,
      }),
    );
    const summary = summarize({
      "facts/pods.tsv": table(PODS_HEADER, pods),
      "facts/jobs.tsv": table(JOBS_HEADER, [
        jobRow({ jobId: JOB_A, outcome: "Failed", reason: "PodFailurePolicy" }),
        jobRow({ jobId: JOB_B, outcome: "Failed", reason: "PodFailurePolicy" }),
        jobRow({ jobId: JOB_C, outcome: "Failed", reason: "PodFailurePolicy" }),
        jobRow({ jobId: JOB_D, outcome: "Failed", reason: "BackoffLimitExceeded" }),
        jobRow({ jobId: JOB_E, outcome: "Failed", reason: "DeadlineExceeded" }),
      ]),
    });

    expect(findings(summary)).to.deep.equal([
      "3 jobs failed with UnsupportedFormat: the uploaded files are not usable images, nothing to fix in the cluster",
      "1 job failed with DeadlineExceeded: the Job ran past jobs.activeDeadlineSeconds (a pod that never started counts too)",
      "1 job failed with OOMKilled: raise runner.resources.limits.memory",
    ]);
    expect(summary).to.include("Jobs: 5 in total: 0 succeeded, 5 failed");
  });

  it("newest pod of a job decides its reason", () => {
    const summary = summarize({
      "facts/pods.tsv": table(PODS_HEADER, [
        healthyApiPod,
        podRow({
          pod: `thumb-${JOB_A}-new`,
          component: "runner",
          jobId: JOB_A,
          phase: "Failed",
          created: "2026-12-04T10:00:30Z",
          state: "terminated",
          reason: "Error",
          exitCode: 2,
          message: runnerMessage("CorruptImage", "The image cannot be decoded."),
        }),
        podRow({
          pod: `thumb-${JOB_A}-old`,
          component: "runner",
          jobId: JOB_A,
          phase: "Failed",
          created: "2026-12-04T10:00:00Z",
          state: "terminated",
          reason: "Error",
          exitCode: 1,
          message: runnerMessage("RunnerError", "Something else failed."),
        }),
      ]),
      "facts/jobs.tsv": table(JOBS_HEADER, [
        jobRow({ jobId: JOB_A, outcome: "Failed", reason: "PodFailurePolicy" }),
      ]),
    });

    expect(findings(summary)).to.deep.equal([
      "1 job failed with CorruptImage: the uploaded files are not usable images, nothing to fix in the cluster",
    ]);
  });

  it("runner image pull errors make one line with the image", () => {
    const pods = [healthyApiPod];
    for (const jobId of [JOB_A, JOB_B]) {
      pods.push(
        podRow({
          pod: `thumb-${jobId}-p`,
          component: "runner",
          jobId,
          phase: "Pending",
          image: "thumbnailer-runner:0.1.0-bad",
          state: "waiting",
          reason: "ErrImageNeverPull",
          message:
            'Container image "thumbnailer-runner:0.1.0-bad" is not present with pull policy of Never',
        }),
      );
    }
    const summary = summarize({ "facts/pods.tsv": table(PODS_HEADER, pods) });

    expect(findings(summary)).to.deep.equal([
      "runner image thumbnailer-runner:0.1.0-bad cannot be pulled (ErrImageNeverPull) for 2 pods: check the Helm values image.registry, image.runner.repository and image.tag, and image.pullPolicy (Never needs the image loaded on the node)",
      'kubelet: Container image "thumbnailer-runner:0.1.0-bad" is not present with pull policy of Never',
    ]);
  });

  it("pull error keeps the message of ErrImagePull over the back-off", () => {
    const summary = summarize({
      "facts/pods.tsv": table(PODS_HEADER, [
        podRow({
          pod: "thumbnailer-1",
          component: "api",
          phase: "Pending",
          image: "registry.example.com/thumbnailer-api:0.2.0",
          state: "waiting",
          reason: "ErrImagePull",
          message: "failed to resolve reference: not found",
        }),
        podRow({
          pod: "thumbnailer-2",
          component: "api",
          phase: "Pending",
          image: "registry.example.com/thumbnailer-api:0.2.0",
          state: "waiting",
          reason: "ImagePullBackOff",
          message: "Back-off pulling image",
        }),
      ]),
      "facts/deployments.tsv": table(DEPLOYMENTS_HEADER, [
        "thumbnailer\tthumbnailer\tapi\t1\t0\t0\t" + JSON.stringify(""),
      ]),
    });

    expect(findings(summary)).to.deep.equal([
      "deployment thumbnailer has 0/1 ready replicas",
      "api image registry.example.com/thumbnailer-api:0.2.0 cannot be pulled (ErrImagePull, ImagePullBackOff) for 2 pods: check the Helm values image.registry, image.api.repository and image.tag",
      "kubelet: failed to resolve reference: not found",
    ]);
  });

  it("deployment without ready replicas quotes its failure", () => {
    const problem =
      'pods "thumbnailer-1" is forbidden: violates PodSecurity "restricted:latest": runAsNonRoot != true';
    const summary = summarize({
      "facts/pods.tsv": table(PODS_HEADER, []),
      "facts/deployments.tsv": table(DEPLOYMENTS_HEADER, [
        `thumbnailer\tthumbnailer\tapi\t1\t0\t0\t${JSON.stringify(problem)}`,
      ]),
    });

    expect(findings(summary)).to.deep.equal([`deployment thumbnailer has 0/1 ready replicas: ${problem}`]);
  });

  it("readyz with a failing volume check names it", () => {
    const summary = summarize({
      "api/readyz.json": JSON.stringify({
        status: "not ready",
        checks: {
          jobInformer: "ok",
          podInformer: "not synced",
          volume: "EACCES: permission denied, open '/data/.probe-1'",
        },
      }),
    });

    expect(findings(summary)).to.deep.equal([
      "API not ready: the pod informer is not synced: the API cannot watch its Jobs or Pods (see logs/api/ and the Role in objects/roles.yaml)",
      "API not ready: the data volume is not writable (EACCES: permission denied, open '/data/.probe-1')",
    ]);
  });

  it("pods of another release are ignored", () => {
    const summary = summarize({
      "facts/pods.tsv": table(PODS_HEADER, [
        healthyApiPod,
        podRow({
          pod: "other-api",
          instance: "other",
          component: "api",
          phase: "Pending",
          state: "waiting",
          reason: "ErrImagePull",
        }),
      ]),
    });

    expect(findings(summary)).to.deep.equal(["no problem found in the collected data"]);
  });

  it("unscheduled pod and crashing API are reported", () => {
    const summary = summarize({
      "facts/pods.tsv": table(PODS_HEADER, [
        podRow({
          pod: "thumbnailer-1",
          component: "api",
          phase: "Running",
          restarts: 4,
          state: "waiting",
          reason: "CrashLoopBackOff",
          lastReason: "Error",
          lastExitCode: 1,
        }),
        podRow({
          pod: `thumb-${JOB_A}-s`,
          component: "runner",
          jobId: JOB_A,
          phase: "Pending",
          container: "-",
          image: "",
          state: "unscheduled",
          reason: "Unschedulable",
          message: "0/1 nodes are available: 1 Insufficient cpu.",
        }),
      ]),
    });

    expect(findings(summary)).to.deep.equal([
      "api container api in pod thumbnailer-1 keeps crashing (last exit: Error, code 1), 4 restarts: see logs/",
      "runner pod thumb-019349f0-8b2a-7c6e-9d7e-3f1a2b4c5d6e-s cannot be scheduled (Unschedulable): 0/1 nodes are available: 1 Insufficient cpu.",
    ]);
  });

  it("release not found is the first finding", () => {
    const summary = summarize({ "helm/list.yaml": "[]\n" });

    expect(findings(summary)[0]).to.equal(
      "Helm release thumbnailer was not found in namespace thumbnails: check NAMESPACE and RELEASE (helm list --all-namespaces)",
    );
  });

  it("helm status not found names the release", () => {
    const summary = summarize({
      "helm/list.yaml": null,
      "collection-log.tsv": "failed\thelm/status.txt\tError: release: not found\n",
    });

    expect(findings(summary)[0]).to.equal(
      "Helm release thumbnailer was not found in namespace thumbnails: check NAMESPACE and RELEASE (helm list --all-namespaces)",
    );
    expect(summary).to.include("Chart and release status: not collected");
  });

  it("failed Helm upgrade is reported", () => {
    const summary = summarize({
      "helm/list.yaml": helmList.replace("status: deployed", "status: failed"),
    });

    expect(findings(summary)).to.deep.equal([
      "Helm release thumbnailer is failed, not deployed: see helm/history.txt for the failed revision's description",
    ]);
  });

  it("Helm release still installing is not called failed", () => {
    const summary = summarize({
      "helm/list.yaml": helmList.replace("status: deployed", "status: pending-install"),
    });

    expect(findings(summary)).to.deep.equal([
      "Helm release thumbnailer is pending-install: a helm install, upgrade or rollback is still running or was interrupted; see helm/history.txt",
    ]);
  });

  it("nearly full volume and sick node are reported", () => {
    const summary = summarize({
      "volume/usage.txt":
        "bytesTotal=10737418240\nbytesUsed=10200547328\nbytesFree=536870912\njobFolders=3\nwithOriginal=1\nwithThumbnail=2\n",
      "volume/job-folder-ids.txt": `${JOB_A}\n${JOB_B}\n${JOB_C}\n`,
      "facts/nodes.tsv": table(NODES_HEADER, [
        "node-1\tFalse\tDiskPressure \ttrue\t2\t24Gi\t110\t100Gi\tv1.35.4",
      ]),
    });

    expect(findings(summary)).to.deep.equal([
      "node node-1 is not Ready (Ready=False): see nodes/conditions.txt",
      "node node-1 reports DiskPressure",
      "node node-1 is cordoned (unschedulable)",
      "the data volume is 95% full (512.0 MiB free of 10.0 GiB): uploads get 507 when it is full; lower jobs.ttlSecondsAfterFinished or grow the claim",
    ]);
    expect(summary).to.include(
      "Volume: 9.5 GiB used, 512.0 MiB free of 10.0 GiB; 3 job folders (1 with an original, 2 with a thumbnail); 2 without a Job",
    );
  });

  it("user-supplied values and the file list are shown", () => {
    const summary = summarize({
      "helm/values.yaml": "USER-SUPPLIED VALUES:\nimage:\n  runner:\n    repository: thumbnailer-runner-missing\n",
    });

    expect(summary).to.include(
      "Helm values set for this release (helm get values)\n  image:\n    runner:\n      repository: thumbnailer-runner-missing\n",
    );
    expect(summary).to.match(/Files in this bundle\n {2}SUMMARY\.txt\n {2}api\/readyz\.json\n/);
  });

  it("API error lines are counted by message", () => {
    const line = (level: string, msg: string) =>
      JSON.stringify({ time: "2026-12-04T10:00:00Z", level, msg, service: "thumbnailer-api" });
    const summary = summarize({
      "logs/api/thumbnailer-1.log": [
        line("info", "api started"),
        line("error", "creating the Job failed"),
        line("warn", "upload rejected"),
        line("error", "creating the Job failed"),
        line("error", 'volume check failed: "disk"'),
        "",
      ].join("\n"),
    });

    expect(findings(summary)).to.deep.equal([
      'API logged 2 errors "creating the Job failed": see logs/api/thumbnailer-1.log',
      'API logged 1 error "volume check failed: "disk"": see logs/api/thumbnailer-1.log',
    ]);
    expect(summary).to.include("API log logs/api/thumbnailer-1.log: 5 lines, 3 error, 1 warn");
  });

  it("empty steps are listed apart from failures", () => {
    const summary = summarize({
      "collection-log.tsv":
        "ok\tfacts/pods.tsv\t\nnone\tlogs/runners\tno failed runner pod of release thumbnailer is left\n",
    });

    expect(summary).to.include(
      "Not collected\n  - nothing: every step succeeded\n\nNothing to collect\n  - logs/runners: no failed runner pod of release thumbnailer is left\n",
    );
    expect(findings(summary)).to.deep.equal(["no problem found in the collected data"]);
  });

  it("missing facts are listed as not collected", () => {
    const summary = summarize({
      "facts/pods.tsv": null,
      "facts/jobs.tsv": null,
      "api/readyz.json": null,
      "volume/usage.txt": null,
      "collection-log.tsv":
        "failed\tfacts/pods.tsv\tpods is forbidden\nfailed\tapi/readyz.json\tno API pod of release thumbnailer is running\nskipped\tlogs/api\tno API pod of release thumbnailer has a container yet\n",
    });

    expect(findings(summary)).to.deep.equal([
      "no problem found in what was collected (see Not collected below)",
    ]);
    expect(summary).to.include("Jobs: not collected");
    expect(summary).to.include("Volume: not collected");
    expect(summary).to.include("API /readyz: not collected");
    expect(summary).to.include(
      "Not collected\n  - facts/pods.tsv (failed): pods is forbidden\n  - api/readyz.json (failed): no API pod of release thumbnailer is running\n  - logs/api (skipped): no API pod of release thumbnailer has a container yet\n",
    );
  });
});

describe("support-bundle.sh scrub-check", () => {
  before(() => {
    workDir = mkdtempSync(join(tmpdir(), "support-bundle-test-"));
  });

  after(() => {
    rmSync(workDir, { recursive: true, force: true });
  });

  const text = "plain log line: GIF and PNG are accepted, RIFF too\n";
  const signatures: Record<string, Buffer> = {
    PNG: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
    JPEG: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46]),
    GIF: Buffer.from("GIF89a\x01\x00\x01\x00", "latin1"),
    WebP: Buffer.concat([
      Buffer.from("RIFF"),
      Buffer.from([0x0a, 0, 0, 0]),
      Buffer.from("WEBPVP8L"),
    ]),
  };

  it("clean text passes", () => {
    const result = scrubCheck({ "logs/api.log": text, "objects/pods.yaml": "kind: Pod\n" });

    expect(result.status).to.equal(0);
    expect(result.stderr).to.equal("");
  });

  for (const [format, bytes] of Object.entries(signatures)) {
    it(`${format} bytes in a log fail the check`, () => {
      const result = scrubCheck({
        "logs/api.log": text,
        "logs/runners/pod.log": Buffer.concat([Buffer.from("before "), bytes, Buffer.from(" after")]),
      });

      expect(result.status).to.equal(1);
      expect(result.stderr).to.include(
        `SCRUB CHECK FAILED: logs/runners/pod.log contains the signature of a ${format} image`,
      );
      expect(result.stderr).not.to.include("logs/api.log");
    });

    it(`${format} in base64 fails the check`, () => {
      const encoded = Buffer.concat([bytes, Buffer.alloc(12, 7)]).toString("base64");
      const result = scrubCheck({ "api/metrics.txt": `data:image;base64,${encoded}\n` });

      expect(result.status).to.equal(1);
      expect(result.stderr).to.include(
        `api/metrics.txt contains the signature of a base64 ${format} image`,
      );
    });
  }
});
