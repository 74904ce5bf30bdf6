import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

import type { V1Job, V1JobList, V1NetworkPolicyList, V1PodList } from "@kubernetes/client-node";
import { expect } from "chai";
import sharp from "sharp";

import type { JobDocument } from "../api/src/jobStatus.js";
import {
  animatedGif,
  decompressionBombPng,
  orientedJpeg,
  photoJpeg,
  transparentPng,
  truncatedJpeg,
  uprightQuadrants,
} from "../runner/test/fixtures.js";
import {
  env,
  eventually,
  helm,
  inApiPod,
  kubectl,
  kubectlJson,
  PortForward,
  upgrade,
} from "./kube.js";

const execFileAsync = promisify(execFile);
const RUNNER_SELECTOR = "app.kubernetes.io/component=runner";

let api: PortForward;

async function uploadFile(bytes: Buffer, filename: string): Promise<Response> {
  const form = new FormData();
  form.append("image", new Blob([new Uint8Array(bytes)]), filename);
  return fetch(`${api.url}/v1/jobs`, {
    method: "POST",
    body: form,
    signal: AbortSignal.timeout(60_000),
  });
}

async function accepted(bytes: Buffer, filename: string): Promise<string> {
  const res = await uploadFile(bytes, filename);
  expect(res.status, await res.clone().text()).to.equal(202);
  return ((await res.json()) as JobDocument).id;
}

async function getJob(id: string): Promise<JobDocument | undefined> {
  const res = await fetch(`${api.url}/v1/jobs/${id}`, { signal: AbortSignal.timeout(10_000) });
  if (res.status === 404) return undefined;
  expect(res.status).to.equal(200);
  return (await res.json()) as JobDocument;
}

async function finished(id: string, timeoutMs = 180_000): Promise<JobDocument> {
  return eventually(
    `job ${id} to finish`,
    async () => {
      const doc = await getJob(id);
      return doc !== undefined && doc.status !== "processing" ? doc : undefined;
    },
    timeoutMs,
  );
}

async function thumbnail(id: string): Promise<Buffer> {
  const res = await fetch(`${api.url}/v1/jobs/${id}/thumbnail`);
  expect(res.status).to.equal(200);
  return Buffer.from(await res.arrayBuffer());
}

async function folderExists(id: string): Promise<boolean> {
  const out = await inApiPod(
    `process.stdout.write(String(require("fs").existsSync("/data/jobs/${id}")))`,
  );
  return out.trim() === "true";
}

