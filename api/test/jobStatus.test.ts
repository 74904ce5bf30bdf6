import type { V1Job, V1Pod } from "@kubernetes/client-node";
import { expect } from "chai";

import { RUNNER_REASONS, describeJob, type JobFacts } from "../src/jobStatus.js";
import type { RunnerResult } from "../src/storage.js";

const ID = "01890a5d-ac96-774b-bcce-b302099a8057";
const created = new Date("2026-12-01T10:00:00Z");

function job(spec: V1Job["spec"] = { template: {} }, status: V1Job["status"] = {}): V1Job {
  return { metadata: { name: `thumb-${ID}`, creationTimestamp: created }, spec, status };
}

const result: RunnerResult = {
  contentType: "image/png",
  width: 100,
  height: 100,
  bytes: 1234,
  frames: 1,
  input: { format: "png", width: 640, height: 480 },
  durationMs: 50,
};

function facts(overrides: Partial<JobFacts> = {}): JobFacts {
  return { meta: undefined, result: undefined, pods: [], queuePosition: undefined, ...overrides };
}

function condition(type: string, reason?: string, message?: string) {
  return {
    type,
    status: "True",
    reason,
    message,
    lastTransitionTime: new Date("2026-12-01T10:00:05Z"),
  };
}

function failedPod(
  terminated: { exitCode: number; reason?: string; message?: string },
  createdAt = created,
): V1Pod {
  return {
    metadata: { name: `thumb-${ID}-${createdAt.getTime()}`, creationTimestamp: createdAt },
    status: {
      phase: "Failed",
      containerStatuses: [
        {
          name: "runner",
          image: "r",
          imageID: "",
          ready: false,
          restartCount: 0,
          state: { terminated },
        },
      ],
    },
  };
}

