import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { expect } from "chai";
import sharp from "sharp";

import { FakeKube } from "./fakeKube.js";
import { TEMPLATE_PATH, upload, waitFor } from "./harness.js";

const API_BIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const PORT = 18080 + (process.pid % 1000);

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Waits until the API process on PORT reports ready. */
async function waitReady(): Promise<void> {
  await waitFor(
    async () =>
      (await fetch(`http://127.0.0.1:${PORT}/readyz`).catch(() => undefined))?.status === 200,
    "readiness",
    15000,
  );
}

function startProcess(env: Record<string, string>): Started {
  const child = spawn(process.execPath, [API_BIN], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, "exit").then(([code]) => code as number | null);
  return { child, output: () => output, exited };
}

describe("api process", function () {
  this.timeout(30000);
  let fake: FakeKube;
  let dir: string;
  let env: Record<string, string>;

  beforeEach(async () => {
    fake = new FakeKube();
    await fake.start();
    dir = await mkdtemp(join(tmpdir(), "thumbnailer-main-"));
    const kubeconfig = join(dir, "kubeconfig");
    await writeFile(kubeconfig, fake.kubeConfig().exportConfig());
    env = {
      KUBECONFIG: kubeconfig,
      DATA_DIR: join(dir, "data"),
      NAMESPACE: fake.namespace,
      RUNNER_JOB_TEMPLATE: TEMPLATE_PATH,
      PORT: String(PORT),
      MAX_RUNNING_JOBS: "0",
      SHUTDOWN_GRACE_SECONDS: "10",
    };
    await mkdir(env.DATA_DIR!);
  });

  afterEach(async () => {
    await fake.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses to start with a message naming the bad variable", async () => {
    const api = startProcess({ ...env, MAX_UPLOAD_BYTES: "lots" });
    expect(await api.exited).to.equal(2);
    expect(api.output()).to.contain(
      'MAX_UPLOAD_BYTES must be an integer from 1 to 1073741824, got "lots"',
    );
  });

  it("refuses to start when the template is invalid", async () => {
    const bad = join(dir, "bad.yaml");
    await writeFile(bad, "apiVersion: v1\nkind: Pod\n");
    const api = startProcess({ ...env, RUNNER_JOB_TEMPLATE: bad });
    expect(await api.exited).to.equal(1);
    expect(api.output()).to.contain(`invalid runner Job template ${bad}`);
  });

  it("starts outside a cluster from the kubeconfig and logs JSON lines", async () => {
    const api = startProcess(env);
    try {
      await waitReady();
      const lines = api
        .output()
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(
        lines.some(
          (l) =>
            l.msg === "api started" &&
            l.service === "thumbnailer-api" &&
            typeof l.time === "string",
        ),
      ).to.equal(true);
    } finally {
      api.child.kill("SIGKILL");
      await api.exited;
    }
  });

  it("finishes an upload in flight on SIGTERM, refuses new ones, and exits 0", async () => {
    const api = startProcess(env);
    await waitReady();
    const png = await sharp({
      create: { width: 16, height: 16, channels: 3, background: "#123456" },
    })
      .png()
      .toBuffer();

    // Start an upload and hold back its last bytes until after SIGTERM.
    const boundary = "----sigterm";
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const inFlight = new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: PORT,
          method: "POST",
          path: "/v1/jobs",
          headers: {
            "content-type": `multipart/form-data; boundary=${boundary}`,
            "content-length": String(head.length + png.length + tail.length),
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.write(head);
      req.write(png.subarray(0, 8));
      setTimeout(() => {
        api.child.kill("SIGTERM");
        setTimeout(() => {
          req.write(png.subarray(8));
          req.end(tail);
        }, 500);
      }, 300);
    });

    await waitFor(() => api.output().includes("shutdown started"), "the shutdown to start");
    const rejected = await upload(`http://127.0.0.1:${PORT}`, png).then(
      (r) => r.status,
      () => "connection refused",
    );
    expect([503, "connection refused"]).to.include(rejected);

    expect(await inFlight).to.equal(202);
    expect(await api.exited).to.equal(0);
    expect(api.output()).to.contain('"msg":"shutdown finished"');
    // The Lease is handed back, so the next pod need not wait for it to expire.
    expect(fake.leases.get("thumbnailer-leader")?.spec?.holderIdentity).to.equal("");
    expect(fake.createdJobs).to.have.length(1);
    expect(await readdir(join(env.DATA_DIR!, "jobs"))).to.have.length(1);
  });

  it("keeps acknowledged jobs and sweeps half-written uploads after SIGKILL", async () => {
    const png = await sharp({
      create: { width: 16, height: 16, channels: 3, background: "#654321" },
    })
      .png()
      .toBuffer();
    const first = startProcess({ ...env, ORPHAN_GRACE_SECONDS: "1" });
    await waitReady();

    const acknowledged: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await upload(`http://127.0.0.1:${PORT}`, png, { filename: `secret-${i}.png` });
      expect(res.status).to.equal(202);
      acknowledged.push(((await res.json()) as { id: string }).id);
    }

    // Two uploads that never finish: their folders hold a partial original.
    const boundary = "----killed";
    const sockets = [0, 1].map(() => {
      const req = request({
        host: "127.0.0.1",
        port: PORT,
        method: "POST",
        path: "/v1/jobs",
        headers: {
          "content-type": `multipart/form-data; boundary=${boundary}`,
          "content-length": "100000",
        },
      });
      req.on("error", () => undefined);
      req.write(
        `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n`,
      );
      req.write(png.subarray(0, 10));
      return req;
    });
    await waitFor(
      async () => (await readdir(join(env.DATA_DIR!, "jobs"))).length === 5,
      "the partial uploads",
    );
    first.child.kill("SIGKILL");
    await first.exited;
    for (const req of sockets) req.destroy();

    const second = startProcess({ ...env, ORPHAN_GRACE_SECONDS: "1" });
    try {
      await waitFor(
        async () => (await readdir(join(env.DATA_DIR!, "jobs"))).length === 3,
        "the sweep",
        20000,
      );
      expect((await readdir(join(env.DATA_DIR!, "jobs"))).sort()).to.deep.equal(
        [...acknowledged].sort(),
      );
      for (const [i, id] of acknowledged.entries()) {
        const res = await fetch(`http://127.0.0.1:${PORT}/v1/jobs/${id}`);
        expect(res.status).to.equal(200);
        expect(
          ((await res.json()) as { original: { filename: string } }).original.filename,
        ).to.equal(`secret-${i}.png`);
      }
    } finally {
      second.child.kill("SIGKILL");
      await second.exited;
    }
  });
});
