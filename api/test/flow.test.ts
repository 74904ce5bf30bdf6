import { access, readdir, rm } from "node:fs/promises";
import { join } from "node:path";

import { expect } from "chai";
import sharp from "sharp";

import type { JobDocument } from "../src/jobStatus.js";
import { RUNNER_BIN, reportOutcome, runAsPod, type PodRun } from "./pods.js";
import {
  animatedGif,
  decompressionBombPng,
  orientedJpeg,
  transparentPng,
  truncatedJpeg,
} from "../../runner/test/fixtures.js";
import { startApi, upload, waitFor, type Harness } from "./harness.js";

async function getJob(h: Harness, id: string): Promise<JobDocument> {
  const res = await fetch(`${h.baseUrl}/v1/jobs/${id}`);
  expect(res.status).to.equal(200);
  return (await res.json()) as JobDocument;
}

/** Uploads, runs the runner as the pod would, reports the outcome, and waits for a final status. */
async function processImage(
  h: Harness,
  image: Buffer,
  fit?: string,
): Promise<{ doc: JobDocument; run: PodRun }> {
  const res = await upload(h.baseUrl, image, fit === undefined ? {} : { fit });
  expect(res.status).to.equal(202);
  const { id } = (await res.json()) as JobDocument;
  const job = h.fake.jobs.get(`thumb-${id}`)!;
  const run = await runAsPod(h, job);
  reportOutcome(h, job, run);
  await waitFor(async () => (await getJob(h, id)).status !== "processing", "the job to finish");
  return { doc: await getJob(h, id), run };
}

async function pixel(image: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(image)
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const offset = (y * info.width + x) * 4;
  return [...data.subarray(offset, offset + 4)];
}

