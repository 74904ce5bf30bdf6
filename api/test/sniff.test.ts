import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";

import { sniffImage } from "../src/sniff.js";
import * as fixtures from "../../runner/test/fixtures.js";

describe("sniffImage", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "thumbnailer-sniff-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function sniff(bytes: Buffer, name = "upload.png") {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return sniffImage(path);
  }

  const accepted: [string, () => Promise<Buffer> | Buffer, string][] = [
    ["JPEG", fixtures.photoJpeg, "image/jpeg"],
    ["PNG", fixtures.transparentPng, "image/png"],
    ["GIF", fixtures.animatedGif, "image/gif"],
    ["WebP", fixtures.stillWebp, "image/webp"],
    ["AVIF", fixtures.avifImage, "image/avif"],
    ["TIFF", fixtures.multiPageTiff, "image/tiff"],
    ["SVG", fixtures.simpleSvg, "image/svg+xml"],
    [
      "SVG with an XML declaration and comment",
      () =>
        Buffer.from(
          '\uFEFF<?xml version="1.0"?>\n<!-- hi -->\n<svg xmlns="http://www.w3.org/2000/svg"/>',
        ),
      "image/svg+xml",
    ],
  ];
  for (const [what, make, contentType] of accepted) {
    it(`accepts ${what} as ${contentType}`, async () => {
      expect((await sniff(await make()))?.contentType).to.equal(contentType);
    });
  }

  const rejected: [string, () => Promise<Buffer> | Buffer][] = [
    ["HEIC", fixtures.heicLike],
    ["BMP", fixtures.bmp],
    ["text", fixtures.textFile],
    ["HTML", () => Buffer.from("<html><body><svg></svg></body></html>")],
    ["a PDF", () => Buffer.from("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "latin1")],
    [
      "a ZIP",
      () => Buffer.from("504b0304140000000800000000000000000000000000000000000300000061", "hex"),
    ],
    ["one byte", () => Buffer.from([0x89])],
    ["plain XML", () => Buffer.from('<?xml version="1.0"?><note>svg</note>')],
  ];
  for (const [what, make] of rejected) {
    it(`rejects ${what}`, async () => {
      expect(await sniff(await make())).to.equal(undefined);
    });
  }

  it("judges by bytes, not by the name", async () => {
    expect((await sniff(await fixtures.photoJpeg(), "photo.gif"))?.contentType).to.equal(
      "image/jpeg",
    );
  });
});
