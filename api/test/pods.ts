import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import type { V1Job } from "@kubernetes/client-node";

import type { Harness } from "./harness.js";

export const RUNNER_BIN = fileURLToPath(new URL("../../runner/dist/main.js", import.meta.url));

export interface PodRun {
  exitCode: number;
  terminationMessage: string;
}

/**
 * Runs the real runner on the job's folder exactly as its pod would: the
 * Job's own container args, with /job mapped to the job folder.
 */
export async function runAsPod(h: Harness, job: V1Job): Promise<PodRun> {
  const container = job.spec!.template.spec!.containers[0]!;
  const mount = container.volumeMounts!.find((m) => m.mountPath === "/job")!;
  const folder = join(h.dataDir, mount.subPath!);
  const args = (container.args ?? []).map((arg) => arg.replace("=/job/", `=${folder}/`));

  const scratch = await mkdtemp(join(tmpdir(), "thumbnailer-pod-"));
  const terminationPath = join(scratch, "termination-log");
  try {
    const exitCode = await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, [RUNNER_BIN, ...args], {
        env: { PATH: process.env.PATH, TERMINATION_MESSAGE_PATH: terminationPath },
        stdio: ["ignore", "ignore", "inherit"],
      });
      child.on("error", reject);
      child.on("exit", (code) => resolve(code ?? -1));
    });
    const terminationMessage = await readFile(terminationPath, "utf8").catch(() => "");
    return { exitCode, terminationMessage };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Reports the pod's outcome to the fake API server the way the Job controller and kubelet would. */
export function reportOutcome(h: Harness, job: V1Job, run: PodRun): void {
  const name = job.metadata!.name!;
  const started = new Date(Date.now() - 2000);
  const now = new Date();
  h.fake.putPod({
    metadata: {
      name: `${name}-abcde`,
      labels: { ...job.spec!.template.metadata!.labels, "job-name": name },
      creationTimestamp: started,
    },
    status: {
      phase: run.exitCode === 0 ? "Succeeded" : "Failed",
      containerStatuses: [
        {
          name: "runner",
          image: "thumbnailer-runner:0.1.0",
          imageID: "",
          ready: false,
          restartCount: 0,
          state: {
            terminated: {
              exitCode: run.exitCode,
              reason: run.exitCode === 0 ? "Completed" : "Error",
              message: run.terminationMessage,
            },
          },
        },
      ],
    },
  });
  if (run.exitCode === 0) {
    h.fake.setJobStatus(name, {
      startTime: started,
      completionTime: now,
      succeeded: 1,
      conditions: [
        { type: "SuccessCriteriaMet", status: "True", lastTransitionTime: now },
        { type: "Complete", status: "True", lastTransitionTime: now },
      ],
    });
  } else {
    h.fake.setJobStatus(name, {
      startTime: started,
      failed: 1,
      conditions: [
        {
          type: "FailureTarget",
          status: "True",
          reason: "PodFailurePolicy",
          lastTransitionTime: now,
        },
        { type: "Failed", status: "True", reason: "PodFailurePolicy", lastTransitionTime: now },
      ],
    });
  }
}
