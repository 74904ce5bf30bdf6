import { expect } from "chai";

import {
  MONITORING_API_VERSION,
  type KubeObject,
  ofKind,
  render,
  single,
  valueSets,
} from "./helm.js";
import { apiPodSpec, role, roleBindings, runnerPodSpec } from "./objects.js";

// Every kind the chart may render. All of them are namespaced.
const NAMESPACED_KINDS = new Set([
  "ConfigMap",
  "Deployment",
  "NetworkPolicy",
  "PersistentVolumeClaim",
  "Pod",
  "Role",
  "RoleBinding",
  "Service",
  "ServiceAccount",
  "ServiceMonitor",
]);

// The API's permissions, as "<apiGroup>/<resource>:<verb>". The core group is "".
const EXPECTED_PERMISSIONS = [
  "batch/jobs:create",
  "batch/jobs:get",
  "batch/jobs:list",
  "batch/jobs:watch",
  "batch/jobs:patch",
  "batch/jobs:delete",
  "/pods:get",
  "/pods:list",
  "/pods:watch",
  "/pods/log:get",
  "/pods/log:list",
  "/pods/log:watch",
  "coordination.k8s.io/leases:get",
  "coordination.k8s.io/leases:create",
  "coordination.k8s.io/leases:update",
  "/events:create",
  "events.k8s.io/events:create",
].sort();

function everyValueSet(): Array<[string, KubeObject[]]> {
  return [
    ["default", render()],
    ["existing claim", render({ valueFiles: [valueSets.existingClaim] })],
    ["read-write-many", render({ valueFiles: [valueSets.readWriteMany] })],
    ["no network policy", render({ valueFiles: [valueSets.noNetworkPolicy] })],
    [
      "locked down with monitoring",
      render({ valueFiles: [valueSets.lockedDown], apiVersions: [MONITORING_API_VERSION] }),
    ],
  ];
}

describe("chart RBAC and scope", () => {
  it("renders only namespaced kinds with every value set", () => {
    for (const [name, objects] of everyValueSet()) {
      const kinds = objects.map((object) => object.kind);
      const unexpected = kinds.filter((kind) => !NAMESPACED_KINDS.has(kind));
      expect(unexpected, name).to.deep.equal([]);
      expect(kinds, name).to.not.include.members([
        "ClusterRole",
        "ClusterRoleBinding",
        "Namespace",
      ]);
    }
  });

  it("sets no namespace other than the release's", () => {
    for (const [name, objects] of everyValueSet()) {
      for (const object of objects) {
        const namespace = object.metadata.namespace;
        if (namespace !== undefined)
          expect(namespace, `${name} ${object.kind}`).to.equal("thumbnails");
      }
    }
  });

  it("Role grants exactly what the API uses", () => {
    const permissions: string[] = [];
    for (const rule of role(render()).rules ?? []) {
      expect(rule.resourceNames, "resourceNames").to.equal(undefined);
      for (const group of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) {
          for (const verb of rule.verbs) permissions.push(`${group}/${resource}:${verb}`);
        }
      }
    }
    expect(permissions.sort()).to.deep.equal(EXPECTED_PERMISSIONS);
  });

  it("RoleBinding binds the Role to the API's ServiceAccount only", () => {
    const objects = render();
    const bindings = roleBindings(objects);
    expect(bindings).to.have.length(1);
    const binding = bindings[0]!;
    expect(binding.roleRef).to.deep.equal({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "Role",
      name: role(objects).metadata?.name,
    });
    expect(binding.subjects).to.deep.equal([
      {
        kind: "ServiceAccount",
        name: apiPodSpec(objects).serviceAccountName,
        namespace: "thumbnails",
      },
    ]);
  });

  it("runner ServiceAccount has no binding and no token", () => {
    const objects = render();
    const runnerAccount = runnerPodSpec(objects).serviceAccountName;
    expect(runnerAccount).to.be.a("string").and.not.equal(apiPodSpec(objects).serviceAccountName);

    const account = single(objects, "ServiceAccount", "-runner");
    expect(account.metadata.name).to.equal(runnerAccount);
    expect(account["automountServiceAccountToken"]).to.equal(false);

    const subjects = roleBindings(objects).flatMap((binding) => binding.subjects ?? []);
    expect(subjects.map((subject) => subject.name)).to.not.include(runnerAccount);
  });

  it("names stay within 63 characters for the longest release name", () => {
    const releaseName = "a".repeat(53);
    const objects = render({ releaseName });
    for (const object of objects) {
      expect(object.metadata.name.length, `${object.kind} ${object.metadata.name}`).to.be.at.most(
        63,
      );
      expect(object.metadata.name, object.kind).to.not.match(/-$/);
    }
    const names = new Set(ofKind(objects, "ServiceAccount").map((object) => object.metadata.name));
    expect(names.size, "the two ServiceAccounts keep distinct names").to.equal(2);
  });
});
