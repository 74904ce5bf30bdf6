/**
 * The Kubernetes API stub of the benchmarks: FakeKube from the API's tests
 * in its own process, so that its memory and CPU are not the API's. It
 * creates each Job at once. With JOB_COUNT, it first holds that many Jobs
 * and pods and writes their job folders into DATA_DIR (see lib/seed.ts).
 * Writes a kubeconfig for itself to KUBECONFIG_PATH, sends
 * { type: "ready", ... } over IPC and exits on { type: "stop" }.
 *
 * Usage: node --import tsx bench/servers/fake-kube-server.ts KUBECONFIG_PATH
 *          [JOB_COUNT DATA_DIR [without-managed-fields]]
 */
import { writeFile } from "node:fs/promises";

import { FakeKube } from "../../api/test/fakeKube.js";
import { exitOnStopMessage } from "../lib/processes.js";
import { seedJobs, type SeededJobs } from "../lib/seed.js";

export interface FakeKubeReady extends SeededJobs {
  type: "ready";
  namespace: string;
}

const [kubeconfigPath, countText = "0", dataDir, variant] = process.argv.slice(2);
const jobCount = Number(countText);
if (
  kubeconfigPath === undefined ||
  process.send === undefined ||
  !Number.isSafeInteger(jobCount) ||
  jobCount < 0 ||
  (jobCount > 0 && dataDir === undefined) ||
  (variant !== undefined && variant !== "without-managed-fields")
) {
  throw new Error(
    "usage: fake-kube-server.ts KUBECONFIG_PATH [JOB_COUNT DATA_DIR [without-managed-fields]], started with an IPC channel",
  );
}

const fake = new FakeKube();
const seeded =
  jobCount > 0
    ? await seedJobs(fake, dataDir!, jobCount, variant === undefined)
    : { outcomes: { succeeded: 0, failed: 0, running: 0 }, ids: [] };
await fake.start();
// A kubeconfig in JSON is valid YAML, which is what KubeConfig.loadFromFile reads.
await writeFile(kubeconfigPath, fake.kubeConfig().exportConfig());
exitOnStopMessage(() => fake.stop());
const ready: FakeKubeReady = { type: "ready", namespace: fake.namespace, ...seeded };
process.send(ready);