describe("upload to thumbnail flow", function () {
  this.timeout(60000);
  let h: Harness;

  before(async () => {
    await access(RUNNER_BIN).catch(() => {
      throw new Error(`${RUNNER_BIN} is missing: run npm run build first`);
    });
  });

  beforeEach(async () => {
    h = await startApi();
  });

  afterEach(async () => {
    await h.close();
  });

  it("turns a transparent PNG into a 100x100 PNG with alpha", async () => {
    const { doc, run } = await processImage(h, await transparentPng());
    expect(run.exitCode).to.equal(0);
    expect(doc.status).to.equal("succeeded");
    expect(doc.thumbnail).to.deep.include({ contentType: "image/png", width: 100, height: 100 });

    const res = await fetch(`${h.baseUrl}/v1/jobs/${doc.id}/thumbnail`);
    expect(res.status).to.equal(200);
    expect(res.headers.get("content-type")).to.equal("image/png");
    expect(res.headers.get("cache-control")).to.match(/^private/);
    const etag = res.headers.get("etag");
    expect(etag).to.equal(`"${doc.id}"`);
    const thumbnail = Buffer.from(await res.arrayBuffer());
    expect(thumbnail.length).to.equal(doc.thumbnail!.bytes);
    const meta = await sharp(thumbnail).metadata();
    expect([meta.width, meta.height, meta.hasAlpha]).to.deep.equal([100, 100, true]);

    const again = await fetch(`${h.baseUrl}/v1/jobs/${doc.id}/thumbnail`, {
      headers: { "If-None-Match": etag! },
    });
    expect(again.status).to.equal(304);
  });

  it("turns an EXIF-rotated JPEG into an upright thumbnail", async () => {
    const { doc } = await processImage(h, await orientedJpeg(6));
    expect(doc.status).to.equal("succeeded");
    const thumbnail = Buffer.from(
      await (await fetch(`${h.baseUrl}/v1/jobs/${doc.id}/thumbnail`)).arrayBuffer(),
    );
    const meta = await sharp(thumbnail).metadata();
    expect([meta.width, meta.height]).to.deep.equal([100, 100]);
    expect(meta.orientation).to.equal(undefined);
  });

  it("keeps an animated GIF animated", async () => {
    const { doc } = await processImage(h, await animatedGif());
    expect(doc.status).to.equal("succeeded");
    expect(doc.thumbnail?.contentType).to.equal("image/gif");
    const thumbnail = Buffer.from(
      await (await fetch(`${h.baseUrl}/v1/jobs/${doc.id}/thumbnail`)).arrayBuffer(),
    );
    const meta = await sharp(thumbnail, { animated: true }).metadata();
    expect(meta.pages).to.be.greaterThan(1);
    expect(meta.width).to.equal(100);
  });

  it("fills the frame with fit=cover", async () => {
    const { doc } = await processImage(h, await transparentPng(), "cover");
    expect(doc.status).to.equal("succeeded");
    const thumbnail = Buffer.from(
      await (await fetch(`${h.baseUrl}/v1/jobs/${doc.id}/thumbnail`)).arrayBuffer(),
    );
    expect((await sharp(thumbnail).metadata()).width).to.equal(100);
  });

  it("removes the original once the thumbnail exists", async () => {
    const { doc } = await processImage(h, await transparentPng());
    await waitFor(
      async () => !(await readdir(join(h.dataDir, "jobs", doc.id))).includes("original"),
      "the original to go",
    );
    const files = (await readdir(join(h.dataDir, "jobs", doc.id))).sort();
    expect(files).to.deep.equal(["meta.json", "result.json", "thumbnail"]);
  });

  it("reports a truncated JPEG as failed with the runner's reason", async () => {
    const { doc, run } = await processImage(h, await truncatedJpeg());
    expect(run.exitCode).to.equal(2);
    expect(doc.status).to.equal("failed");
    expect(doc.error?.reason).to.equal("CorruptImage");
    expect(doc.error?.message).to.be.a("string").and.not.equal("");
    expect(doc.thumbnail).to.equal(undefined);

    const res = await fetch(`${h.baseUrl}/v1/jobs/${doc.id}/thumbnail`);
    expect(res.status).to.equal(409);
    expect(((await res.json()) as { jobStatus: string }).jobStatus).to.equal("failed");
  });

  it("reports a decompression bomb as failed with TooManyPixels", async () => {
    const { doc, run } = await processImage(h, decompressionBombPng());
    expect(run.exitCode).to.equal(2);
    expect(doc.error?.reason).to.equal("TooManyPixels");
  });

  it("reports a thumbnail missing on the volume as failed", async () => {
    const { doc } = await processImage(h, await transparentPng());
    await rm(join(h.dataDir, "jobs", doc.id, "thumbnail"));
    const res = await fetch(`${h.baseUrl}/v1/jobs/${doc.id}/thumbnail`);
    expect(res.status).to.equal(409);
    const after = await getJob(h, doc.id);
    expect(after.status).to.equal("failed");
    expect(after.error?.reason).to.equal("ThumbnailMissing");
  });

  it("keeps the pixels of the source", async () => {
    const red = await sharp({
      create: { width: 50, height: 50, channels: 3, background: { r: 255, g: 0, b: 0 } },
    })
      .png()
      .toBuffer();
    const { doc } = await processImage(h, red, "fill");
    const thumbnail = Buffer.from(
      await (await fetch(`${h.baseUrl}/v1/jobs/${doc.id}/thumbnail`)).arrayBuffer(),
    );
    const [r, g, b, a] = await pixel(thumbnail, 50, 50);
    expect(r).to.be.greaterThan(250);
    expect(g).to.be.lessThan(5);
    expect(b).to.be.lessThan(5);
    expect(a).to.equal(255);
  });

  it("Job Event and lifecycle logs, no file name", async () => {
    const res = await upload(h.baseUrl, await transparentPng(), {
      filename: "TOP-SECRET-launch.png",
    });
    const { id } = (await res.json()) as JobDocument;
    const job = h.fake.jobs.get(`thumb-${id}`)!;
    reportOutcome(h, job, await runAsPod(h, job));
    await waitFor(() => h.fake.events.length === 1, "the Event");
    const event = h.fake.events[0] as {
      reason: string;
      type: string;
      involvedObject: { kind: string; name: string };
    };
    expect(event.involvedObject).to.deep.include({ kind: "Job", name: `thumb-${id}` });
    expect([event.type, event.reason]).to.deep.equal(["Normal", "ThumbnailReady"]);

    const messages = h.logs.filter((l) => l.jobId === id).map((l) => l.msg);
    expect(messages).to.include.members(["job created", "job succeeded"]);
    expect(JSON.stringify(h.logs)).not.to.contain("TOP-SECRET");
    expect(JSON.stringify(h.fake.events)).not.to.contain("TOP-SECRET");
  });
});
