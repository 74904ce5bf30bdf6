import { writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

import { expect } from "chai";
import sharp from "sharp";

import { blue, makeTempDir, red, simpleSvg, writeSvgWithExternalReferences } from "./fixtures.js";
import {
  expectColour,
  expectRejected,
  expectSucceeded,
  expectTransparent,
  readPixels,
  requireBuiltRunner,
  runRunner,
  type Pixels,
} from "./helpers.js";

/** Counts the visibly red pixels that are not fully transparent. */
function countRedPixels(pixels: Pixels): number {
  let count = 0;
  for (let y = 0; y < pixels.height; y++) {
    for (let x = 0; x < pixels.width; x++) {
      const [r, g, b, alpha] = pixels.at(x, y);
      if (alpha > 0 && r > 150 && g < 100 && b < 100) count++;
    }
  }
  return count;
}

describe("runner bin on SVG", function () {
  before(requireBuiltRunner);

  it("SVG disc renders on a transparent background", async function () {
    const run = await runRunner(simpleSvg(), { inputName: "disc.svg" });

    expectSucceeded(run);
    const pixels = await readPixels(run.outputPath);
    expectColour(pixels.at(50, 50), blue, 2, "centre");
    expectTransparent(pixels.at(1, 1), "corner");
  });

  it("SVG external entity is rejected unread", async function () {
    const folder = await makeTempDir("thumbnailer-svg-entity-");
    const secretPath = path.join(folder, "secret.txt");
    await writeFile(secretPath, "ThumbnailerEntitySecret");
    const svg = `<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY secret SYSTEM "file://${secretPath}">]><svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><text x="1" y="20">&secret;</text></svg>`;

    const run = await runRunner(Buffer.from(svg), { inputName: "entity.svg" });

    expectRejected(run, "CorruptImage");
    expect(run.stdout).not.to.include("ThumbnailerEntitySecret");
    expect(run.termination?.message).not.to.include("ThumbnailerEntitySecret");
  });

  describe("external references", function () {
    let server: Server;
    let requests: string[];
    let baseUrl: string;

    before(async function () {
      requests = [];
      // The server returns red content like a real host, so a fetch would also show in the pixels.
      server = createServer((request, response) => {
        requests.push(request.url ?? "");
        response.setHeader("Content-Type", "image/svg+xml");
        response.end(
          `<svg xmlns="http://www.w3.org/2000/svg" width="60" height="60"><rect id="r" width="60" height="60" fill="red"/></svg>`,
        );
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    after(async function () {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it("SVG references load neither files nor URLs", async function () {
      const folder = await makeTempDir("thumbnailer-svg-");
      const { svgPath } = await writeSvgWithExternalReferences(folder, baseUrl);

      // The runner reads the SVG from its own path, beside the red files it references.
      const run = await runRunner(Buffer.alloc(0), { inputPath: svgPath });

      expectSucceeded(run);
      const pixels = await readPixels(run.outputPath);
      expect(countRedPixels(pixels), "red pixels from referenced content").to.equal(0);
      // The SVG's own blue 10x10 square at its top left still renders (60x60 scaled to 100x100).
      expectColour(pixels.at(8, 8), blue, 2, "own square");
      expect(requests, "requests to the local server").to.deep.equal([]);
    });

    it("same SVG loaded by path shows the referenced files", async function () {
      // Control: proves the fixture's file references resolve when a renderer is allowed to follow them,
      // so the previous test's missing red is the runner's doing.
      const folder = await makeTempDir("thumbnailer-svg-control-");
      const { svgPath } = await writeSvgWithExternalReferences(folder, baseUrl);
      sharp.cache(false);

      const pixels = await readPixels(await sharp(svgPath).png().toBuffer());

      expect(countRedPixels(pixels)).to.be.above(1000);
      expectColour(pixels.at(30, 30), red, 2, "centre of the referenced image");
      expect(path.dirname(svgPath)).to.equal(folder);
    });
  });
});
