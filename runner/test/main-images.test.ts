import { readFile, stat } from "node:fs/promises";

import { expect } from "chai";
import sharp from "sharp";

import {
  acceptedInputs,
  animatedGif,
  animatedWebp,
  animationFrameColours,
  blue,
  cmykJpeg,
  defaultAnimation,
  exifOrientations,
  green,
  greyAlphaPng,
  greyLevel,
  iccTaggedPng,
  iccTaggedSrgb,
  multiPageTiff,
  onePixelPng,
  orientedJpeg,
  palettePngWithTransparency,
  photoJpeg,
  photoMetadataMarker,
  png16,
  png16Colour,
  processCyanSrgb,
  red,
  stripesPng,
  transparentPng,
  uprightQuadrants,
  uprightSize,
  widePng,
} from "./fixtures.js";
import {
  contentTypeOf,
  expectColour,
  expectSucceeded,
  expectTransparent,
  pngChunkTypes,
  readPixels,
  requireBuiltRunner,
  runRunner,
} from "./helpers.js";

describe("runner bin on accepted images", function () {
  before(requireBuiltRunner);

  describe("every accepted format", function () {
    for (const fixture of acceptedInputs) {
      it(`${fixture.name} becomes a 100x100 ${fixture.contentType}`, async function () {
        const run = await runRunner(await fixture.make());

        expectSucceeded(run);
        const thumbnail = await readFile(run.outputPath);
        const result = JSON.parse(await readFile(run.resultPath, "utf8")) as Record<
          string,
          unknown
        >;
        expect(contentTypeOf(thumbnail)).to.equal(fixture.contentType);
        expect(result).to.include({
          contentType: fixture.contentType,
          width: 100,
          height: 100,
          bytes: thumbnail.length,
          frames: fixture.frames,
        });
        expect((result.input as Record<string, unknown>).format).to.equal(fixture.format);
      });
    }
  });

  describe("result.json", function () {
    it("photo JPEG result lists exactly the documented fields", async function () {
      const run = await runRunner(await photoJpeg());

      expectSucceeded(run);
      const result = JSON.parse(await readFile(run.resultPath, "utf8")) as Record<string, unknown>;
      expect(Object.keys(result).sort()).to.deep.equal(
        ["bytes", "contentType", "durationMs", "frames", "height", "input", "width"].sort(),
      );
      expect(result.input).to.deep.equal({ format: "jpeg", width: 64, height: 48 });
      expect(result.bytes).to.equal((await stat(run.outputPath)).size);
      expect(result.durationMs).to.be.a("number").and.at.least(0);
    });

    it("oriented JPEG input size is the displayed size", async function () {
      const run = await runRunner(await orientedJpeg(6));

      expectSucceeded(run);
      const result = JSON.parse(await readFile(run.resultPath, "utf8")) as { input: object };
      expect(result.input).to.deep.equal({ format: "jpeg", width: 48, height: 32 });
    });
  });

  describe("log line", function () {
    it("success writes one info line without the file name", async function () {
      const run = await runRunner(await photoJpeg(), { inputName: "my-secret-holiday.jpg" });

      expectSucceeded(run);
      expect(run.logLines).to.have.length(1);
      const line = run.logLines[0] ?? {};
      expect(line).to.include({ level: "info", msg: "thumbnail written", service: "runner" });
      expect(line.time).to.be.a("string");
      expect(line.durationMs).to.be.a("number");
      expect(line.input).to.deep.equal({
        format: "jpeg",
        width: 64,
        height: 48,
        frames: 1,
        bytes: (await photoJpeg()).length,
      });
      expect((line.output as { bytes: number }).bytes).to.equal((await stat(run.outputPath)).size);
      expect(run.stdout).not.to.include("secret-holiday");
      expect(run.stdout).not.to.include(run.folder);
    });
  });

  describe("EXIF orientation", function () {
    // The upright picture is 48x32, so contain gives a 100x67 band with transparent rows above and below.
    const quadrantCentres = [
      { name: "top left", x: 25, y: 33, colour: uprightQuadrants.topLeft },
      { name: "top right", x: 75, y: 33, colour: uprightQuadrants.topRight },
      { name: "bottom left", x: 25, y: 66, colour: uprightQuadrants.bottomLeft },
      { name: "bottom right", x: 75, y: 66, colour: uprightQuadrants.bottomRight },
    ];

    for (const orientation of exifOrientations) {
      it(`orientation ${orientation} comes out upright`, async function () {
        expect(uprightSize).to.deep.equal({ width: 48, height: 32 });
        const run = await runRunner(await orientedJpeg(orientation));

        expectSucceeded(run);
        const pixels = await readPixels(run.outputPath);
        expectTransparent(pixels.at(50, 5), "top band");
        expectTransparent(pixels.at(50, 95), "bottom band");
        expectColour(pixels.at(2, 50), uprightQuadrants.bottomLeft, 40, "left edge");
        for (const centre of quadrantCentres) {
          expectColour(pixels.at(centre.x, centre.y), centre.colour, 40, centre.name);
        }
      });
    }
  });

  describe("colour", function () {
    it("CMYK JPEG comes out as process cyan in sRGB", async function () {
      const input = await cmykJpeg();
      expect((await sharp(input).metadata()).space).to.equal("cmyk");

      const run = await runRunner(input);

      expectSucceeded(run);
      const pixels = await readPixels(run.outputPath);
      expectColour(pixels.at(50, 50), processCyanSrgb, 30, "centre");
      expect((await sharp(run.outputPath).metadata()).space).to.equal("srgb");
    });

    it("ICC-tagged PNG is converted to sRGB through its profile", async function () {
      const input = await iccTaggedPng();
      const stored = await readPixels(await sharp(input, { ignoreIcc: true }).png().toBuffer());
      const storedDistance = Math.max(
        ...iccTaggedSrgb.map((value, channel) => Math.abs(value - (stored.at(8, 8)[channel] ?? 0))),
      );
      expect(
        storedDistance,
        "the fixture's stored values must differ from its sRGB colour",
      ).to.be.above(20);

      const run = await runRunner(input);

      expectSucceeded(run);
      expectColour((await readPixels(run.outputPath)).at(50, 50), iccTaggedSrgb, 6, "centre");
    });

    it("16-bit PNG becomes 8 bits per channel", async function () {
      const input = await png16();
      expect((await sharp(input).metadata()).depth).to.equal("ushort");

      const run = await runRunner(input);

      expectSucceeded(run);
      const metadata = await sharp(run.outputPath).metadata();
      expect(metadata.depth).to.equal("uchar");
      expect(metadata.bitsPerSample).to.equal(8);
      expectColour((await readPixels(run.outputPath)).at(50, 50), png16Colour, 2, "centre");
    });

    it("grey-with-alpha PNG becomes sRGB with alpha", async function () {
      const run = await runRunner(await greyAlphaPng());

      expectSucceeded(run);
      const metadata = await sharp(run.outputPath).metadata();
      expect(metadata.space).to.equal("srgb");
      expect(metadata.channels).to.equal(4);
      const pixels = await readPixels(run.outputPath);
      expectColour(pixels.at(20, 50), [greyLevel, greyLevel, greyLevel], 2, "opaque half");
      expectTransparent(pixels.at(80, 50), "transparent half");
    });
  });

  describe("alpha", function () {
    it("transparent PNG keeps transparent corners", async function () {
      const run = await runRunner(await transparentPng());

      expectSucceeded(run);
      const pixels = await readPixels(run.outputPath);
      expectTransparent(pixels.at(0, 0), "top-left corner");
      expectTransparent(pixels.at(99, 99), "bottom-right corner");
      expectColour(pixels.at(50, 50), red, 2, "centre");
    });

    it("palette PNG keeps its tRNS transparency", async function () {
      const input = await palettePngWithTransparency();
      expect((await sharp(input).metadata()).isPalette).to.equal(true);

      const run = await runRunner(input);

      expectSucceeded(run);
      const pixels = await readPixels(run.outputPath);
      expectTransparent(pixels.at(3, 3), "corner");
      expectColour(pixels.at(50, 50), red, 20, "centre");
    });
  });

  describe("fit", function () {
    // Stripes are 96x32: red, green, blue thirds.
    it("contain fits the whole image with transparent bands", async function () {
      const run = await runRunner(await stripesPng());

      expectSucceeded(run);
      const pixels = await readPixels(run.outputPath);
      expectTransparent(pixels.at(50, 10), "band above");
      expectTransparent(pixels.at(50, 90), "band below");
      expectColour(pixels.at(10, 50), red, 2, "left");
      expectColour(pixels.at(50, 50), green, 2, "middle");
      expectColour(pixels.at(90, 50), blue, 2, "right");
    });

    it("cover crops to the centre", async function () {
      const run = await runRunner(await stripesPng(), { args: ["--fit", "cover"] });

      expectSucceeded(run);
      const pixels = await readPixels(run.outputPath);
      // Away from the left and right edges, where the resampling kernel reaches into the cropped stripes.
      for (const [x, y] of [
        [15, 15],
        [50, 50],
        [85, 85],
      ] as const) {
        expectColour(pixels.at(x, y), green, 2, `(${x}, ${y})`);
      }
    });

    it("fill stretches the whole image", async function () {
      const run = await runRunner(await stripesPng(), { args: ["--fit=fill"] });

      expectSucceeded(run);
      const pixels = await readPixels(run.outputPath);
      expectColour(pixels.at(10, 2), red, 2, "top left");
      expectColour(pixels.at(50, 50), green, 2, "middle");
      expectColour(pixels.at(90, 97), blue, 2, "bottom right");
    });

    it("--size=64 writes a 64x64 thumbnail", async function () {
      const run = await runRunner(await stripesPng(), { args: ["--size=64", "--fit=cover"] });

      expectSucceeded(run);
      const metadata = await sharp(run.outputPath).metadata();
      expect([metadata.width, metadata.height]).to.deep.equal([64, 64]);
    });
  });

  describe("extreme sizes", function () {
    for (const fit of ["contain", "cover", "fill"]) {
      it(`20000x1 PNG with ${fit} is exactly 100x100`, async function () {
        const run = await runRunner(await widePng(), { args: ["--fit", fit] });

        expectSucceeded(run);
        const metadata = await sharp(run.outputPath).metadata();
        expect([metadata.width, metadata.height]).to.deep.equal([100, 100]);
        // With contain the image becomes a one-pixel line across the middle (row 49).
        expectColour((await readPixels(run.outputPath)).at(50, 49), blue, 2, "middle row");
      });
    }

    it("1x1 PNG is enlarged to 100x100", async function () {
      const run = await runRunner(await onePixelPng());

      expectSucceeded(run);
      const pixels = await readPixels(run.outputPath);
      expect([pixels.width, pixels.height]).to.deep.equal([100, 100]);
      expectColour(pixels.at(0, 0), green, 2, "corner");
      expectColour(pixels.at(99, 99), green, 2, "opposite corner");
    });

    it("two-page TIFF uses the first page only", async function () {
      const run = await runRunner(await multiPageTiff());

      expectSucceeded(run);
      expectColour((await readPixels(run.outputPath)).at(50, 50), green, 2, "centre");
    });
  });

  describe("metadata", function () {
    it("photo JPEG loses EXIF, GPS, XMP and ICC", async function () {
      const input = await photoJpeg();
      const inputMetadata = await sharp(input).metadata();
      expect([
        Boolean(inputMetadata.exif),
        Boolean(inputMetadata.xmp),
        inputMetadata.hasProfile,
      ]).to.deep.equal([true, true, true]);

      const run = await runRunner(input);

      expectSucceeded(run);
      const thumbnail = await readFile(run.outputPath);
      const metadata = await sharp(thumbnail).metadata();
      expect(metadata.exif).to.equal(undefined);
      expect(metadata.xmp).to.equal(undefined);
      expect(metadata.icc).to.equal(undefined);
      expect(metadata.hasProfile).to.equal(false);
      expect(thumbnail.includes(photoMetadataMarker)).to.equal(false);
      const chunks = pngChunkTypes(thumbnail);
      for (const metadataChunk of ["eXIf", "iCCP", "tEXt", "zTXt", "iTXt", "tIME"]) {
        expect(chunks).not.to.include(metadataChunk);
      }
    });
  });

  describe("animation", function () {
    const expectedDelays = defaultAnimation.delaysMs;

    async function expectFramesKept(outputPath: string, format: "gif" | "webp", tolerance: number) {
      const metadata = await sharp(outputPath).metadata();
      expect(metadata.format).to.equal(format);
      expect(metadata.pages).to.equal(defaultAnimation.frames);
      expect(metadata.delay).to.deep.equal([...expectedDelays]);
      expect(metadata.loop).to.equal(defaultAnimation.loop);
      expect([metadata.width, metadata.height]).to.deep.equal([100, 100]);

      const frames = await readPixels(outputPath, { animated: true });
      expect(frames.height).to.equal(100 * defaultAnimation.frames);
      for (let frame = 0; frame < defaultAnimation.frames; frame++) {
        const colour = animationFrameColours[frame % animationFrameColours.length] ?? red;
        expectColour(frames.at(50, frame * 100 + 50), colour, tolerance, `frame ${frame} centre`);
        // 24x16 frames leave transparent bands above and below each resized frame.
        expectTransparent(frames.at(50, frame * 100 + 3), `frame ${frame} top band`);
      }
    }

    it("animated GIF keeps frames, delays and loop count", async function () {
      const run = await runRunner(await animatedGif());

      expectSucceeded(run);
      await expectFramesKept(run.outputPath, "gif", 30);
      const result = JSON.parse(await readFile(run.resultPath, "utf8")) as Record<string, unknown>;
      expect(result).to.include({ contentType: "image/gif", frames: 5, width: 100, height: 100 });
    });

    it("animated WebP keeps frames, delays and loop count", async function () {
      const run = await runRunner(await animatedWebp());

      expectSucceeded(run);
      await expectFramesKept(run.outputPath, "webp", 30);
      const result = JSON.parse(await readFile(run.resultPath, "utf8")) as Record<string, unknown>;
      expect(result).to.include({ contentType: "image/webp", frames: 5 });
    });

    it("animated GIF with equal frames keeps every frame", async function () {
      // Four frames in a row share a colour; the GIF encoder merges such frames unless keepDuplicateFrames is set.
      const input = await animatedGif({ frames: 8, delaysMs: [100], repeatEach: 4 });
      expect((await sharp(input).metadata()).pages).to.equal(8);
      const run = await runRunner(input, { args: ["--fit", "cover"] });

      expectSucceeded(run);
      const metadata = await sharp(run.outputPath).metadata();
      expect(metadata.pages).to.equal(8);
      expect(metadata.delay).to.deep.equal(Array(8).fill(100));
    });
  });
});
