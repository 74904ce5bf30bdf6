import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import { expect } from "chai";

import { bytesPerSample, estimateDecodeBytes, readCgroupMemoryLimit } from "../src/memory.js";
import { makeTempDir } from "./fixtures.js";

async function cgroupRoot(files: Record<string, string>): Promise<string> {
  const root = await makeTempDir("thumbnailer-cgroup-");
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), content);
  }
  return root;
}

describe("readCgroupMemoryLimit", function () {
  it("cgroup v2 memory.max gives the limit", async function () {
    expect(await readCgroupMemoryLimit(await cgroupRoot({ "memory.max": "536870912\n" }))).to.equal(
      536_870_912,
    );
  });

  it("cgroup v2 max means no limit", async function () {
    expect(await readCgroupMemoryLimit(await cgroupRoot({ "memory.max": "max\n" }))).to.equal(
      undefined,
    );
  });

  it("cgroup v1 limit_in_bytes gives the limit", async function () {
    const root = await cgroupRoot({ "memory/memory.limit_in_bytes": "268435456\n" });
    expect(await readCgroupMemoryLimit(root)).to.equal(268_435_456);
  });

  it("cgroup v1 huge value means no limit", async function () {
    const root = await cgroupRoot({ "memory/memory.limit_in_bytes": "9223372036854771712\n" });
    expect(await readCgroupMemoryLimit(root)).to.equal(undefined);
  });

  it("missing files mean no limit", async function () {
    expect(await readCgroupMemoryLimit(await cgroupRoot({}))).to.equal(undefined);
  });
});

describe("estimateDecodeBytes", function () {
  it("counts decoded samples, RGBA output and the input", function () {
    const bytes = estimateDecodeBytes({
      decodedPixels: 1000,
      channels: 3,
      bytesPerSample: 2,
      outputPixels: 100,
      inputBytes: 50,
    });
    expect(bytes).to.equal(1000 * 3 * 2 + 100 * 4 + 50);
  });

  it("band formats map to their sample size", function () {
    expect([
      bytesPerSample("uchar"),
      bytesPerSample("ushort"),
      bytesPerSample("float"),
      bytesPerSample(undefined),
    ]).to.deep.equal([1, 2, 4, 1]);
  });
});