describe("describeJob", () => {
  for (const type of ["Complete", "SuccessCriteriaMet"]) {
    it(`maps condition ${type} to succeeded with the thumbnail`, () => {
      const doc = describeJob(
        ID,
        job(undefined, { conditions: [condition(type)] }),
        facts({ result }),
      );
      expect(doc.status).to.equal("succeeded");
      expect(doc.stage).to.equal("succeeded");
      expect(doc.thumbnail).to.deep.equal({
        url: `/v1/jobs/${ID}/thumbnail`,
        contentType: "image/png",
        width: 100,
        height: 100,
        bytes: 1234,
      });
      expect(doc.finishedAt).to.equal("2026-12-01T10:00:05.000Z");
    });
  }

  for (const type of ["Failed", "FailureTarget"]) {
    it(`maps condition ${type} to failed`, () => {
      const doc = describeJob(
        ID,
        job(undefined, {
          conditions: [
            condition(type, "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
          ],
        }),
        facts(),
      );
      expect(doc.status).to.equal("failed");
      expect(doc.error).to.deep.equal({
        reason: "BackoffLimitExceeded",
        message: "Job has reached the specified backoff limit",
      });
    });
  }

  it("prefers failed when both success and failure conditions are true", () => {
    const doc = describeJob(
      ID,
      job(undefined, {
        conditions: [condition("Complete"), condition("Failed", "DeadlineExceeded")],
      }),
      facts({ result }),
    );
    expect(doc.status).to.equal("failed");
    expect(doc.error?.reason).to.equal("DeadlineExceeded");
  });

  it("reports a suspended Job as queued with its position", () => {
    const doc = describeJob(ID, job({ suspend: true, template: {} }), facts({ queuePosition: 3 }));
    expect([doc.status, doc.stage, doc.queuePosition]).to.deep.equal(["processing", "queued", 3]);
  });

  it("reports a Job without a running pod as pending", () => {
    const doc = describeJob(ID, job({ suspend: false, template: {} }, { active: 1 }), facts());
    expect([doc.status, doc.stage, doc.attempts]).to.deep.equal(["processing", "pending", 1]);
  });

  it("reports a Job with a running pod as running", () => {
    const pod: V1Pod = { metadata: { name: "p" }, status: { phase: "Running" } };
    const doc = describeJob(ID, job(undefined, { active: 1, failed: 1 }), facts({ pods: [pod] }));
    expect([doc.stage, doc.attempts]).to.deep.equal(["running", 2]);
  });

  it("takes the error from the runner's termination message", () => {
    const pod = failedPod({
      exitCode: 2,
      reason: "Error",
      message:
        '{"reason":"TooManyFrames","message":"The animation has 3000 frames; the limit is 500."}',
    });
    const doc = describeJob(
      ID,
      job(undefined, { failed: 1, conditions: [condition("Failed", "PodFailurePolicy")] }),
      facts({ pods: [pod] }),
    );
    expect(doc.error).to.deep.equal({
      reason: "TooManyFrames",
      message: "The animation has 3000 frames; the limit is 500.",
    });
  });

  it("reports OOMKilled from the last pod", () => {
    const older = failedPod({ exitCode: 1, message: "boom" }, new Date("2026-12-01T10:00:01Z"));
    const newer = failedPod(
      { exitCode: 137, reason: "OOMKilled" },
      new Date("2026-12-01T10:00:03Z"),
    );
    const doc = describeJob(
      ID,
      job(undefined, { failed: 3, conditions: [condition("Failed", "BackoffLimitExceeded")] }),
      facts({ pods: [older, newer] }),
    );
    expect(doc.error?.reason).to.equal("OOMKilled");
    expect(doc.error?.message).to.match(/memory limit/);
  });

  it("reports another exit code as RunnerError with the last line of its logs", () => {
    const pod = failedPod({
      exitCode: 1,
      reason: "Error",
      message: "starting\n  Error: Cannot find module 'sharp'  \n",
    });
    const doc = describeJob(
      ID,
      job(undefined, { conditions: [condition("Failed", "BackoffLimitExceeded")] }),
      facts({ pods: [pod] }),
    );
    expect(doc.error).to.deep.equal({
      reason: "RunnerError",
      message: "The runner exited with code 1: Error: Cannot find module 'sharp'",
    });
  });

  it("ignores a termination message with an unknown reason", () => {
    const pod = failedPod({ exitCode: 2, message: '{"reason":"Evil label value","message":"x"}' });
    const doc = describeJob(
      ID,
      job(undefined, { conditions: [condition("Failed")] }),
      facts({ pods: [pod] }),
    );
    expect(doc.error?.reason).to.equal("RunnerError");
  });

  it("maps an unknown condition reason to JobFailed", () => {
    const doc = describeJob(
      ID,
      job(undefined, { conditions: [condition("Failed", "SomethingNew", "x")] }),
      facts(),
    );
    expect(doc.error?.reason).to.equal("JobFailed");
  });

  it("reports a succeeded Job whose thumbnail is missing as failed", () => {
    const doc = describeJob(
      ID,
      job(undefined, { conditions: [condition("Complete")] }),
      facts({ result: "missing" }),
    );
    expect(doc.status).to.equal("failed");
    expect(doc.error?.reason).to.equal("ThumbnailMissing");
  });

  it("keeps a succeeded Job processing until its result is read", () => {
    const doc = describeJob(ID, job(undefined, { conditions: [condition("Complete")] }), facts());
    expect([doc.status, doc.stage]).to.deep.equal(["processing", "running"]);
  });

  it("trims a long message", () => {
    const pod = failedPod({ exitCode: 1, message: "x".repeat(1000) });
    const doc = describeJob(
      ID,
      job(undefined, { conditions: [condition("Failed")] }),
      facts({ pods: [pod] }),
    );
    expect(doc.error!.message).to.have.lengthOf(300);
    expect(doc.error!.message.endsWith("…")).to.equal(true);
  });
});

describe("RUNNER_REASONS", () => {
  it("matches the runner's own reason list", async () => {
    const runner = await import("../../runner/src/reasons.js");
    expect([...RUNNER_REASONS].sort()).to.deep.equal([...runner.terminationReasons].sort());
  });
});

describe("describeJob attempts", () => {
  it("counts a failed pod the Job has not counted yet", () => {
    const pod = failedPod({
      exitCode: 2,
      message: '{"reason":"TooManyPixels","message":"Too big."}',
    });
    const doc = describeJob(
      ID,
      job(undefined, { conditions: [condition("FailureTarget", "PodFailurePolicy")] }),
      facts({ pods: [pod] }),
    );
    expect([doc.status, doc.error?.reason, doc.attempts]).to.deep.equal([
      "failed",
      "TooManyPixels",
      1,
    ]);
  });
});
