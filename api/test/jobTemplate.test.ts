import { readFile } from "node:fs/promises";

import { expect } from "chai";
import { stringify } from "yaml";

import { buildJob, loadRunnerJobTemplate, parseRunnerJobTemplate } from "../src/jobTemplate.js";
import { TEMPLATE_PATH } from "./harness.js";

const ID = "01890a5d-ac96-774b-bcce-b302099a8057";

describe("parseRunnerJobTemplate", () => {
  it("accepts the chart-like template", async () => {
    const job = parseRunnerJobTemplate(await readFile(TEMPLATE_PATH, "utf8"));
    expect(job.spec?.template.spec?.containers[0]?.name).to.equal("runner");
  });

  const broken: [string, (t: Record<string, any>) => unknown, RegExp][] = [
    ["a wrong kind", (t) => (t.kind = "Pod"), /batch\/v1 and kind Job/],
    ["no pod spec", (t) => delete t.spec.template.spec, /spec.template.spec is missing/],
    [
      "restartPolicy OnFailure",
      (t) => (t.spec.template.spec.restartPolicy = "OnFailure"),
      /restartPolicy must be Never/,
    ],
    [
      "no runner container",
      (t) => (t.spec.template.spec.containers[0].name = "main"),
      /one container named "runner"/,
    ],
    ["no image", (t) => delete t.spec.template.spec.containers[0].image, /has no image/],
    [
      "no /job mount",
      (t) => (t.spec.template.spec.containers[0].volumeMounts = []),
      /mount one volume at \/job/,
    ],
    [
      "an undefined volume",
      (t) => (t.spec.template.spec.volumes = []),
      /"data" mounted at \/job is not defined/,
    ],
  ];
  for (const [what, breakIt, message] of broken) {
    it(`rejects ${what}`, async () => {
      const template = parseRunnerJobTemplate(await readFile(TEMPLATE_PATH, "utf8")) as Record<
        string,
        any
      >;
      breakIt(template);
      expect(() => parseRunnerJobTemplate(stringify(template))).to.throw(message);
    });
  }

  it("rejects a file that is not YAML of an object", () => {
    expect(() => parseRunnerJobTemplate("- a\n- b\n")).to.throw(/not a YAML object/);
  });

  it("names the file when loading fails", async () => {
    let error: Error | undefined;
    await loadRunnerJobTemplate("/nonexistent/runner-job.yaml").catch(
      (err: Error) => (error = err),
    );
    expect(error?.message).to.equal(
      "cannot read the runner Job template /nonexistent/runner-job.yaml",
    );
  });
});

describe("buildJob", () => {
  it("stamps name, labels, subPath, suspend and fit without touching the template", async () => {
    const template = parseRunnerJobTemplate(await readFile(TEMPLATE_PATH, "utf8"));
    const before = structuredClone(template);
    const job = buildJob(template, {
      id: ID,
      namespace: "ns1",
      releaseName: "emoji",
      fit: "fill",
      suspend: true,
    });

    expect(template).to.deep.equal(before);
    expect(job.metadata?.name).to.equal(`thumb-${ID}`);
    expect(job.metadata?.namespace).to.equal("ns1");
    expect(job.metadata?.labels?.["app.kubernetes.io/instance"]).to.equal("emoji");
    expect(job.metadata?.labels?.["thumbnailer.cogent.co.jp/job-id"]).to.equal(ID);
    expect(job.spec?.template.metadata?.labels?.["thumbnailer.cogent.co.jp/job-id"]).to.equal(ID);
    expect(job.spec?.suspend).to.equal(true);
    const runner = job.spec!.template.spec!.containers[0]!;
    expect(runner.args?.filter((a) => a.startsWith("--fit"))).to.deep.equal(["--fit=fill"]);
    expect(runner.volumeMounts?.find((m) => m.mountPath === "/job")?.subPath).to.equal(
      `jobs/${ID}`,
    );
    expect(runner.volumeMounts?.find((m) => m.mountPath === "/tmp")?.subPath).to.equal(undefined);
    // Everything else comes from the template as it is.
    expect(job.spec?.backoffLimit).to.equal(before.spec?.backoffLimit);
    expect(job.spec?.podFailurePolicy).to.deep.equal(before.spec?.podFailurePolicy);
    expect(job.spec?.template.spec?.securityContext).to.deep.equal(
      before.spec?.template.spec?.securityContext,
    );
  });
});
