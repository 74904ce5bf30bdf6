import path from "node:path";

import { expect } from "chai";

import { rejectionReasons, terminationReasons } from "../src/reasons.js";
import {
  animatedGif,
  decompressionBombPng,
  emptyFile,
  photoJpeg,
  rejectedInputs,
  truncatedPng,
} from "./fixtures.js";
import {
  expectOneSentence,
  expectRejected,
  requireBuiltRunner,
  runRunner,
  runRunnerWithArgs,
} from "./helpers.js";

describe("runner bin on rejected inputs", function () {
  before(requireBuiltRunner);

  describe("bad files", function () {
    for (const fixture of rejectedInputs) {
      it(`${fixture.name} exits 2 with ${fixture.reason}`, async function () {
        const run = await runRunner(await fixture.make(), { inputName: fixture.fileName });

        expectRejected(run, fixture.reason);
      });
    }

    it("every catalogued reason is in the fixed set", function () {
      for (const fixture of rejectedInputs) {
        expect(rejectionReasons).to.include(fixture.reason);
      }
    });

    it("decompression bomb is rejected before decoding", async function () {
      const run = await runRunner(decompressionBombPng());

      expectRejected(run, "TooManyPixels");
      const line = run.logLines[0] ?? {};
      expect(line.input).to.deep.include({ format: "png", width: 100_000, height: 100_000 });
      expect(line.durationMs).to.be.below(2000);
      // Decoding even one row per pixel of the declared 10 gigapixels would need gigabytes.
      expect(line.maxRssBytes)
        .to.be.a("number")
        .and.below(300 * 2 ** 20);
      expect(run.termination?.message).to.include("100000x100000");
    });

    it("rejection message leaves out the file name", async function () {
      const run = await runRunner(await truncatedPng(), { inputName: "my-secret-holiday.png" });

      expectRejected(run, "CorruptImage");
      expect(run.termination?.message).not.to.include("secret-holiday");
      expect(run.stdout).not.to.include("secret-holiday");
      expect(run.stdout).not.to.include(run.folder);
    });
  });

  describe("limits", function () {
    it("animation over the pixel budget counts every frame", async function () {
      // 5 frames of 24x16: 384 pixels each, 1920 in all.
      const run = await runRunner(await animatedGif(), { args: ["--max-pixels", "1000"] });

      expectRejected(run, "TooManyPixels");
      expect(run.termination?.message).to.include("5 frames");
    });

    it("animation within the pixel budget succeeds", async function () {
      const run = await runRunner(await animatedGif(), { args: ["--max-pixels", "1920"] });

      expect(run.exitCode).to.equal(0);
    });

    it("animation over --max-frames exits 2 with TooManyFrames", async function () {
      const run = await runRunner(await animatedGif(), { args: ["--max-frames=4"] });

      expectRejected(run, "TooManyFrames");
      expect(run.termination?.message).to.include("5 frames");
    });

    it("image over the memory limit exits 2 with TooLarge", async function () {
      // 8000x8000 is within the default 100 megapixels but needs over 64 MiB decoded.
      const run = await runRunner(decompressionBombPng(8000, 8000), {
        args: ["--memory-limit", String(128 * 2 ** 20)],
      });

      expectRejected(run, "TooLarge");
      expect(run.termination?.message).to.match(/about \d+ MiB .* limit is 128 MiB/);
    });

    it("file over half the memory limit exits 2 with TooLarge", async function () {
      const input = await photoJpeg();
      const run = await runRunner(input, { args: ["--memory-limit", String(input.length)] });

      expectRejected(run, "TooLarge");
    });
  });

  describe("bad arguments", function () {
    const cases: { name: string; args: string[] }[] = [
      { name: "no flags", args: [] },
      { name: "missing --result", args: ["--input", "a", "--output", "b"] },
      {
        name: "unknown flag",
        args: ["--input", "a", "--output", "b", "--result", "c", "--colour", "red"],
      },
      {
        name: "positional argument",
        args: ["--input", "a", "--output", "b", "--result", "c", "extra"],
      },
      {
        name: "unknown fit",
        args: ["--input", "a", "--output", "b", "--result", "c", "--fit", "stretch"],
      },
      {
        name: "size zero",
        args: ["--input", "a", "--output", "b", "--result", "c", "--size", "0"],
      },
      {
        name: "size not a number",
        args: ["--input", "a", "--output", "b", "--result", "c", "--size=big"],
      },
      {
        name: "negative max pixels",
        args: ["--input", "a", "--output", "b", "--result", "c", "--max-pixels=-1"],
      },
      { name: "same output and result", args: ["--input", "a", "--output", "b", "--result", "b"] },
    ];
    for (const testCase of cases) {
      it(`${testCase.name} exits 2 with InvalidArguments`, async function () {
        const run = await runRunnerWithArgs(testCase.args);

        expect(run.exitCode).to.equal(2);
        expect(run.termination?.reason).to.equal("InvalidArguments");
        expectOneSentence(run.termination?.message ?? "");
      });
    }

    it("--help prints the usage and exits 0", async function () {
      const run = await runRunnerWithArgs(["--help"]);

      expect(run.exitCode).to.equal(0);
      expect(run.stdout).to.include("--max-frames");
      expect(run.termination).to.equal(undefined);
    });
  });

  describe("runner failures", function () {
    it("missing input file exits 1 with RunnerError", async function () {
      const run = await runRunner(Buffer.alloc(0), { inputPath: "/nonexistent/original" });

      expect(run.exitCode).to.equal(1);
      expect(run.termination?.reason).to.equal("RunnerError");
      expect(run.termination?.message).to.include("ENOENT");
      expectOneSentence(run.termination?.message ?? "");
      expect(run.files).to.deep.equal(["termination-log"]);
      expect(run.logLines[0]).to.include({ level: "error", reason: "RunnerError" });
    });

    it("unwritable result removes the thumbnail and temporary files", async function () {
      const run = await runRunner(await photoJpeg(), {
        resultPath: path.join("/nonexistent", "result.json"),
      });

      expect(run.exitCode).to.equal(1);
      expect(run.termination?.reason).to.equal("RunnerError");
      expect(run.files).to.deep.equal(["original", "termination-log"]);
    });

    it("unwritable termination file still exits 2", async function () {
      const run = await runRunner(emptyFile(), {
        env: { TERMINATION_MESSAGE_PATH: "/nonexistent/termination-log" },
      });

      expect(run.exitCode).to.equal(2);
      expect(run.logLines[0]).to.include({ reason: "EmptyInput" });
      expect(run.logLines[0]?.terminationMessageError).to.be.a("string");
    });

    it("RunnerError is in the termination reasons", function () {
      expect(terminationReasons).to.include("RunnerError");
      expect(rejectionReasons).not.to.include("RunnerError");
    });
  });
});
