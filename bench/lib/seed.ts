/**
 * Fills a FakeKube and a data folder as a cluster and volume that hold
 * `jobCount` jobs would be: one job in 50 still running, 4 in 50 failed,
 * the rest succeeded, each with its pod and its job folder.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

import sharp from "sharp";
import { v7 as uuidv7 } from "uuid";

import { parseRunnerJobTemplate } from "../../api/src/jobTemplate.js";
import type { FakeKube } from "../../api/test/fakeKube.js";
import { TEMPLATE_PATH } from "../../api/test/harness.js";
import { realisticJob, realisticPod, type Outcome } from "./kube-objects.js";

export interface SeededJobs {
  outcomes: Record<Outcome, number>;
  /** Every job id, oldest first. */
  ids: string[];
}

function outcomeOf(index: number): Outcome {
  const slot = index % 50;
  if (slot === 0) return "running";
  if (slot <= 4) return "failed";
  return "succeeded";
}

export async function seedJobs(
  fake: FakeKube,
  dataDir: string,
  jobCount: number,
  withManagedFields: boolean,
): Promise<SeededJobs> {
  const templateText = await readFile(TEMPLATE_PATH, "utf8");
  const template = parseRunnerJobTemplate(templateText);
  const thumbnail = await sharp({
    create: {
      width: 100,
      height: 100,
      channels: 4,
      background: { r: 230, g: 30, b: 30, alpha: 1 },
    },
  })
    .png()
    .toBuffer();

  const outcomes: Record<Outcome, number> = { succeeded: 0, failed: 0, running: 0 };
  const ids: string[] = [];
  // One job every 2 seconds, the newest created a minute ago.
  const newestMs = Date.now() - 60_000;
  let resourceVersion = 1000;
  const writes: Promise<void>[] = [];

  for (let index = 0; index < jobCount; index++) {
    const createdAt = new Date(newestMs - (jobCount - index) * 2000);
    const id = uuidv7({ msecs: createdAt.getTime() });
    const outcome = outcomeOf(index);
    outcomes[outcome] += 1;
    ids.push(id);

    const job = realisticJob(
      template,
      {
        id,
        namespace: fake.namespace,
        releaseName: "thumbnailer",
        createdAt,
        resourceVersion: ++resourceVersion,
      },
      outcome,
    );
    const pod = realisticPod(job, outcome, ++resourceVersion);
    if (!withManagedFields) {
      delete job.metadata!.managedFields;
      delete pod.metadata!.managedFields;
    }
    fake.jobs.set(job.metadata!.name!, job);
    fake.pods.set(pod.metadata!.name!, pod);

    writes.push(writeJobFolder(dataDir, id, createdAt, index, outcome, thumbnail));
    if (writes.length >= 200) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
  return { outcomes, ids };
}

async function writeJobFolder(
  dataDir: string,
  id: string,
  createdAt: Date,
  index: number,
  outcome: Outcome,
  thumbnail: Buffer,
): Promise<void> {
  const folder = path.join(dataDir, "jobs", id);
  await mkdir(folder, { recursive: true });
  const meta = {
    id,
    createdAt: createdAt.toISOString(),
    fit: "contain",
    original: { filename: `emoji-${index}.png`, contentType: "image/png", bytes: 40_000 + index },
  };
  await writeFile(path.join(folder, "meta.json"), JSON.stringify(meta));
  if (outcome !== "succeeded") return;
  const result = {
    contentType: "image/png",
    width: 100,
    height: 100,
    bytes: thumbnail.length,
    frames: 1,
    input: { format: "png", width: 512, height: 512 },
    durationMs: 85,
  };
  await writeFile(path.join(folder, "result.json"), `${JSON.stringify(result)}\n`);
  await writeFile(path.join(folder, "thumbnail"), thumbnail);
}
