import { mkdir, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { expect } from "chai";
import sharp from "sharp";

import { newJobId } from "../src/ids.js";
import type { JobDocument } from "../src/jobStatus.js";
import { startApi, upload, waitFor, type Harness } from "./harness.js";

let png: Buffer;

async function uploadOne(h: Harness): Promise<string> {
  const res = await upload(h.baseUrl, png);
  expect(res.status).to.equal(202);
  return ((await res.json()) as JobDocument).id;
}

async function getJson(h: Harness, path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${h.baseUrl}${path}`);
  return { status: res.status, body: await res.json() };
}

async function folderExists(h: Harness, id: string): Promise<boolean> {
  return (await readdir(join(h.dataDir, "jobs"))).includes(id);
}

function failJob(h: Harness, id: string): void {
  h.fake.setJobStatus(`thumb-${id}`, {
    failed: 1,
    conditions: [
      {
        type: "Failed",
        status: "True",
        reason: "DeadlineExceeded",
        message: "Job was active longer than specified deadline",
      },
    ],
  });
}

describe("job reads and deletes", () => {
  let h: Harness;

  before(async () => {
    png = await sharp({ create: { width: 8, height: 8, channels: 4, background: "#00ff0080" } })
      .png()
      .toBuffer();
  });

  beforeEach(async () => {
    h = await startApi({ ORPHAN_GRACE_SECONDS: "60" });
  });

  afterEach(async () => {
    await h.close();
  });

  it("answers 400 to a malformed id and 404 to an unknown one", async () => {
    const bad = await getJson(h, "/v1/jobs/not-a-uuid");
    expect(bad.status).to.equal(400);
    expect(bad.body.detail).to.match(/UUIDv7/);
    const v4 = await getJson(h, "/v1/jobs/0f8fad5b-d9cb-469f-a165-70867728950e");
    expect(v4.status).to.equal(400);

    const id = newJobId();
    const unknown = await getJson(h, `/v1/jobs/${id}`);
    expect(unknown.status).to.equal(404);
    expect(unknown.body).to.include({ status: 404, jobId: id, title: "Not Found" });
    expect((await getJson(h, `/v1/jobs/${id}/thumbnail`)).status).to.equal(404);
  });

  it("pages through the list newest first", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await uploadOne(h));
    const newestFirst = [...ids].reverse();

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { status: number; body: any } = await getJson(
        h,
        `/v1/jobs?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(page.status).to.equal(200);
      seen.push(...page.body.items.map((item: JobDocument) => item.id));
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(seen).to.deep.equal(newestFirst);
    expect(pages).to.equal(3);
  });

  it("filters the list by status", async () => {
    const ids = [await uploadOne(h), await uploadOne(h)];
    failJob(h, ids[0]!);
    await waitFor(
      async () => (await getJson(h, `/v1/jobs/${ids[0]}`)).body.status === "failed",
      "the failure",
    );
    const failed = await getJson(h, "/v1/jobs?status=failed");
    expect(failed.body.items.map((i: JobDocument) => i.id)).to.deep.equal([ids[0]]);
    expect(failed.body.items[0].error.reason).to.equal("DeadlineExceeded");
    const processing = await getJson(h, "/v1/jobs?status=processing");
    expect(processing.body.items.map((i: JobDocument) => i.id)).to.deep.equal([ids[1]]);
  });

  for (const query of [
    "limit=0",
    "limit=501",
    "limit=ten",
    "status=done",
    "cursor=abc",
    "sort=asc",
    "limit=1&limit=2",
  ]) {
    it(`answers 400 to the list query ${query}`, async () => {
      const res = await getJson(h, `/v1/jobs?${query}`);
      expect(res.status).to.equal(400);
      expect(res.body.detail).to.be.a("string").and.not.equal("");
    });
  }

  it("deletes a job, and its folder follows", async () => {
    const id = await uploadOne(h);
    const res = await fetch(`${h.baseUrl}/v1/jobs/${id}`, { method: "DELETE" });
    expect(res.status).to.equal(204);
    expect(h.fake.deletedJobs).to.deep.equal([`thumb-${id}`]);
    await waitFor(async () => !(await folderExists(h, id)), "the folder to be removed");
    expect((await getJson(h, `/v1/jobs/${id}`)).status).to.equal(404);
    expect((await fetch(`${h.baseUrl}/v1/jobs/${id}`, { method: "DELETE" })).status).to.equal(404);
  });

  it("removes the folder of a Job deleted by hand", async () => {
    const id = await uploadOne(h);
    h.fake.deleteJob(`thumb-${id}`);
    await waitFor(async () => !(await folderExists(h, id)), "the folder to be removed");
  });

  it("sweeps a folder without a Job after the grace period only", async () => {
    const old = newJobId();
    const young = newJobId();
    for (const id of [old, young]) {
      await mkdir(join(h.dataDir, "jobs", id), { recursive: true });
      await writeFile(join(h.dataDir, "jobs", id, "original"), png);
    }
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await utimes(join(h.dataDir, "jobs", old), twoMinutesAgo, twoMinutesAgo);

    await waitFor(async () => !(await folderExists(h, old)), "the old folder to be swept");
    expect(await folderExists(h, young)).to.equal(true);
  });

  it("relists after a 410 Gone and sees what the watch missed", async () => {
    const id = newJobId();
    const listsBefore = h.fake.listCount.jobs;
    // A Job that appears without a watch event, as if the event was lost.
    h.fake.jobs.set(`thumb-${id}`, {
      metadata: {
        name: `thumb-${id}`,
        namespace: h.fake.namespace,
        resourceVersion: "999999",
        labels: {
          "thumbnailer.cogent.co.jp/job-id": id,
          "app.kubernetes.io/instance": "thumbnailer",
        },
      },
      spec: { template: {} },
      status: {},
    });
    h.fake.expireWatches("jobs");
    await waitFor(() => h.fake.listCount.jobs > listsBefore, "a relist");
    await waitFor(
      async () => (await getJson(h, `/v1/jobs/${id}`)).status === 200,
      "the missed Job",
    );
  });

  it("reconnects a dropped watch and keeps reads current", async () => {
    const id = await uploadOne(h);
    const watchesBefore = h.fake.watchCount.jobs;
    h.fake.dropWatches();
    await waitFor(
      () => h.fake.openWatches("jobs") === 1 && h.fake.watchCount.jobs > watchesBefore,
      "a new watch",
      10000,
    );
    failJob(h, id);
    await waitFor(
      async () => (await getJson(h, `/v1/jobs/${id}`)).body.status === "failed",
      "the update after reconnecting",
    );
  });

  it("becomes ready after the first list fails", async () => {
    await h.close();
    const { FakeKube } = await import("./fakeKube.js");
    const fake = new FakeKube();
    fake.listFaults.jobs.push(500, 503);
    h = await startApi({}, fake);
    expect(fake.listCount.jobs).to.be.at.least(3);
    const restarts = h.logs.filter(
      (line) => line.msg === "informer failed; restarting" && line.informer === "jobs",
    );
    expect(restarts.map((line) => line.code)).to.deep.equal(["500", "503"]);
    const ready = await getJson(h, "/readyz");
    expect(ready.status).to.equal(200);
  });

  it("reports the volume in /readyz when it cannot take writes", async () => {
    expect((await getJson(h, "/readyz")).status).to.equal(200);
    await rm(h.dataDir, { recursive: true, force: true });
    await writeFile(h.dataDir, "not a folder");
    await waitFor(async () => (await getJson(h, "/readyz")).status === 503, "readiness to fail");
    const res = await getJson(h, "/readyz");
    expect(res.body.checks.volume).to.match(/^volume not writable/);
    expect(res.body.checks.jobInformer).to.equal("ok");
    await rm(h.dataDir, { force: true });
    await mkdir(h.dataDir);
  });

  it("serves /healthz, /openapi.json and /metrics with route labels", async () => {
    const id = await uploadOne(h);
    await getJson(h, `/v1/jobs/${id}`);
    expect((await getJson(h, "/healthz")).status).to.equal(200);
    const openapi = await getJson(h, "/openapi.json");
    expect(openapi.body.openapi).to.equal("3.1.0");
    expect(Object.keys(openapi.body.paths)).to.include.members([
      "/v1/jobs",
      "/v1/jobs/{id}",
      "/v1/jobs/{id}/thumbnail",
    ]);

    const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(metrics).to.contain(
      'thumbnailer_http_requests_total{method="GET",route="/v1/jobs/:id",status="200"} 1',
    );
    expect(metrics).to.contain(
      'thumbnailer_http_requests_total{method="POST",route="/v1/jobs",status="202"} 1',
    );
    expect(metrics).to.contain("thumbnailer_jobs_created_total 1");
    expect(metrics).to.contain('thumbnailer_jobs{stage="pending"} 1');
    expect(metrics).to.match(/thumbnailer_volume_free_bytes \d+/);
    expect(metrics).not.to.contain(id);
  });

  it("lists a cache filled from a paged list", async () => {
    await h.close();
    const { FakeKube } = await import("./fakeKube.js");
    const fake = new FakeKube();
    const ids: string[] = [];
    for (let i = 0; i < 1203; i++) {
      const id = newJobId();
      ids.push(id);
      fake.jobs.set(`thumb-${id}`, {
        metadata: {
          name: `thumb-${id}`,
          namespace: fake.namespace,
          labels: { "thumbnailer.cogent.co.jp/job-id": id },
          managedFields: [{ manager: "kube-controller-manager", operation: "Update" }],
        },
        spec: { suspend: false, template: {} },
        status: { active: 1 },
      });
    }
    h = await startApi({}, fake);
    expect(fake.listPageCount.jobs).to.equal(3);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: any } = await getJson(
        h,
        `/v1/jobs?limit=500${cursor ? `&cursor=${cursor}` : ""}`,
      );
      seen.push(...page.body.items.map((item: JobDocument) => item.id));
      cursor = page.body.nextCursor;
    } while (cursor !== null && seen.length <= ids.length);
    expect(seen).to.deep.equal([...ids].sort().reverse());
  });

  it("answers 404 as problem+json to an unknown route", async () => {
    const res = await fetch(`${h.baseUrl}/v2/nothing`);
    expect(res.status).to.equal(404);
    expect(res.headers.get("content-type")).to.match(/^application\/problem\+json/);
    expect(res.headers.get("x-request-id")).to.be.a("string");
  });
});

