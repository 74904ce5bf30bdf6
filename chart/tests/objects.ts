// Typed views of the rendered objects the tests look into.
import type {
  V1ConfigMap,
  V1Deployment,
  V1Job,
  V1NetworkPolicy,
  V1Pod,
  V1PodSpec,
  V1Role,
  V1RoleBinding,
} from "@kubernetes/client-node";

import { parseRunnerJobTemplate } from "../../api/src/jobTemplate.js";
import { type KubeObject, ofKind, single } from "./helm.js";

export function deployment(objects: KubeObject[]): V1Deployment {
  return single(objects, "Deployment") as unknown as V1Deployment;
}

export function apiPodSpec(objects: KubeObject[]): V1PodSpec {
  const spec = deployment(objects).spec?.template.spec;
  if (!spec) throw new Error("the Deployment has no pod spec");
  return spec;
}

export function role(objects: KubeObject[]): V1Role {
  return single(objects, "Role") as unknown as V1Role;
}

export function roleBindings(objects: KubeObject[]): V1RoleBinding[] {
  return ofKind(objects, "RoleBinding") as unknown as V1RoleBinding[];
}

export function networkPolicy(objects: KubeObject[], nameSuffix: string): V1NetworkPolicy {
  return single(objects, "NetworkPolicy", nameSuffix) as unknown as V1NetworkPolicy;
}

export function testPod(objects: KubeObject[]): V1Pod {
  return single(objects, "Pod", "-smoke-test") as unknown as V1Pod;
}

export function runnerJobTemplateText(objects: KubeObject[]): string {
  const configMap = single(objects, "ConfigMap", "-runner-job") as unknown as V1ConfigMap;
  const text = configMap.data?.["runner-job.yaml"];
  if (text === undefined) throw new Error("the runner Job ConfigMap has no key runner-job.yaml");
  return text;
}

/** Reads the runner Job template with the API's own loader. */
export function runnerJob(objects: KubeObject[]): V1Job {
  return parseRunnerJobTemplate(runnerJobTemplateText(objects));
}

export function runnerPodSpec(objects: KubeObject[]): V1PodSpec {
  const spec = runnerJob(objects).spec?.template.spec;
  if (!spec) throw new Error("the runner Job template has no pod spec");
  return spec;
}

/** Lists every pod spec the chart can start: the API's, the runner's and the helm test's. */
export function allPodSpecs(objects: KubeObject[]): Array<{ where: string; spec: V1PodSpec }> {
  const specs = [
    { where: "Deployment", spec: apiPodSpec(objects) },
    { where: "runner Job template", spec: runnerPodSpec(objects) },
  ];
  const pod = testPod(objects);
  if (pod.spec) specs.push({ where: "helm test Pod", spec: pod.spec });
  return specs;
}
