import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

import { expect } from "chai";

import { RunnerError } from "../src/errors.js";
import { writeFilesAtomically } from "../src/output.js";
import { makeTempDir } from "./fixtures.js";

describe("writeFilesAtomically", function () {
  it("writes every file with its content and no temporary file", async function () {
    const folder = await makeTempDir("thumbnailer-output-");

    await writeFilesAtomically([
      { path: path.join(folder, "thumbnail"), data: Buffer.from([1, 2, 3]) },
      { path: path.join(folder, "result.json"), data: "{}\n" },
    ]);

    expect((await readdir(folder)).sort()).to.deep.equal(["result.json", "thumbnail"]);
    expect([...(await readFile(path.join(folder, "thumbnail")))]).to.deep.equal([1, 2, 3]);
    expect(await readFile(path.join(folder, "result.json"), "utf8")).to.equal("{}\n");
  });

  it("replaces a file left by an earlier attempt", async function () {
    const folder = await makeTempDir("thumbnailer-output-");
    await writeFile(path.join(folder, "thumbnail"), "old");

    await writeFilesAtomically([{ path: path.join(folder, "thumbnail"), data: "new" }]);

    expect(await readFile(path.join(folder, "thumbnail"), "utf8")).to.equal("new");
  });

  it("failure on the second file leaves nothing behind", async function () {
    const folder = await makeTempDir("thumbnailer-output-");

    let caught: unknown;
    try {
      await writeFilesAtomically([
        { path: path.join(folder, "thumbnail"), data: "image" },
        { path: path.join(folder, "missing-folder", "result.json"), data: "{}" },
      ]);
    } catch (error) {
      caught = error;
    }

    expect(caught).to.be.instanceOf(RunnerError);
    expect((caught as Error).message).to.include("ENOENT");
    expect(await readdir(folder)).to.deep.equal([]);
  });
});