describe("admission", () => {
  let h: Harness;

  before(async () => {
    png = await sharp({ create: { width: 8, height: 8, channels: 4, background: "#00ff0080" } })
      .png()
      .toBuffer();
  });

  beforeEach(async () => {
    h = await startApi({ MAX_RUNNING_JOBS: "2", MAX_QUEUED_JOBS: "10" });
  });

  afterEach(async () => {
    await h.close();
  });

  it("creates Jobs suspended and resumes the oldest up to MAX_RUNNING_JOBS", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await uploadOne(h));
    expect(h.fake.createdJobs.every((job) => job.spec?.suspend === true)).to.equal(true);

    await waitFor(() => h.fake.patches.length === 2, "two Jobs to be resumed");
    expect(h.fake.patches.map((p) => p.name)).to.deep.equal([`thumb-${ids[0]}`, `thumb-${ids[1]}`]);
    expect(h.fake.patches[0]!.contentType).to.equal("application/merge-patch+json");
    expect(h.fake.patches[0]!.body).to.deep.equal({ spec: { suspend: false } });

    await waitFor(
      async () => (await getJson(h, `/v1/jobs/${ids[3]}`)).body.queuePosition === 2,
      "queue positions",
    );
    const third = await getJson(h, `/v1/jobs/${ids[2]}`);
    expect([third.body.stage, third.body.queuePosition]).to.deep.equal(["queued", 1]);

    failJob(h, ids[0]!);
    await waitFor(() => h.fake.patches.length === 3, "the next Job to be resumed");
    expect(h.fake.patches[2]!.name).to.equal(`thumb-${ids[2]}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(h.fake.patches).to.have.length(3);
  });

  it("removes a deleted Job's folder while another replica holds the Lease", async () => {
    h.fake.giveLeaseTo("someone-else");
    await new Promise((resolve) => setTimeout(resolve, 200));
    const id = await uploadOne(h);
    h.fake.deleteJob(`thumb-${id}`);
    await waitFor(async () => !(await folderExists(h, id)), "the folder to be removed");
  });

  it("leaves resuming to the Lease holder", async () => {
    h.fake.giveLeaseTo("someone-else");
    await new Promise((resolve) => setTimeout(resolve, 200));
    await uploadOne(h);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.fake.patches).to.have.length(0);
  });
});
