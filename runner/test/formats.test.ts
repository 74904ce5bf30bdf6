import { expect } from "chai";

import { sniffFormat } from "../src/formats.js";
import {
  avifImage,
  bmp,
  heicLike,
  pngHeaderWithGarbage,
  simpleSvg,
  stillGif,
  stillWebp,
  textFile,
} from "./fixtures.js";

describe("sniffFormat", function () {
  it("signatures of supported formats are recognised", async function () {
    expect(sniffFormat(pngHeaderWithGarbage())).to.equal("png");
    expect(sniffFormat(await stillGif())).to.equal("gif");
    expect(sniffFormat(await stillWebp())).to.equal("webp");
    expect(sniffFormat(await avifImage())).to.equal("avif");
    expect(sniffFormat(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).to.equal("jpeg");
    expect(sniffFormat(Buffer.from("II*\0"))).to.equal("tiff");
    expect(sniffFormat(simpleSvg())).to.equal("svg");
  });

  it("HEIC brands are told apart from AVIF", async function () {
    expect(sniffFormat(await heicLike())).to.equal("heic");
  });

  it("other known formats are named", function () {
    expect(sniffFormat(bmp())).to.equal("bmp");
    expect(sniffFormat(Buffer.from("%PDF-1.7\n"))).to.equal("pdf");
  });

  it("text and short inputs are unknown", function () {
    expect(sniffFormat(textFile())).to.equal(undefined);
    expect(sniffFormat(Buffer.alloc(0))).to.equal(undefined);
    expect(sniffFormat(Buffer.from([0xff]))).to.equal(undefined);
  });
});
