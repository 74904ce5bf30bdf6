import type { V1NetworkPolicyPeer } from "@kubernetes/client-node";
import { expect } from "chai";

import { ofKind, render, valueSets } from "./helm.js";
import { deployment, networkPolicy, runnerJob, testPod } from "./objects.js";

describe("chart NetworkPolicies", () => {
  it("runner policy selects runner pods and allows no traffic", () => {
    const objects = render();
    const policy = networkPolicy(objects, "-runner").spec!;
    expect(policy.policyTypes).to.deep.equal(["Ingress", "Egress"]);
    expect(policy.ingress ?? []).to.deep.equal([]);
    expect(policy.egress ?? []).to.deep.equal([]);
    const runnerPodLabels = runnerJob(objects).spec?.template.metadata?.labels ?? {};
    expect(runnerPodLabels).to.include(policy.podSelector?.matchLabels);
  });

  it("API policy allows DNS and API server egress only", () => {
    const objects = render();
    const policy = networkPolicy(objects, "-api").spec!;
    expect(deployment(objects).spec?.template.metadata?.labels).to.include(
      policy.podSelector?.matchLabels,
    );
    expect(policy.policyTypes).to.deep.equal(["Ingress", "Egress"]);
    expect(policy.ingress).to.deep.equal([{ ports: [{ port: "http", protocol: "TCP" }] }]);
    expect(policy.egress).to.deep.equal([
      {
        ports: [
          { port: 53, protocol: "UDP" },
          { port: 53, protocol: "TCP" },
        ],
      },
      {
        ports: [
          { port: 443, protocol: "TCP" },
          { port: 6443, protocol: "TCP" },
        ],
      },
    ]);
  });

  it("API policy narrows sources and API server addresses from the values", () => {
    const objects = render({ valueFiles: [valueSets.lockedDown] });
    const policy = networkPolicy(objects, "-api").spec!;
    // The YAML field "from" is "_from" in the client's types.
    const ingressRule = policy.ingress?.[0] as { from?: V1NetworkPolicyPeer[] } | undefined;
    const from = ingressRule?.from ?? [];
    expect(from.slice(1)).to.deep.equal([
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } },
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } },
      { podSelector: { matchLabels: { app: "frontend" } } },
    ]);
    const testPeer = from[0]?.podSelector?.matchLabels ?? {};
    expect(testPod(objects).metadata?.labels, "the helm test pod stays allowed").to.include(
      testPeer,
    );
    expect(policy.egress?.[1]?.to).to.deep.equal([{ ipBlock: { cidr: "172.18.0.2/32" } }]);
  });

  it("renders none when disabled", () => {
    expect(
      ofKind(render({ valueFiles: [valueSets.noNetworkPolicy] }), "NetworkPolicy"),
    ).to.deep.equal([]);
  });
});
