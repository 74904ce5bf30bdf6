import { expect } from "chai";
import sharp from "sharp";

import type { JobDocument } from "../src/jobStatus.js";
import {
  acceptedInputs,
  exifOrientations,
  orientedJpeg,
  rejectedInputs,
} from "../../runner/test/fixtures.js";
import { startApi, upload, waitFor, type Harness } from "./harness.js";
import { reportOutcome, runAsPod } from "./pods.js";

/** Status with which the API rejects a runner fixture at upload, before any runner runs. */
const REJECTED_AT_UPLOAD: Record<string, number> = {
  "zero bytes": 400,
  "text named .png": 415,
  HEIC: 415,
  BMP: 415,
  // file-type wants a whole IHDR chunk before it calls a file PNG.
  "PNG header then garbage": 415,
};

describe("hostile and awkward corpus, upload to final status", function () {
  this.timeout(120000);
  let h: Harness;

  before(async () => {
    h = await startApi({ MAX_UPLOAD_BYTES: String(20 * 1024 * 1024) });
  });

  after(async () => {
    await h.close();
  });

  /** Uploads one file; for a 202, runs the runner as its pod would and returns the final job. */
  async function process(
    bytes: Buffer,
    filename: string,
  ): Promise<{ status: number; doc?: JobDocument; attempts?: number }> {
    const res = await upload(h.baseUrl, bytes, { filename });
    if (res.status !== 202) return { status: res.status };
    const { id } = (await res.json()) as JobDocument;
    const job = h.fake.jobs.get(`thumb-${id}`)!;
    reportOutcome(h, job, await runAsPod(h, job));
    let doc: JobDocument | undefined;
    await waitFor(async () => {
      doc = (await (await fetch(`${h.baseUrl}/v1/jobs/${id}`)).json()) as JobDocument;
      return doc.status !== "processing";
    }, `job ${id} to finish`);
    return { status: 202, doc: doc!, attempts: doc!.attempts };
  }

  for (const fixture of acceptedInputs) {
    it(`${fixture.name} becomes a 100x100 ${fixture.contentType}`, async () => {
      const { status, doc } = await process(await fixture.make(), fixture.fileName);
      expect(status).to.equal(202);
      expect(doc?.status).to.equal("succeeded");
      expect(doc?.thumbnail).to.deep.include({
        width: 100,
        height: 100,
        contentType: fixture.contentType,
      });
      const bytes = Buffer.from(
        await (await fetch(`${h.baseUrl}${doc!.thumbnail!.url}`)).arrayBuffer(),
      );
      const meta = await sharp(bytes, { animated: true }).metadata();
      expect([meta.width, meta.pageHeight ?? meta.height]).to.deep.equal([100, 100]);
      expect(meta.pages ?? 1).to.equal(fixture.frames);
      expect(meta.exif).to.equal(undefined);
    });
  }

  for (const orientation of exifOrientations) {
    it(`JPEG with EXIF orientation ${orientation} succeeds without the tag`, async () => {
      const { doc } = await process(await orientedJpeg(orientation), `rotated-${orientation}.jpg`);
      expect(doc?.status).to.equal("succeeded");
      const bytes = Buffer.from(
        await (await fetch(`${h.baseUrl}${doc!.thumbnail!.url}`)).arrayBuffer(),
      );
      expect((await sharp(bytes).metadata()).orientation).to.equal(undefined);
    });
  }

  for (const fixture of rejectedInputs) {
    const rejectedWith = REJECTED_AT_UPLOAD[fixture.name];
    if (rejectedWith !== undefined) {
      it(`${fixture.name} is rejected at upload with ${rejectedWith}`, async () => {
        expect((await process(await fixture.make(), fixture.fileName)).status).to.equal(
          rejectedWith,
        );
      });
    } else {
      it(`${fixture.name} fails with ${fixture.reason} after one attempt`, async () => {
        const { status, doc, attempts } = await process(await fixture.make(), fixture.fileName);
        expect(status).to.equal(202);
        expect(doc?.status).to.equal("failed");
        expect(doc?.error?.reason).to.equal(fixture.reason);
        expect(attempts).to.equal(1);
      });
    }
  }

  it("path-like file name stored intact", async () => {
    const { doc } = await process(await acceptedInputs[1]!.make(), "../../etc/passwd.png");
    expect(doc?.original?.filename).to.equal("../../etc/passwd.png");
    expect(doc?.status).to.equal("succeeded");
  });
});
