import { expect } from "chai";
import sharp from "sharp";

import type { JobDocument } from "../src/jobStatus.js";
import { FakeKube } from "./fakeKube.js";
import { startApi, upload, waitFor, type Harness } from "./harness.js";
import { reportOutcome, runAsPod } from "./pods.js";

const UPLOADS = 60;
const CONCURRENCY = 12;

/**
 * Plays the Job controller and kubelet: runs the real runner for every
 * resumed Job that has no status yet, two at a time, until stopped.
 */
function runJobs(h: Harness): { stop: () => Promise<void> } {
  let stopped = false;
  const running = new Set<string>();
  const loop = (async () => {
    while (!stopped) {
      const ready = [...h.fake.jobs.values()].filter(
        (job) =>
          job.spec?.suspend === false &&
          job.status?.conditions === undefined &&
          !running.has(job.metadata!.name!),
      );
      for (const job of ready.slice(0, Math.max(0, 2 - running.size))) {
        const name = job.metadata!.name!;
        running.add(name);
        void runAsPod(h, job)
          .then((run) => {
            if (h.fake.jobs.has(name)) reportOutcome(h, job, run);
          })
          .finally(() => running.delete(name));
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

describe("upload load", function () {
  this.timeout(120000);
  let h: Harness;

  afterEach(async () => {
    await h.close();
  });

  it("answers every upload with 202, 429 or 503 and finishes every 202", async () => {
    const fake = new FakeKube();
    // Every seventh Job creation fails, as a flaky API server would.
    for (let i = 0; i < UPLOADS; i++) fake.createFaults.push(i % 7 === 3 ? { status: 503 } : {});
    h = await startApi({ MAX_RUNNING_JOBS: "4", MAX_QUEUED_JOBS: "15" }, fake);
    const jobs = runJobs(h);

    const images = await Promise.all(
      [0, 1, 2].map((i) =>
        sharp({
          create: {
            width: 300 + i * 100,
            height: 200,
            channels: 4,
            background: { r: 40 * i, g: 90, b: 200, alpha: 0.7 },
          },
        })
          .png()
          .toBuffer(),
      ),
    );
    const statuses: number[] = [];
    const accepted: string[] = [];
    const errors: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < UPLOADS) {
        const index = next++;
        try {
          const res = await upload(h.baseUrl, images[index % images.length]!);
          statuses.push(res.status);
          if (res.status === 202) accepted.push(((await res.json()) as JobDocument).id);
          else {
            if (res.status === 429 || res.status === 503)
              expect(res.headers.get("retry-after")).to.match(/^\d+$/);
            await res.body?.cancel();
          }
        } catch (err) {
          errors.push(String(err));
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    expect(errors).to.deep.equal([]);
    expect(statuses).to.have.length(UPLOADS);
    expect(statuses.filter((s) => ![202, 429, 503].includes(s))).to.deep.equal([]);
    expect(statuses).to.include(202);

    await waitFor(
      async () => {
        const res = await fetch(`${h.baseUrl}/v1/jobs?limit=500&status=processing`);
        return ((await res.json()) as { items: unknown[] }).items.length === 0;
      },
      "every accepted job to finish",
      90000,
    );
    await jobs.stop();

    const list = (await (await fetch(`${h.baseUrl}/v1/jobs?limit=500`)).json()) as {
      items: JobDocument[];
    };
    expect(list.items.map((i) => i.id).sort()).to.deep.equal([...accepted].sort());
    expect(list.items.filter((i) => i.status !== "succeeded")).to.deep.equal([]);
  });
});
