import type { V1Container, V1Service } from "@kubernetes/client-node";
import { expect } from "chai";

import { loadConfig } from "../../api/src/config.js";
import { type KubeObject, render, single, valueSets } from "./helm.js";
import { apiPodSpec, deployment, runnerJobTemplateText } from "./objects.js";

function apiContainer(objects: KubeObject[]): V1Container {
  const containers = apiPodSpec(objects).containers;
  expect(containers.map((container) => container.name)).to.deep.equal(["api"]);
  return containers[0]!;
}

function environment(container: V1Container): Record<string, string> {
  const values: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    values[variable.name] = variable.value ?? `fieldRef:${variable.valueFrom?.fieldRef?.fieldPath}`;
  }
  return values;
}

describe("chart API Deployment", () => {
  it("sets every API environment variable", () => {
    expect(environment(apiContainer(render()))).to.deep.equal({
      PORT: "8080",
      DATA_DIR: "/data",
      NAMESPACE: "fieldRef:metadata.namespace",
      POD_NAME: "fieldRef:metadata.name",
      RELEASE_NAME: "thumbnailer",
      RUNNER_JOB_TEMPLATE: "/etc/thumbnailer/runner-job.yaml",
      MAX_UPLOAD_BYTES: "20971520",
      MAX_RUNNING_JOBS: "10",
      MAX_QUEUED_JOBS: "1000",
      KEEP_ORIGINALS: "false",
      LOG_LEVEL: "info",
      ORPHAN_GRACE_SECONDS: "600",
      SHUTDOWN_GRACE_SECONDS: "25",
    });
  });

  it("environment follows the values", () => {
    const objects = render({
      releaseName: "emoji",
      set: [
        "limits.maxUploadBytes=1048576",
        "jobs.maxRunning=0",
        "jobs.maxQueued=5",
        "api.keepOriginals=true",
        "api.logLevel=debug",
        "api.orphanGraceSeconds=3600",
        "api.terminationGracePeriodSeconds=120",
      ],
    });
    const env = environment(apiContainer(objects));
    expect(env["RELEASE_NAME"]).to.equal("emoji");
    expect(env["MAX_UPLOAD_BYTES"]).to.equal("1048576");
    expect(env["MAX_RUNNING_JOBS"]).to.equal("0");
    expect(env["MAX_QUEUED_JOBS"]).to.equal("5");
    expect(env["KEEP_ORIGINALS"]).to.equal("true");
    expect(env["LOG_LEVEL"]).to.equal("debug");
    expect(env["ORPHAN_GRACE_SECONDS"]).to.equal("3600");
    expect(env["SHUTDOWN_GRACE_SECONDS"]).to.equal("115");
    expect(apiPodSpec(objects).terminationGracePeriodSeconds).to.equal(120);
  });

  it("API config loader accepts the environment at the value limits", () => {
    const valueSetsAtLimits = [
      [],
      [
        "limits.maxUploadBytes=1073741824",
        "jobs.maxRunning=100000",
        "jobs.maxQueued=1000000",
        "api.orphanGraceSeconds=2592000",
        "api.terminationGracePeriodSeconds=3600",
      ],
      [
        "limits.maxUploadBytes=1",
        "jobs.maxRunning=0",
        "jobs.maxQueued=1",
        "api.terminationGracePeriodSeconds=5",
      ],
    ];
    for (const set of valueSetsAtLimits) {
      const env = environment(apiContainer(render({ set })));
      // The kubelet fills in the downward API fields.
      env["NAMESPACE"] = "thumbnails";
      env["POD_NAME"] = "thumbnailer-5d8f7c9b4-x2k7q";
      const config = loadConfig(env);
      expect(config.maxUploadBytes, set.join(" ")).to.equal(Number(env["MAX_UPLOAD_BYTES"]));
      expect(config.shutdownGraceSeconds, set.join(" ")).to.equal(
        Number(env["SHUTDOWN_GRACE_SECONDS"]),
      );
    }
  });

  it("mounts the runner Job template where RUNNER_JOB_TEMPLATE points", () => {
    const objects = render();
    const container = apiContainer(objects);
    const path = environment(container)["RUNNER_JOB_TEMPLATE"]!;
    const mount = container.volumeMounts?.find((candidate) =>
      path.startsWith(`${candidate.mountPath}/`),
    );
    expect(mount?.readOnly).to.equal(true);
    const volume = apiPodSpec(objects).volumes?.find((candidate) => candidate.name === mount?.name);
    const configMap = single(objects, "ConfigMap", "-runner-job");
    expect(volume?.configMap?.name).to.equal(configMap.metadata.name);
    expect(path.slice(mount!.mountPath.length + 1)).to.equal("runner-job.yaml");
    expect(runnerJobTemplateText(objects)).to.contain("kind: Job");

    const dataMount = container.volumeMounts?.find((candidate) => candidate.name === "data");
    expect(dataMount?.mountPath).to.equal(environment(container)["DATA_DIR"]);
  });

  it("probes /healthz and /readyz on the http port", () => {
    const container = apiContainer(render());
    expect(container.ports).to.deep.equal([{ name: "http", containerPort: 8080, protocol: "TCP" }]);
    expect(container.startupProbe?.httpGet).to.deep.equal({ path: "/healthz", port: "http" });
    expect(container.livenessProbe?.httpGet).to.deep.equal({ path: "/healthz", port: "http" });
    expect(container.readinessProbe?.httpGet).to.deep.equal({ path: "/readyz", port: "http" });
    expect(container.resources?.requests, "requests").to.have.keys(["cpu", "memory"]);
    expect(container.resources?.limits, "limits").to.have.property("memory");
  });

  it("checksum annotation changes with the runner Job template", () => {
    const checksum = (set: string[]) =>
      deployment(render({ set })).spec?.template.metadata?.annotations?.[
        "checksum/runner-job-template"
      ];
    const base = checksum([]);
    expect(base).to.match(/^[0-9a-f]{64}$/);
    expect(checksum(["thumbnail.size=64"])).to.not.equal(base);
    expect(checksum(["api.logLevel=debug"]), "API-only values leave it alone").to.equal(base);
  });

  it("uses the API image with an optional registry", () => {
    expect(apiContainer(render()).image).to.equal("thumbnailer-api:0.1.0");
    expect(apiContainer(render()).imagePullPolicy).to.equal("IfNotPresent");
    const locked = render({ valueFiles: [valueSets.lockedDown] });
    expect(apiContainer(locked).image).to.equal(
      "registry.example.com/thumbnailer/thumbnailer-api:0.1.0-rc.1",
    );
    expect(apiPodSpec(locked).imagePullSecrets).to.deep.equal([{ name: "registry-credentials" }]);
    const annotations = deployment(locked).spec?.template.metadata?.annotations ?? {};
    expect(annotations).to.include({ "example.com/team": "emoji" });
    expect(annotations).to.have.property("checksum/runner-job-template");
  });

  it("labels the API pods and selects them by name, instance and component", () => {
    const spec = deployment(render()).spec!;
    const selector = {
      "app.kubernetes.io/name": "thumbnailer",
      "app.kubernetes.io/instance": "thumbnailer",
      "app.kubernetes.io/component": "api",
    };
    expect(spec.selector.matchLabels).to.deep.equal(selector);
    expect(spec.template.metadata?.labels).to.include(selector);
    expect(spec.template.metadata?.labels).to.include({ app: "thumbnailer" });
  });

  it("Service is ClusterIP on port 80 to the http port", () => {
    const objects = render();
    const service = single(objects, "Service") as unknown as V1Service;
    expect(service.spec?.type).to.equal("ClusterIP");
    expect(service.spec?.ports).to.deep.equal([
      { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
    ]);
    expect(service.spec?.selector).to.deep.equal(deployment(objects).spec?.selector.matchLabels);
  });
});

describe("chart helm test Pod", () => {
  it("runs the smoke script in the API image against the Service", () => {
    const objects = render();
    const pod = single(objects, "Pod", "-smoke-test");
    expect(pod.metadata.annotations?.["helm.sh/hook"]).to.equal("test");
    const spec = (pod as unknown as { spec: { containers: V1Container[] } }).spec;
    const container = spec.containers[0]!;
    const service = single(objects, "Service");
    expect(container.image).to.equal(apiContainer(objects).image);
    expect(container.command).to.deep.equal([
      "node",
      "/app/api/dist/smoke.js",
      `http://${service.metadata.name}:80`,
      "--size=100",
      "--timeout-seconds=120",
    ]);
  });
});
