import type { KubernetesListObject, V1Job, V1Pod } from "@kubernetes/client-node";
import { expect } from "chai";

import { listAllPages, slimJob, slimPod } from "../src/cachedObjects.js";

describe("slimJob", () => {
  it("keeps what the cache reads and drops the rest", () => {
    const job: V1Job = {
      metadata: {
        name: "thumb-x",
        labels: { a: "b" },
        annotations: { big: "x".repeat(1000) },
        managedFields: [{ manager: "kube-controller-manager" }],
        creationTimestamp: new Date(0),
      },
      spec: {
        suspend: true,
        backoffLimit: 2,
        template: { spec: { containers: [{ name: "runner" }] } },
      },
      status: { active: 1 },
    };
    slimJob(job);
    expect(job.metadata).to.deep.equal({
      name: "thumb-x",
      labels: { a: "b" },
      creationTimestamp: new Date(0),
    });
    expect(job.spec).to.deep.equal({ suspend: true, template: {} });
    expect(job.status).to.deep.equal({ active: 1 });
  });
});

describe("slimPod", () => {
  it("keeps the phase and container statuses only", () => {
    const pod: V1Pod = {
      metadata: { name: "p", labels: { a: "b" }, managedFields: [{}] },
      spec: { containers: [{ name: "runner" }] },
      status: {
        phase: "Failed",
        hostIP: "10.0.0.1",
        containerStatuses: [
          { name: "runner", image: "i", imageID: "", ready: false, restartCount: 0 },
        ],
      },
    };
    slimPod(pod);
    expect(pod.spec).to.equal(undefined);
    expect(pod.metadata).to.deep.equal({ name: "p", labels: { a: "b" } });
    expect(pod.status?.phase).to.equal("Failed");
    expect(pod.status?.hostIP).to.equal(undefined);
    expect(pod.status?.containerStatuses).to.have.length(1);
  });
});

describe("listAllPages", () => {
  it("joins the pages under the first page's resourceVersion", async () => {
    const pages: KubernetesListObject<V1Pod>[] = [
      {
        apiVersion: "v1",
        kind: "PodList",
        metadata: { resourceVersion: "10", _continue: "a" },
        items: [{ metadata: { name: "1" } }],
      },
      {
        apiVersion: "v1",
        kind: "PodList",
        metadata: { resourceVersion: "10", _continue: "b" },
        items: [{ metadata: { name: "2" } }],
      },
      {
        apiVersion: "v1",
        kind: "PodList",
        metadata: { resourceVersion: "10" },
        items: [{ metadata: { name: "3" } }],
      },
    ];
    const tokens: (string | undefined)[] = [];
    const list = await listAllPages(async (token) => {
      tokens.push(token);
      return pages[tokens.length - 1]!;
    }, slimPod);
    expect(tokens).to.deep.equal([undefined, "a", "b"]);
    expect(list.items.map((p) => p.metadata?.name)).to.deep.equal(["1", "2", "3"]);
    expect(list.metadata?.resourceVersion).to.equal("10");
    expect(list.metadata?._continue).to.equal(undefined);
  });
});
