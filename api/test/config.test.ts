import { expect } from "chai";

import { loadConfig } from "../src/config.js";

const base = { DATA_DIR: "/data", NAMESPACE: "thumbnails", RUNNER_JOB_TEMPLATE: "/etc/t.yaml" };

describe("loadConfig", () => {
  it("fills in the defaults", () => {
    const config = loadConfig(base);
    expect(config).to.include({
      port: 8080,
      releaseName: "thumbnailer",
      maxUploadBytes: 20 * 1024 * 1024,
      keepOriginals: false,
      logLevel: "info",
    });
  });

  const bad: [Record<string, string>, RegExp][] = [
    [{ DATA_DIR: "" }, /^DATA_DIR is required but not set$/],
    [{ DATA_DIR: "data" }, /^DATA_DIR must be an absolute path, got "data"$/],
    [{ NAMESPACE: "Bad_NS" }, /^NAMESPACE must be a DNS label/],
    [{ PORT: "80x" }, /^PORT must be an integer from 1 to 65535, got "80x"$/],
    [{ PORT: "70000" }, /^PORT must be an integer/],
    [{ MAX_UPLOAD_BYTES: "-1" }, /^MAX_UPLOAD_BYTES must be an integer/],
    [{ MAX_RUNNING_JOBS: "1.5" }, /^MAX_RUNNING_JOBS must be an integer/],
    [{ MAX_QUEUED_JOBS: "0" }, /^MAX_QUEUED_JOBS must be an integer from 1/],
    [{ KEEP_ORIGINALS: "yes" }, /^KEEP_ORIGINALS must be true or false, got "yes"$/],
    [
      { LOG_LEVEL: "verbose" },
      /^LOG_LEVEL must be one of error, warn, info, debug, got "verbose"$/,
    ],
    [{ RUNNER_JOB_TEMPLATE: "" }, /^RUNNER_JOB_TEMPLATE is required/],
  ];
  for (const [env, message] of bad) {
    it(`rejects ${JSON.stringify(env)} naming the variable`, () => {
      expect(() => loadConfig({ ...base, ...env })).to.throw(message);
    });
  }
});
