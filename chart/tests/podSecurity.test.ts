import type { V1Container, V1PodSpec } from "@kubernetes/client-node";
import { expect } from "chai";

import { render, valueSets } from "./helm.js";
import { allPodSpecs } from "./objects.js";

// Volume types that the Pod Security Standard "restricted" allows.
const RESTRICTED_VOLUME_TYPES = new Set([
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
]);

const SECCOMP_TYPES = new Set(["RuntimeDefault", "Localhost"]);

/**
 * Lists how a pod spec breaks the Pod Security Standard "restricted"
 * (baseline included), as of Kubernetes 1.30; an empty list means it passes.
 */
function restrictedViolations(spec: V1PodSpec): string[] {
  const violations: string[] = [];
  const pod = spec.securityContext ?? {};

  if (spec.hostNetwork) violations.push("hostNetwork is true");
  if (spec.hostPID) violations.push("hostPID is true");
  if (spec.hostIPC) violations.push("hostIPC is true");
  if (pod.sysctls && pod.sysctls.length > 0) violations.push("pod sets sysctls");
  if (pod.runAsUser === 0) violations.push("pod runAsUser is 0");
  if (pod.seLinuxOptions?.user || pod.seLinuxOptions?.role)
    violations.push("pod sets seLinuxOptions user or role");

  for (const volume of spec.volumes ?? []) {
    const types = Object.keys(volume).filter((key) => key !== "name");
    for (const type of types) {
      if (!RESTRICTED_VOLUME_TYPES.has(type))
        violations.push(`volume ${volume.name} has type ${type}`);
    }
  }

  const containers: V1Container[] = [...(spec.initContainers ?? []), ...spec.containers];
  for (const container of containers) {
    const context = container.securityContext ?? {};
    const name = `container ${container.name}`;

    if (context.privileged) violations.push(`${name} is privileged`);
    if (context.allowPrivilegeEscalation !== false) {
      violations.push(`${name} does not set allowPrivilegeEscalation: false`);
    }
    if (!(context.capabilities?.drop ?? []).includes("ALL"))
      violations.push(`${name} does not drop ALL capabilities`);
    const added = (context.capabilities?.add ?? []).filter(
      (capability) => capability !== "NET_BIND_SERVICE",
    );
    if (added.length > 0) violations.push(`${name} adds capabilities ${added.join(", ")}`);

    const runAsNonRoot = context.runAsNonRoot ?? pod.runAsNonRoot;
    if (runAsNonRoot !== true) violations.push(`${name} does not run with runAsNonRoot: true`);
    if ((context.runAsUser ?? pod.runAsUser) === 0) violations.push(`${name} runs as UID 0`);

    const seccomp = context.seccompProfile?.type ?? pod.seccompProfile?.type;
    if (seccomp === undefined || !SECCOMP_TYPES.has(seccomp)) {
      violations.push(
        `${name} has seccompProfile ${seccomp ?? "unset"}, expected RuntimeDefault or Localhost`,
      );
    }
    if (context.procMount !== undefined && context.procMount !== "Default") {
      violations.push(`${name} sets procMount ${context.procMount}`);
    }
    if (context.seLinuxOptions?.user || context.seLinuxOptions?.role) {
      violations.push(`${name} sets seLinuxOptions user or role`);
    }
    for (const port of container.ports ?? []) {
      if (port.hostPort) violations.push(`${name} uses hostPort ${port.hostPort}`);
    }
  }
  return violations;
}

const renders = {
  "the default values": () => render(),
  "the read-write-many values": () => render({ valueFiles: [valueSets.readWriteMany] }),
  "the locked-down values": () => render({ valueFiles: [valueSets.lockedDown] }),
};

describe("chart pod security", () => {
  for (const [name, renderValues] of Object.entries(renders)) {
    it(`every pod meets restricted with ${name}`, () => {
      for (const { where, spec } of allPodSpecs(renderValues())) {
        expect(restrictedViolations(spec), where).to.deep.equal([]);
      }
    });
  }

  it("restricted check reports a privileged hostPath pod", () => {
    const spec: V1PodSpec = {
      hostNetwork: true,
      volumes: [{ name: "root", hostPath: { path: "/" } }],
      containers: [{ name: "shell", securityContext: { privileged: true, runAsUser: 0 } }],
    };
    const violations = restrictedViolations(spec);
    expect(violations).to.include("hostNetwork is true");
    expect(violations).to.include("volume root has type hostPath");
    expect(violations).to.include("container shell is privileged");
    expect(violations).to.include("container shell runs as UID 0");
    expect(violations).to.include("container shell does not drop ALL capabilities");
  });

  it("every pod runs as UID and GID 10001 with fsGroup OnRootMismatch", () => {
    for (const { where, spec } of allPodSpecs(render())) {
      expect(spec.securityContext?.runAsUser, where).to.equal(10001);
      expect(spec.securityContext?.runAsGroup, where).to.equal(10001);
      expect(spec.securityContext?.fsGroup, where).to.equal(10001);
      expect(spec.securityContext?.fsGroupChangePolicy, where).to.equal("OnRootMismatch");
    }
  });

  it("every container has a read-only root filesystem and a /tmp emptyDir", () => {
    for (const { where, spec } of allPodSpecs(render())) {
      const tmp = (spec.volumes ?? []).find((volume) => volume.name === "tmp");
      expect(tmp?.emptyDir, `${where} tmp volume`).to.deep.equal({});
      for (const container of spec.containers) {
        const label = `${where} container ${container.name}`;
        expect(container.securityContext?.readOnlyRootFilesystem, label).to.equal(true);
        const tmpMount = (container.volumeMounts ?? []).find((mount) => mount.mountPath === "/tmp");
        expect(tmpMount?.name, label).to.equal("tmp");
        expect(container.terminationMessagePolicy, label).to.equal("FallbackToLogsOnError");
      }
    }
  });

  it("only the API pod mounts a service account token", () => {
    for (const { where, spec } of allPodSpecs(render())) {
      expect(spec.enableServiceLinks, where).to.equal(false);
      if (where === "Deployment") {
        expect(spec.automountServiceAccountToken, where).to.equal(true);
      } else {
        expect(spec.automountServiceAccountToken, where).to.equal(false);
      }
    }
  });
});
