// The helm test's smoke script, run against a fake Thumbnailer API on the
// loopback interface.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { expect } from "chai";
import sharp from "sharp";

import { readPngSize, runSmokeTest, type SmokeTestOptions } from "../../api/src/smoke.js";

const JOB_ID = "0190f3a4-5b6c-7d8e-9f00-112233445566";
const smokeScript = resolve(dirname(fileURLToPath(import.meta.url)), "../../api/src/smoke.ts");

interface FakeApiBehaviour {
  readyAfterCalls: number;
  uploadStatus: number;
  processingPolls: number;
  finalStatus: "succeeded" | "failed" | "processing";
  thumbnailSize: number;
}

interface FakeApi {
  baseUrl: string;
  requests: string[];
  uploadBodies: Buffer[];
  close: () => Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

async function startFakeApi(overrides: Partial<FakeApiBehaviour> = {}): Promise<FakeApi> {
  const behaviour: FakeApiBehaviour = {
    readyAfterCalls: 0,
    uploadStatus: 202,
    processingPolls: 2,
    finalStatus: "succeeded",
    thumbnailSize: 100,
    ...overrides,
  };
  const size = behaviour.thumbnailSize;
  const thumbnail = await sharp({
    create: { width: size, height: size, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
  })
    .png()
    .toBuffer();
  const requests: string[] = [];
  const uploadBodies: Buffer[] = [];
  let readyCalls = 0;
  let polls = 0;

  const server: Server = createServer((request, response) => {
    void (async () => {
      const line = `${request.method} ${request.url}`;
      requests.push(line);
      if (line === "GET /readyz") {
        readyCalls += 1;
        if (readyCalls > behaviour.readyAfterCalls) sendJson(response, 200, { status: "ready" });
        else sendJson(response, 503, { detail: "informer cache not synced" });
      } else if (line === "POST /v1/jobs") {
        uploadBodies.push(await readBody(request));
        if (behaviour.uploadStatus === 202)
          sendJson(response, 202, { id: JOB_ID, status: "processing" });
        else sendJson(response, behaviour.uploadStatus, { title: "Queue full" });
      } else if (line === `GET /v1/jobs/${JOB_ID}`) {
        polls += 1;
        if (polls <= behaviour.processingPolls || behaviour.finalStatus === "processing") {
          sendJson(response, 200, { id: JOB_ID, status: "processing", stage: "running" });
        } else if (behaviour.finalStatus === "failed") {
          sendJson(response, 200, {
            id: JOB_ID,
            status: "failed",
            error: { reason: "OOMKilled", message: "The runner ran out of memory." },
          });
        } else {
          sendJson(response, 200, { id: JOB_ID, status: "succeeded" });
        }
      } else if (line === `GET /v1/jobs/${JOB_ID}/thumbnail`) {
        response.writeHead(200, { "content-type": "image/png" });
        response.end(thumbnail);
      } else if (line === `DELETE /v1/jobs/${JOB_ID}`) {
        response.writeHead(204);
        response.end();
      } else {
        sendJson(response, 404, { title: "Not Found" });
      }
    })();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    uploadBodies,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

function options(
  api: FakeApi,
  lines: string[],
  overrides: Partial<SmokeTestOptions> = {},
): SmokeTestOptions {
  return {
    baseUrl: api.baseUrl,
    size: 100,
    timeoutMs: 5_000,
    pollIntervalMs: 5,
    requestTimeoutMs: 2_000,
    writeLine: (line) => lines.push(line),
    ...overrides,
  };
}

describe("smoke script", () => {
  let api: FakeApi | undefined;

  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it("passes every step and deletes the job", async () => {
    api = await startFakeApi({ readyAfterCalls: 1 });
    const lines: string[] = [];
    expect(await runSmokeTest(options(api, lines))).to.equal(true);

    expect(lines.map((line) => line.split(":")[0])).to.deep.equal([
      "ok readiness",
      "ok upload",
      "ok job",
      "ok thumbnail",
      "ok delete",
    ]);
    expect(api.requests.filter((line) => line === "GET /readyz")).to.have.length(2);
    expect(api.requests.at(-1)).to.equal(`DELETE /v1/jobs/${JOB_ID}`);
  });

  it("uploads a PNG in the image field", async () => {
    api = await startFakeApi();
    await runSmokeTest(options(api, []));
    const body = api.uploadBodies[0]!;
    expect(body.toString("latin1")).to.match(
      /Content-Disposition: form-data; name="image"; filename="smoke-test.png"/i,
    );
    const start = body.indexOf(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    expect(start, "PNG signature in the body").to.be.greaterThan(0);
    expect(readPngSize(body.subarray(start))).to.deep.equal({ width: 16, height: 16 });
  });

  it("reports a failed job with its reason and keeps it", async () => {
    api = await startFakeApi({ finalStatus: "failed" });
    const lines: string[] = [];
    expect(await runSmokeTest(options(api, lines))).to.equal(false);
    expect(lines.at(-1)).to.equal(
      `FAIL job: job ${JOB_ID} failed with OOMKilled: The runner ran out of memory.`,
    );
    expect(api.requests).to.not.include(`DELETE /v1/jobs/${JOB_ID}`);
  });

  it("reports a thumbnail of the wrong size", async () => {
    api = await startFakeApi({ thumbnailSize: 64 });
    const lines: string[] = [];
    expect(await runSmokeTest(options(api, lines))).to.equal(false);
    expect(lines.at(-1)).to.equal("FAIL thumbnail: the thumbnail is 64x64, expected 100x100");
  });

  it("gives up on a job still processing at the timeout", async () => {
    api = await startFakeApi({ finalStatus: "processing" });
    const lines: string[] = [];
    const started = Date.now();
    expect(await runSmokeTest(options(api, lines, { timeoutMs: 200 }))).to.equal(false);
    expect(Date.now() - started).to.be.lessThan(2_000);
    expect(lines.at(-1)).to.match(
      /^FAIL job: job \S+ is still processing \(stage running\) after 0.2 s$/,
    );
  });

  it("reports a rejected upload with its status and body", async () => {
    api = await startFakeApi({ uploadStatus: 429 });
    const lines: string[] = [];
    expect(await runSmokeTest(options(api, lines))).to.equal(false);
    expect(lines.at(-1)).to.contain("FAIL upload: POST /v1/jobs returned 429, expected 202");
    expect(lines.at(-1)).to.contain("Queue full");
  });

  it("reports an API that never becomes ready", async () => {
    api = await startFakeApi({ readyAfterCalls: 1_000 });
    const lines: string[] = [];
    expect(await runSmokeTest(options(api, lines, { timeoutMs: 100 }))).to.equal(false);
    expect(lines).to.deep.equal([
      'FAIL readiness: GET /readyz still returns 503: {"detail":"informer cache not synced"}',
    ]);
  });

  it("reports an unreachable API", async () => {
    api = await startFakeApi();
    const baseUrl = api.baseUrl;
    await api.close();
    api = undefined;
    const lines: string[] = [];
    const unreachable: FakeApi = { baseUrl, requests: [], uploadBodies: [], close: async () => {} };
    expect(await runSmokeTest(options(unreachable, lines))).to.equal(false);
    expect(lines[0]).to.match(/^FAIL readiness: GET http:\/\/127\.0\.0\.1:\d+\/readyz failed: /);
  });

  it("readPngSize rejects bytes that are not a PNG", () => {
    expect(() => readPngSize(Buffer.from("GIF89a not a png at all, really"))).to.throw(
      "PNG signature",
    );
  });
});

describe("smoke script command", () => {
  async function runCommand(
    args: string[],
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, ["--import", "tsx", smokeScript, ...args], {
      stdio: "pipe",
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, "exit")) as [number | null];
    return { code, stdout, stderr };
  }

  it("exits 0 and prints five lines against a working API", async () => {
    const api = await startFakeApi({ processingPolls: 0 });
    try {
      const result = await runCommand([api.baseUrl, "--size=100", "--timeout-seconds=10"]);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout.trim().split("\n")).to.have.length(5);
    } finally {
      await api.close();
    }
  });

  it("exits 1 with a usage line without a URL", async () => {
    const result = await runCommand(["--size=abc"]);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain("usage: smoke.js <base URL");
  });
});
