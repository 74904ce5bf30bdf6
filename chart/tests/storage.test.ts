import type { V1PersistentVolumeClaim, V1PodAffinityTerm } from "@kubernetes/client-node";
import { expect } from "chai";

import { type KubeObject, ofKind, render, valueSets } from "./helm.js";
import { apiPodSpec, deployment, runnerPodSpec } from "./objects.js";

function claims(objects: KubeObject[]): V1PersistentVolumeClaim[] {
  return ofKind(objects, "PersistentVolumeClaim") as unknown as V1PersistentVolumeClaim[];
}

function requiredPodAffinity(objects: KubeObject[]): V1PodAffinityTerm[] {
  return (
    runnerPodSpec(objects).affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ??
    []
  );
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

describe("chart storage", () => {
  it("default claim is ReadWriteOnce, 10Gi, default class, kept on uninstall", () => {
    const all = claims(render());
    expect(all).to.have.length(1);
    const claim = all[0]!;
    expect(claim.spec?.accessModes).to.deep.equal(["ReadWriteOnce"]);
    expect(claim.spec?.resources?.requests?.["storage"]).to.equal("10Gi");
    expect(claim.spec, "no storageClassName picks the default class").to.not.have.property(
      "storageClassName",
    );
    expect(claim.metadata?.annotations?.["helm.sh/resource-policy"]).to.equal("keep");
  });

  it("claim settings follow the values", () => {
    const claim = claims(
      render({
        set: [
          "persistence.size=50Gi",
          "persistence.storageClassName=fast",
          "persistence.keepOnUninstall=false",
        ],
      }),
    )[0]!;
    expect(claim.spec?.resources?.requests?.["storage"]).to.equal("50Gi");
    expect(claim.spec?.storageClassName).to.equal("fast");
    expect(claim.metadata?.annotations?.["helm.sh/resource-policy"]).to.equal(undefined);

    const locked = claims(render({ valueFiles: [valueSets.lockedDown] }))[0]!;
    expect(locked.metadata?.annotations).to.deep.equal({ "example.com/backup": "daily" });

    const manual = claims(render({ set: ["persistence.storageClassName=-"] }))[0]!;
    expect(manual.spec?.storageClassName, "'-' means no class").to.equal("");
  });

  it("existing claim replaces the chart's claim everywhere", () => {
    const objects = render({ valueFiles: [valueSets.existingClaim] });
    expect(claims(objects)).to.deep.equal([]);
    for (const spec of [apiPodSpec(objects), runnerPodSpec(objects)]) {
      const data = spec.volumes?.find((volume) => volume.name === "data");
      expect(data?.persistentVolumeClaim?.claimName).to.equal("thumbnailer-data");
    }
  });

  it("ReadWriteOnce gives Recreate, one replica and runner affinity to the API pod", () => {
    const objects = render();
    const spec = deployment(objects).spec!;
    expect(spec.replicas).to.equal(1);
    expect(spec.strategy?.type).to.equal("Recreate");

    const terms = requiredPodAffinity(objects);
    expect(terms).to.have.length(1);
    const term = terms[0]!;
    expect(term.topologyKey).to.equal("kubernetes.io/hostname");
    const selector = term.labelSelector?.matchLabels ?? {};
    expect(Object.keys(selector).sort()).to.deep.equal([
      "app.kubernetes.io/component",
      "app.kubernetes.io/instance",
      "app.kubernetes.io/name",
    ]);
    const apiPodLabels = spec.template.metadata?.labels ?? {};
    expect(matches(selector, apiPodLabels), "the selector matches the API pod").to.equal(true);
  });

  it("ReadWriteMany gives three replicas and no runner affinity", () => {
    const objects = render({ valueFiles: [valueSets.readWriteMany] });
    const spec = deployment(objects).spec!;
    expect(spec.replicas).to.equal(3);
    expect(spec.strategy?.type).to.not.equal("Recreate");
    expect(runnerPodSpec(objects).affinity).to.equal(undefined);
    expect(claims(objects)[0]?.spec?.accessModes).to.deep.equal(["ReadWriteMany"]);
  });

  it("ReadWriteOnce keeps the runner affinity of the values beside its own", () => {
    const terms = requiredPodAffinity(render({ valueFiles: [valueSets.lockedDown] }));
    expect(terms.map((term) => term.topologyKey)).to.deep.equal([
      "topology.kubernetes.io/zone",
      "kubernetes.io/hostname",
    ]);
  });
});
