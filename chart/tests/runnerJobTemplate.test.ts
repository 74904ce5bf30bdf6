import { expect } from "chai";

import { parseRunnerJobTemplate } from "../../api/src/jobTemplate.js";
import { render, valueSets } from "./helm.js";
import { apiPodSpec, runnerJob, runnerJobTemplateText, runnerPodSpec } from "./objects.js";

const RUNNER_LABELS = {
  app: "thumbnailer",
  "app.kubernetes.io/name": "thumbnailer",
  "app.kubernetes.io/instance": "thumbnailer",
  "app.kubernetes.io/component": "runner",
};

function runnerContainer(objects = render()) {
  const containers = runnerPodSpec(objects).containers;
  expect(containers.map((container) => container.name)).to.deep.equal(["runner"]);
  return containers[0]!;
}

describe("chart runner Job template", () => {
  it("API loader accepts it with every value set", () => {
    for (const file of [undefined, ...Object.values(valueSets)]) {
      const objects = render(file ? { valueFiles: [file] } : {});
      expect(
        () => parseRunnerJobTemplate(runnerJobTemplateText(objects)),
        file ?? "default",
      ).to.not.throw();
    }
  });

  it("carries the Job settings of the values", () => {
    const spec = runnerJob(render()).spec!;
    expect(spec.backoffLimit).to.equal(2);
    expect(spec.activeDeadlineSeconds).to.equal(300);
    expect(spec.ttlSecondsAfterFinished).to.equal(604800);
    expect(spec.template.spec?.restartPolicy).to.equal("Never");

    const changed = runnerJob(
      render({
        set: [
          "jobs.backoffLimit=0",
          "jobs.activeDeadlineSeconds=60",
          "jobs.ttlSecondsAfterFinished=3600",
        ],
      }),
    ).spec!;
    expect(changed.backoffLimit).to.equal(0);
    expect(changed.activeDeadlineSeconds).to.equal(60);
    expect(changed.ttlSecondsAfterFinished).to.equal(3600);
  });

  it("podFailurePolicy fails on exit code 2 and ignores disruptions", () => {
    const rules = runnerJob(render()).spec?.podFailurePolicy?.rules;
    expect(rules).to.deep.equal([
      { action: "FailJob", onExitCodes: { containerName: "runner", operator: "In", values: [2] } },
      { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget" }] },
    ]);
  });

  it("labels the Job and its pods as runner", () => {
    const job = runnerJob(render());
    expect(job.metadata?.labels).to.deep.equal(RUNNER_LABELS);
    expect(job.spec?.template.metadata?.labels).to.deep.equal(RUNNER_LABELS);
    expect(job.metadata?.name, "the API sets the name").to.equal(undefined);
  });

  it("runner args carry the size and limit flags", () => {
    expect(runnerContainer().args).to.deep.equal([
      "--input=/job/original",
      "--output=/job/thumbnail",
      "--result=/job/result.json",
      "--size=100",
      "--max-pixels=100000000",
      "--max-frames=500",
    ]);
    const args = runnerContainer(
      render({ set: ["thumbnail.size=64", "limits.maxPixels=250000000", "limits.maxFrames=20"] }),
    ).args;
    expect(args).to.include.members(["--size=64", "--max-pixels=250000000", "--max-frames=20"]);
    expect(
      args?.some((arg) => arg.startsWith("--fit")),
      "the API adds --fit",
    ).to.equal(false);
  });

  it("mounts the data claim at /job without a subPath", () => {
    const objects = render();
    const spec = runnerPodSpec(objects);
    const mount = runnerContainer(objects).volumeMounts?.find(
      (candidate) => candidate.mountPath === "/job",
    );
    expect(mount?.name).to.equal("data");
    expect(mount?.subPath, "the API sets the subPath per job").to.equal(undefined);

    const data = spec.volumes?.find((volume) => volume.name === "data");
    const apiData = apiPodSpec(objects).volumes?.find((volume) => volume.name === "data");
    expect(data?.persistentVolumeClaim?.claimName).to.be.a("string");
    expect(data?.persistentVolumeClaim?.claimName).to.equal(
      apiData?.persistentVolumeClaim?.claimName,
    );
  });

  it("uses the runner image, resources and pull settings", () => {
    const objects = render();
    const container = runnerContainer(objects);
    expect(container.image).to.equal("thumbnailer-runner:0.1.0");
    expect(container.imagePullPolicy).to.equal("IfNotPresent");
    expect(container.resources?.limits?.["memory"]).to.equal("512Mi");
    expect(runnerPodSpec(objects).imagePullSecrets).to.equal(undefined);

    const locked = render({ valueFiles: [valueSets.lockedDown] });
    expect(runnerContainer(locked).image).to.equal(
      "registry.example.com/thumbnailer/thumbnailer-runner:0.1.0-rc.1",
    );
    const spec = runnerPodSpec(locked);
    expect(spec.imagePullSecrets).to.deep.equal([{ name: "registry-credentials" }]);
    expect(spec.priorityClassName).to.equal("thumbnailer-batch");
    expect(spec.nodeSelector).to.deep.equal({ "kubernetes.io/arch": "amd64" });
    expect(spec.tolerations).to.have.length(1);
  });
});
