import { expect } from "chai";

import { parseRunnerArgs, type RunnerOptions } from "../src/args.js";
import { RejectionError } from "../src/errors.js";

const required = [
  "--input",
  "/job/original",
  "--output",
  "/job/thumbnail",
  "--result",
  "/job/result.json",
];

function parseOptions(argv: string[]): RunnerOptions {
  const parsed = parseRunnerArgs(argv);
  if (parsed.help) throw new Error("expected options, got --help");
  return parsed.options;
}

function expectInvalid(argv: string[], messagePart: string): void {
  let caught: unknown;
  try {
    parseRunnerArgs(argv);
  } catch (error) {
    caught = error;
  }
  expect(caught).to.be.instanceOf(RejectionError);
  expect((caught as RejectionError).reason).to.equal("InvalidArguments");
  expect((caught as RejectionError).message).to.include(messagePart);
}

describe("parseRunnerArgs", function () {
  it("required flags only give the defaults", function () {
    expect(parseOptions(required)).to.deep.equal({
      inputPath: "/job/original",
      outputPath: "/job/thumbnail",
      resultPath: "/job/result.json",
      size: 100,
      fit: "contain",
      maxPixels: 100_000_000,
      maxFrames: 500,
      memoryLimitBytes: undefined,
    });
  });

  it("flag=value and flag value forms are equal", function () {
    const spaced = parseOptions([
      ...required,
      "--size",
      "64",
      "--fit",
      "cover",
      "--max-pixels",
      "5000",
      "--max-frames",
      "9",
    ]);
    const joined = parseOptions([
      ...required,
      "--size=64",
      "--fit=cover",
      "--max-pixels=5000",
      "--max-frames=9",
    ]);

    expect(joined).to.deep.equal(spaced);
    expect(joined).to.include({ size: 64, fit: "cover", maxPixels: 5000, maxFrames: 9 });
  });

  it("--memory-limit sets the limit in bytes", function () {
    expect(parseOptions([...required, "--memory-limit=536870912"]).memoryLimitBytes).to.equal(
      536_870_912,
    );
  });

  it("--help returns help without other flags", function () {
    expect(parseRunnerArgs(["--help"])).to.deep.equal({ help: true });
  });

  it("missing --output is rejected", function () {
    expectInvalid(["--input", "a", "--result", "c"], "--output is missing");
  });

  it("unknown flag is rejected by name", function () {
    expectInvalid([...required, "--colour=red"], "'--colour'");
  });

  it("fit outside the set is rejected with the allowed values", function () {
    expectInvalid([...required, "--fit", "stretch"], "contain, cover, fill");
  });

  it("sizes outside 1 to 4096 are rejected", function () {
    for (const size of ["0", "4097", "1.5", "-3", "1e3", ""]) {
      expectInvalid(
        [...required, `--size=${size}`],
        "--size must be a whole number from 1 to 4096",
      );
    }
  });

  it("long or unprintable values are cut in the message", function () {
    let caught: unknown;
    try {
      parseRunnerArgs([...required, "--fit", `${"x".repeat(100)}\n`]);
    } catch (error) {
      caught = error;
    }
    const message = (caught as Error).message;
    expect(message).not.to.include("\n");
    expect(message).not.to.include("x".repeat(41));
  });

  it("input reused as output is rejected", function () {
    expectInvalid(["--input", "a", "--output", "a", "--result", "c"], "must differ from --input");
  });
});