describe("Thumbnailer on a real cluster", function () {
  this.timeout(600_000);
  const uploaded: string[] = [];

  before(async () => {
    api = new PortForward();
    await api.start();
    await eventually("the API through the port-forward", async () =>
      (await fetch(`${api.url}/readyz`)).status === 200 ? true : undefined,
    );
  });

  after(() => {
    api?.stop();
  });

  it("passes helm test", async () => {
    const out = await helm("test", env.release, "--timeout", "5m");
    expect(out).to.match(/Phase:\s+Succeeded/);
  });

  it("makes correct thumbnails of real images", async () => {
    const inputs = {
      photo: await photoJpeg(),
      transparent: await transparentPng(),
      animated: await animatedGif(),
      rotated: await orientedJpeg(6),
    };
    const ids: Record<string, string> = {};
    for (const [name, bytes] of Object.entries(inputs)) {
      ids[name] = await accepted(bytes, `${name}.img`);
      uploaded.push(ids[name]!);
    }
    const docs = Object.fromEntries(
      await Promise.all(
        Object.entries(ids).map(async ([name, id]) => [name, await finished(id)] as const),
      ),
    );
    for (const [name, doc] of Object.entries(docs)) {
      expect(doc.status, `${name}: ${JSON.stringify(doc.error)}`).to.equal("succeeded");
      expect(doc.attempts, name).to.equal(1);
      expect(doc.thumbnail).to.deep.include({ width: 100, height: 100 });
    }

    const photo = await sharp(await thumbnail(ids.photo!)).metadata();
    expect([photo.format, photo.width, photo.height, photo.exif]).to.deep.equal([
      "png",
      100,
      100,
      undefined,
    ]);

    const transparent = await sharp(await thumbnail(ids.transparent!))
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(transparent.info.channels).to.equal(4);
    expect(transparent.data.some((_, i) => i % 4 === 3 && transparent.data[i]! < 255)).to.equal(
      true,
    );

    const animated = await sharp(await thumbnail(ids.animated!), { animated: true }).metadata();
    expect([animated.format, animated.width, animated.pageHeight]).to.deep.equal(["gif", 100, 100]);
    expect(animated.pages).to.be.greaterThan(1);

    // The rotated fixture is a 48x32 picture stored sideways with orientation 6;
    // upright, its top-left quadrant has the colour the fixture names.
    const rotated = await sharp(await thumbnail(ids.rotated!))
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(rotated.info.width).to.equal(100);
    const { data } = rotated;
    // contain pads 48x32 to 100x67 centred, so (25, 25) lies in the top-left quadrant.
    const offset = (25 * 100 + 25) * 3;
    const expected = uprightQuadrants.topLeft;
    for (let channel = 0; channel < 3; channel++) {
      expect(Math.abs(data[offset + channel]! - expected[channel]!)).to.be.lessThan(40);
    }
  });

  it("fails bad inputs with the runner's reason after one attempt", async () => {
    const truncated = await accepted(await truncatedJpeg(), "broken.jpg");
    const bomb = await accepted(decompressionBombPng(), "bomb.png");
    uploaded.push(truncated, bomb);
    const [truncatedDoc, bombDoc] = await Promise.all([finished(truncated), finished(bomb)]);
    expect([truncatedDoc.status, truncatedDoc.error?.reason, truncatedDoc.attempts]).to.deep.equal([
      "failed",
      "CorruptImage",
      1,
    ]);
    expect([bombDoc.status, bombDoc.error?.reason, bombDoc.attempts]).to.deep.equal([
      "failed",
      "TooManyPixels",
      1,
    ]);
  });

  it("lists every job, one Job per upload, and ran runners locked down", async () => {
    const list = (await (await fetch(`${api.url}/v1/jobs?limit=500`)).json()) as {
      items: JobDocument[];
    };
    expect(list.items.map((i) => i.id)).to.include.members(uploaded);

    const jobs = await kubectlJson<V1JobList>("get", "jobs", "-l", "app=thumbnailer");
    const names = jobs.items.map((j) => j.metadata!.name!);
    for (const id of uploaded) expect(names).to.include(`thumb-${id}`);
    expect(names.filter((n) => uploaded.includes(n.slice("thumb-".length)))).to.have.length(
      uploaded.length,
    );

    const pods = await kubectlJson<V1PodList>("get", "pods", "-l", RUNNER_SELECTOR);
    expect(pods.items.length).to.be.at.least(uploaded.length);
    for (const pod of pods.items) {
      const spec = pod.spec!;
      expect(spec.automountServiceAccountToken).to.equal(false);
      expect(spec.securityContext?.runAsUser).to.equal(10001);
      expect(spec.securityContext?.runAsNonRoot).to.equal(true);
      expect(
        spec.volumes?.some(
          (v) => v.projected !== undefined || v.name.startsWith("kube-api-access"),
        ),
      ).to.equal(false);
      const runner = spec.containers.find((c) => c.name === "runner")!;
      expect(runner.volumeMounts?.some((m) => m.mountPath.includes("serviceaccount"))).to.equal(
        false,
      );
      expect(runner.securityContext?.readOnlyRootFilesystem).to.equal(true);
    }

    // The runner NetworkPolicy selects the runner pods and allows nothing.
    const policies = await kubectlJson<V1NetworkPolicyList>("get", "networkpolicies");
    const runnerPolicy = policies.items.find(
      (p) => p.spec?.podSelector?.matchLabels?.["app.kubernetes.io/component"] === "runner",
    );
    expect(runnerPolicy?.spec?.policyTypes).to.have.members(["Ingress", "Egress"]);
    expect(runnerPolicy?.spec?.ingress ?? []).to.deep.equal([]);
    expect(runnerPolicy?.spec?.egress ?? []).to.deep.equal([]);
  });

  it("loses no acknowledged upload when the API pod is deleted", async () => {
    const png = await transparentPng();
    const pending = Array.from({ length: 6 }, (_, i) =>
      uploadFile(png, `inflight-${i}.png`).then(
        async (res) => (res.status === 202 ? ((await res.json()) as JobDocument).id : undefined),
        () => undefined,
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    await kubectl("delete", "pod", "-l", "app.kubernetes.io/component=api", "--wait=false");
    const acknowledged = (await Promise.all(pending)).filter(
      (id): id is string => id !== undefined,
    );

    await kubectl("rollout", "status", `deploy/${env.release}`, "--timeout=180s");
    await eventually("the API to be back", async () =>
      (await fetch(`${api.url}/readyz`)).status === 200 ? true : undefined,
    );
    for (const id of acknowledged) {
      const doc = await finished(id);
      expect(doc.status, id).to.equal("succeeded");
    }
    uploaded.push(...acknowledged);
  });

  it("removes the Job, its pods and its files on DELETE", async () => {
    const id = uploaded[0]!;
    expect(await folderExists(id)).to.equal(true);
    const res = await fetch(`${api.url}/v1/jobs/${id}`, { method: "DELETE" });
    expect(res.status).to.equal(204);
    await eventually("the Job and pods to go", async () => {
      const jobs = await kubectlJson<V1JobList>(
        "get",
        "jobs",
        "-l",
        `thumbnailer.cogent.co.jp/job-id=${id}`,
      );
      const pods = await kubectlJson<V1PodList>(
        "get",
        "pods",
        "-l",
        `thumbnailer.cogent.co.jp/job-id=${id}`,
      );
      return jobs.items.length === 0 && pods.items.length === 0 ? true : undefined;
    });
    await eventually(
      "the folder to go",
      async () => ((await folderExists(id)) ? undefined : true),
      60_000,
    );
    expect(await getJob(id)).to.equal(undefined);
  });

  it("queues jobs beyond maxRunning and finishes them all", async () => {
    await upgrade("jobs.maxRunning=2");
    await eventually("the API to be ready", async () =>
      (await fetch(`${api.url}/readyz`)).status === 200 ? true : undefined,
    );
    const png = await transparentPng();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await accepted(png, `queued-${i}.png`));

    let sawQueued = false;
    let maxRunning = 0;
    await eventually(
      "every queued job to finish",
      async () => {
        const jobs = await kubectlJson<V1JobList>("get", "jobs", "-l", "app=thumbnailer");
        const mine = jobs.items.filter((j) =>
          ids.includes(j.metadata!.labels!["thumbnailer.cogent.co.jp/job-id"]!),
        );
        const running = mine.filter((j) => j.spec?.suspend !== true && !isFinished(j));
        maxRunning = Math.max(maxRunning, running.length);
        const docs = await Promise.all(ids.map(getJob));
        if (docs.some((d) => d?.stage === "queued")) sawQueued = true;
        return docs.every((d) => d?.status === "succeeded") ? true : undefined;
      },
      300_000,
      500,
    );
    expect(sawQueued).to.equal(true);
    expect(maxRunning).to.be.at.most(2);
  });

  it("removes the files of a Job that its TTL deleted", async () => {
    await upgrade("jobs.ttlSecondsAfterFinished=5");
    await eventually("the API to be ready", async () =>
      (await fetch(`${api.url}/readyz`)).status === 200 ? true : undefined,
    );
    const id = await accepted(await transparentPng(), "short-lived.png");
    expect((await finished(id)).status).to.equal("succeeded");
    await eventually(
      "the TTL controller to delete the Job",
      async () => ((await getJob(id)) === undefined ? true : undefined),
      120_000,
    );
    await eventually(
      "the folder to go",
      async () => ((await folderExists(id)) ? undefined : true),
      60_000,
    );
  });

  it("retries a runner killed for memory, then fails it with OOMKilled", async () => {
    // 8Mi is too little for Node.js itself to start, so the kernel kills the
    // runner before its own memory check can run: every attempt is OOMKilled.
    await upgrade("runner.resources.limits.memory=8Mi", "runner.resources.requests.memory=8Mi");
    await eventually("the API to be ready", async () =>
      (await fetch(`${api.url}/readyz`)).status === 200 ? true : undefined,
    );
    const id = await accepted(await transparentPng(), "memory-hungry.png");
    const doc = await finished(id);
    expect([doc.status, doc.error?.reason]).to.deep.equal(["failed", "OOMKilled"]);
    // backoffLimit 2: the first attempt and two retries.
    expect(doc.attempts).to.equal(3);

    // With room to start but not to decode, the runner refuses the image itself.
    await upgrade("runner.resources.limits.memory=24Mi", "runner.resources.requests.memory=24Mi");
    await eventually("the API to be ready", async () =>
      (await fetch(`${api.url}/readyz`)).status === 200 ? true : undefined,
    );
    const rejected = await finished(await accepted(await transparentPng(), "too-large.png"));
    expect([rejected.status, rejected.error?.reason, rejected.attempts]).to.deep.equal([
      "failed",
      "TooLarge",
      1,
    ]);

    await upgrade("runner.resources.limits.memory=512Mi", "runner.resources.requests.memory=128Mi");
  });

  it("names a broken runner image in the support bundle", async () => {
    await upgrade(
      "image.runner.repository=thumbnailer-runner-missing",
      "jobs.ttlSecondsAfterFinished=604800",
    );
    await eventually("the API to be ready", async () =>
      (await fetch(`${api.url}/readyz`)).status === 200 ? true : undefined,
    );
    const secretName = "TOP-SECRET-launch-emoji.png";
    const id = await accepted(await transparentPng(), secretName);
    await eventually("the runner pod to be stuck on its image", async () => {
      const pods = await kubectlJson<V1PodList>(
        "get",
        "pods",
        "-l",
        `thumbnailer.cogent.co.jp/job-id=${id}`,
      );
      const waiting = pods.items[0]?.status?.containerStatuses?.[0]?.state?.waiting?.reason;
      return waiting && /Image|Pull/.test(waiting) ? waiting : undefined;
    });

    const out = await mkdtemp(join(tmpdir(), "thumbnailer-bundle-"));
    try {
      await execFileAsync(
        "make",
        [
          "-C",
          env.repoRoot,
          "support-bundle",
          `NAMESPACE=${env.namespace}`,
          `RELEASE=${env.release}`,
          `OUT=${out}`,
        ],
        {
          env: { ...process.env },
          maxBuffer: 16 * 1024 * 1024,
        },
      );
      const archive = (await readdir(out)).find((f) => f.endsWith(".tar.gz"));
      expect(archive).to.be.a("string");
      const unpacked = join(out, "unpacked");
      await execFileAsync("mkdir", ["-p", unpacked]);
      await execFileAsync("tar", ["-xzf", join(out, archive!), "-C", unpacked]);
      const { stdout: summary } = await execFileAsync("sh", [
        "-c",
        `cat "${unpacked}"/*/SUMMARY.txt`,
      ]);
      expect(summary).to.contain("thumbnailer-runner-missing");
      const { stdout: hits } = await execFileAsync("grep", ["-rl", "TOP-SECRET", unpacked]).catch(
        () => ({ stdout: "" }),
      );
      expect(hits).to.equal("");
    } finally {
      await rm(out, { recursive: true, force: true });
      await upgrade("image.runner.repository=thumbnailer-runner");
    }
  });
});

function isFinished(job: V1Job): boolean {
  return (job.status?.conditions ?? []).some(
    (c) =>
      c.status === "True" &&
      ["Complete", "Failed", "SuccessCriteriaMet", "FailureTarget"].includes(c.type),
  );
}
