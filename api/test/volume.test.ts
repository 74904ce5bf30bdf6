import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import sharp from "sharp";

import { startApi, upload, type Harness } from "./harness.js";

/** Mounts a 1 MiB tmpfs; returns undefined where this process may not mount. */
async function smallVolume(): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), "thumbnailer-full-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m,mode=0777", "tmpfs", dir], {
      stdio: "ignore",
    });
    return dir;
  } catch {
    await rm(dir, { recursive: true, force: true });
    return undefined;
  }
}

describe("full data volume", () => {
  let volume: string | undefined;
  let h: Harness | undefined;

  before(async function () {
    volume = await smallVolume();
    if (volume === undefined) {
      // Mounting needs root (as in CI); elsewhere this case cannot be set up.
      this.skip();
    }
  });

  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  after(async () => {
    if (volume !== undefined) {
      execFileSync("umount", [volume]);
      await rm(volume, { recursive: true, force: true });
    }
  });

  it("answers 507 and keeps nothing, then accepts a small upload", async () => {
    h = await startApi({ DATA_DIR: volume!, MAX_UPLOAD_BYTES: String(8 * 1024 * 1024) });
    const noise = await sharp(
      Buffer.from(Array.from({ length: 700 * 700 * 3 }, (_, i) => (i * 7919) % 251)),
      {
        raw: { width: 700, height: 700, channels: 3 },
      },
    )
      .png({ compressionLevel: 0 })
      .toBuffer();
    expect(noise.length).to.be.greaterThan(1024 * 1024);

    const res = await upload(h.baseUrl, noise);
    expect(res.status).to.equal(507);
    expect(res.headers.get("retry-after")).to.equal("60");
    expect(((await res.json()) as { detail: string }).detail).to.match(/volume is full/);
    expect(await readdir(join(volume!, "jobs"))).to.deep.equal([]);

    const small = await sharp({ create: { width: 4, height: 4, channels: 3, background: "#fff" } })
      .png()
      .toBuffer();
    expect((await upload(h.baseUrl, small)).status).to.equal(202);
  });
});
