import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";

import { expect } from "chai";
import sharp from "sharp";

import type { JobDocument } from "../src/jobStatus.js";
import { bmp, heicLike } from "../../runner/test/fixtures.js";
import { startApi, upload, waitFor, type Harness } from "./harness.js";

async function pngBytes(width = 32, height = 32): Promise<Buffer> {
  return sharp({
    create: { width, height, channels: 4, background: { r: 200, g: 30, b: 30, alpha: 0.5 } },
  })
    .png()
    .toBuffer();
}

async function jobFolders(h: Harness): Promise<string[]> {
  try {
    return await readdir(join(h.dataDir, "jobs"));
  } catch {
    return [];
  }
}

describe("POST /v1/jobs", () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startApi({ MAX_UPLOAD_BYTES: String(256 * 1024) });
  });

  afterEach(async () => {
    await h.close();
  });

  it("accepts a PNG and creates the stamped Job", async () => {
    const res = await upload(h.baseUrl, await pngBytes(), { filename: "smile.png" });
    if (res.status !== 202) console.log(JSON.stringify(h.logs, null, 1));
    expect(res.status).to.equal(202);
    const doc = (await res.json()) as JobDocument;
    expect(res.headers.get("location")).to.equal(`/v1/jobs/${doc.id}`);
    expect(doc.id).to.match(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(doc.status).to.equal("processing");
    expect(doc.original).to.deep.equal({
      filename: "smile.png",
      contentType: "image/png",
      bytes: doc.original!.bytes,
    });

    expect(h.fake.createdJobs).to.have.length(1);
    const job = h.fake.createdJobs[0]!;
    expect(job.metadata?.name).to.equal(`thumb-${doc.id}`);
    expect(job.metadata?.namespace).to.equal("thumbnails");
    const labels = {
      app: "thumbnailer",
      "app.kubernetes.io/name": "thumbnailer",
      "app.kubernetes.io/instance": "thumbnailer",
      "app.kubernetes.io/component": "runner",
      "thumbnailer.cogent.co.jp/job-id": doc.id,
    };
    expect(job.metadata?.labels).to.deep.equal(labels);
    expect(job.spec?.template.metadata?.labels).to.deep.equal(labels);
    expect(job.spec?.suspend).to.equal(false);
    expect(job.spec?.podFailurePolicy?.rules[0]).to.deep.include({ action: "FailJob" });
    expect(job.spec?.podFailurePolicy?.rules[0]?.onExitCodes?.values).to.deep.equal([2]);

    const pod = job.spec!.template.spec!;
    expect(pod.automountServiceAccountToken).to.equal(false);
    expect(pod.securityContext?.runAsUser).to.equal(10001);
    const runner = pod.containers[0]!;
    expect(runner.args).to.include("--fit=contain");
    expect(runner.volumeMounts?.find((m) => m.mountPath === "/job")?.subPath).to.equal(
      `jobs/${doc.id}`,
    );
    expect(runner.securityContext?.capabilities?.drop).to.deep.equal(["ALL"]);
    expect(JSON.stringify(job)).not.to.contain("smile.png");
  });

  it("keeps a non-ASCII file name intact in meta.json only", async () => {
    const filename = "笑顔 émoji ../../etc/passwd.png";
    const res = await upload(h.baseUrl, await pngBytes(), { filename });
    expect(res.status).to.equal(202);
    const doc = (await res.json()) as JobDocument;
    expect(doc.original?.filename).to.equal(filename);

    const files = await readdir(join(h.dataDir, "jobs", doc.id));
    expect(files.sort()).to.deep.equal(["meta.json", "original"]);
    expect(JSON.stringify(h.fake.createdJobs)).not.to.contain("émoji");
    expect(JSON.stringify(h.logs)).not.to.contain("émoji");
  });

  it("passes fit=cover to the runner", async () => {
    const res = await upload(h.baseUrl, await pngBytes(), { fit: "cover" });
    expect(res.status).to.equal(202);
    expect(h.fake.createdJobs[0]!.spec!.template.spec!.containers[0]!.args).to.include(
      "--fit=cover",
    );
  });

  it("sends the request id to the Kubernetes API and back", async () => {
    const form = new FormData();
    form.append("image", new Blob([new Uint8Array(await pngBytes())]), "a.png");
    const res = await fetch(`${h.baseUrl}/v1/jobs`, {
      method: "POST",
      body: form,
      headers: { "X-Request-Id": "req-123" },
    });
    expect(res.status).to.equal(202);
    expect(res.headers.get("x-request-id")).to.equal("req-123");
    expect(h.fake.requestIds).to.deep.equal(["req-123"]);
  });

  const rejections: [string, () => Promise<Response>, number, RegExp][] = [
    ["an empty file", async () => upload(h.baseUrl, Buffer.alloc(0)), 400, /empty/],
    [
      "text named .png",
      async () => upload(h.baseUrl, Buffer.from("hello, this is text")),
      415,
      /JPEG, PNG/,
    ],
    [
      "HTML named .png",
      async () => upload(h.baseUrl, Buffer.from("<!doctype html><html><body>hi</body></html>")),
      415,
      /not a supported image/,
    ],
    [
      "a truncated ZIP",
      async () => upload(h.baseUrl, Buffer.from("504b030414000000080000000000", "hex")),
      415,
      /not a supported image/,
    ],
    ["HEIC", async () => upload(h.baseUrl, await heicLike()), 415, /not a supported image/],
    ["BMP", async () => upload(h.baseUrl, bmp()), 415, /not a supported image/],
    ["one byte", async () => upload(h.baseUrl, Buffer.from([0x89])), 415, /not a supported image/],
    [
      "a PDF",
      async () => upload(h.baseUrl, Buffer.from("%PDF-1.4\n1 0 obj\n<<>>\nendobj\n")),
      415,
      /SVG/,
    ],
    [
      "a file in the wrong field",
      async () => upload(h.baseUrl, Buffer.from("x"), { field: "file" }),
      400,
      /"image"/,
    ],
    [
      "a bad fit",
      async () => upload(h.baseUrl, await pngBytes(), { fit: "stretch" }),
      400,
      /contain, cover, fill/,
    ],
    [
      "a file over the limit",
      async () => upload(h.baseUrl, Buffer.concat([await pngBytes(), Buffer.alloc(300 * 1024)])),
      413,
      /limit of 262144 bytes/,
    ],
    [
      "no file at all",
      async () => {
        const form = new FormData();
        form.append("fit", "contain");
        return fetch(`${h.baseUrl}/v1/jobs`, { method: "POST", body: form });
      },
      400,
      /No file/,
    ],
    [
      "a JSON body",
      async () =>
        fetch(`${h.baseUrl}/v1/jobs`, {
          method: "POST",
          body: "{}",
          headers: { "content-type": "application/json" },
        }),
      400,
      /multipart\/form-data/,
    ],
    [
      "two files",
      async () => {
        const form = new FormData();
        const png = new Uint8Array(await pngBytes());
        form.append("image", new Blob([png]), "a.png");
        form.append("image", new Blob([png]), "b.png");
        return fetch(`${h.baseUrl}/v1/jobs`, { method: "POST", body: form });
      },
      400,
      /exactly one file/,
    ],
    [
      "an extra field",
      async () => {
        const form = new FormData();
        form.append("name", "x");
        form.append("image", new Blob([new Uint8Array(await pngBytes())]), "a.png");
        return fetch(`${h.baseUrl}/v1/jobs`, { method: "POST", body: form });
      },
      400,
      /form|field/i,
    ],
  ];

  for (const [what, send, status, detail] of rejections) {
    it(`rejects ${what} with ${status} and leaves no file`, async () => {
      const res = await send();
      expect(res.status).to.equal(status);
      expect(res.headers.get("content-type")).to.match(/^application\/problem\+json/);
      const problem = (await res.json()) as { status: number; detail: string; title: string };
      expect(problem.status).to.equal(status);
      expect(problem.detail).to.match(detail);
      expect(await jobFolders(h)).to.deep.equal([]);
      expect(h.fake.createdJobs).to.have.length(0);
    });
  }

  it("answers 503 with Retry-After and removes the upload when the Kubernetes API fails", async () => {
    h.fake.createFaults.push({ status: 500 }, { networkError: true });
    for (let i = 0; i < 2; i++) {
      const res = await upload(h.baseUrl, await pngBytes());
      expect(res.status).to.equal(503);
      expect(res.headers.get("retry-after")).to.equal("10");
    }
    expect(await jobFolders(h)).to.deep.equal([]);
  });

  it("answers 500 without leftovers when the Kubernetes API rejects the Job", async () => {
    h.fake.createFaults.push({ status: 403 });
    const res = await upload(h.baseUrl, await pngBytes());
    expect(res.status).to.equal(500);
    expect(((await res.json()) as { detail: string }).detail).to.match(/HTTP 403/);
    expect(await jobFolders(h)).to.deep.equal([]);
  });

  it("removes the partial file when the client aborts the upload", async () => {
    const boundary = "----thumbnailer-test";
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`;
    const controller = new AbortController();
    const body = new ReadableStream<Uint8Array>({
      start(streamController) {
        streamController.enqueue(new TextEncoder().encode(head));
        streamController.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const pending = fetch(`${h.baseUrl}/v1/jobs`, {
      method: "POST",
      body,
      duplex: "half",
      signal: controller.signal,
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
    } as RequestInit).catch((err: unknown) => err);

    await waitFor(async () => (await jobFolders(h)).length === 1, "the upload to start");
    controller.abort();
    await pending;
    await waitFor(
      async () => (await jobFolders(h)).length === 0,
      "the partial upload to be removed",
    );
    expect(h.fake.createdJobs).to.have.length(0);
  });

  it("answers 429 once the queue is full", async () => {
    await h.close();
    h = await startApi({ MAX_RUNNING_JOBS: "1", MAX_QUEUED_JOBS: "2" });
    // Hold the Lease elsewhere so nothing gets resumed.
    h.fake.giveLeaseTo("someone-else");
    await new Promise((resolve) => setTimeout(resolve, 100));

    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await upload(h.baseUrl, await pngBytes())).status);
    }
    expect(statuses.slice(0, 2)).to.deep.equal([202, 202]);
    const res = await upload(h.baseUrl, await pngBytes());
    expect(res.status).to.equal(429);
    expect(res.headers.get("retry-after")).to.equal("30");
    expect((await jobFolders(h)).length).to.equal(2);
  });

  it("stores the upload with the right size on disk", async () => {
    const png = await pngBytes(40, 20);
    const res = await upload(h.baseUrl, png);
    const doc = (await res.json()) as JobDocument;
    expect((await stat(join(h.dataDir, "jobs", doc.id, "original"))).size).to.equal(png.length);
    expect(doc.original?.bytes).to.equal(png.length);
  });
});
