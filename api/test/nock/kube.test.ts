import { readFile } from "node:fs/promises";

import { KubeConfig } from "@kubernetes/client-node";
import { expect } from "chai";
import nock from "nock";

import { buildJob, parseRunnerJobTemplate } from "../../src/jobTemplate.js";
import { classifyKubeError, KubeClient } from "../../src/kube.js";
import { Metrics } from "../../src/metrics.js";
import { TEMPLATE_PATH } from "../harness.js";

// nock intercepts a loopback address, so a request it fails to intercept
// still never leaves the machine.
const SERVER = "http://127.0.0.1:16443";
const NAMESPACE = "thumbnails";
const ID = "01890a5d-ac96-774b-bcce-b302099a8057";

function client(metrics = new Metrics({ defaultMetrics: false })): KubeClient {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: "c", server: SERVER, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return new KubeClient(kubeConfig, NAMESPACE, metrics);
}

describe("KubeClient requests (nock)", () => {
  beforeEach(() => {
    nock.disableNetConnect();
  });

  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it("creates the stamped Job with the request id", async () => {
    const template = parseRunnerJobTemplate(await readFile(TEMPLATE_PATH, "utf8"));
    const job = buildJob(template, {
      id: ID,
      namespace: NAMESPACE,
      releaseName: "thumbnailer",
      fit: "cover",
      suspend: true,
    });
    let sentBody: unknown;
    let sentRequestId: string | null = null;
    nock(SERVER)
      .post(`/apis/batch/v1/namespaces/${NAMESPACE}/jobs`)
      .reply(async (request: unknown) => {
        const req = request as Request;
        sentRequestId = req.headers.get("x-request-id");
        sentBody = await req.json();
        return [201, sentBody];
      });

    await client().createJob(job, "req-7");

    expect(sentRequestId).to.equal("req-7");
    expect(sentBody).to.deep.equal(JSON.parse(JSON.stringify(job)));
    const body = sentBody as typeof job;
    expect(body.metadata?.name).to.equal(`thumb-${ID}`);
    expect(body.spec?.suspend).to.equal(true);
    expect(body.spec?.podFailurePolicy?.rules[0]?.onExitCodes?.values).to.deep.equal([2]);
    expect(body.spec?.template.spec?.containers[0]?.volumeMounts?.[0]?.subPath).to.equal(
      `jobs/${ID}`,
    );
    expect(body.spec?.template.spec?.securityContext?.runAsUser).to.equal(10001);
  });

  it("resumes a Job with a merge patch", async () => {
    let contentType: string | null = null;
    let patch: unknown;
    nock(SERVER)
      .patch(`/apis/batch/v1/namespaces/${NAMESPACE}/jobs/thumb-${ID}`)
      .reply(async (request: unknown) => {
        const req = request as Request;
        contentType = req.headers.get("content-type");
        patch = await req.json();
        return [200, { metadata: { name: `thumb-${ID}` } }];
      });

    await client().resumeJob(`thumb-${ID}`);

    expect(contentType).to.equal("application/merge-patch+json");
    expect(patch).to.deep.equal({ spec: { suspend: false } });
  });

  it("deletes a Job with background propagation", async () => {
    let query = "";
    nock(SERVER)
      .delete(`/apis/batch/v1/namespaces/${NAMESPACE}/jobs/thumb-${ID}`)
      .query(true)
      .reply((request: unknown) => {
        query = new URL((request as Request).url).search;
        return [200, { kind: "Status", status: "Success" }];
      });

    await client().deleteJob(`thumb-${ID}`);

    expect(query).to.contain("propagationPolicy=Background");
  });

  it("counts a failed call by verb, resource and status", async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    nock(SERVER)
      .post(`/apis/batch/v1/namespaces/${NAMESPACE}/jobs`)
      .reply(503, { kind: "Status", code: 503, message: "etcd unavailable" });

    let error: unknown;
    await client(metrics)
      .createJob({ metadata: { name: "thumb-x" } })
      .catch((err: unknown) => (error = err));

    expect(classifyKubeError(error)).to.deep.equal({ kind: "unavailable", code: "503" });
    const text = await metrics.registry.metrics();
    expect(text).to.contain(
      'thumbnailer_kube_api_errors_total{verb="create",resource="jobs",code="503"} 1',
    );
  });

  it("sorts a refused connection as unavailable", async () => {
    nock(SERVER)
      .post(`/apis/batch/v1/namespaces/${NAMESPACE}/jobs`)
      .replyWithError("connect ECONNREFUSED");

    let error: unknown;
    await client()
      .createJob({ metadata: { name: "thumb-x" } })
      .catch((err: unknown) => (error = err));

    expect(classifyKubeError(error)).to.deep.equal({ kind: "unavailable", code: "network" });
  });

  for (const [status, kind] of [
    [404, "notFound"],
    [409, "conflict"],
    [422, "invalid"],
    [403, "forbidden"],
    [429, "unavailable"],
  ] as const) {
    it(`sorts HTTP ${status} as ${kind}`, async () => {
      nock(SERVER)
        .post(`/apis/batch/v1/namespaces/${NAMESPACE}/jobs`)
        .reply(status, { kind: "Status", code: status, message: "x" });
      let error: unknown;
      await client()
        .createJob({ metadata: { name: "thumb-x" } })
        .catch((err: unknown) => (error = err));
      expect(classifyKubeError(error).kind).to.equal(kind);
    });
  }
});
