/**
 * Test images generated with sharp (or built byte by byte where sharp cannot
 * write the format), so no binary fixture is committed. Every function returns
 * the file's bytes; `writeFixture` puts them in a folder. The API tests import
 * this module too, so names and expected values are part of its interface.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { crc32, deflateSync } from "node:zlib";

import sharp from "sharp";

import type { RejectionReason } from "../src/reasons.js";

export type Rgb = readonly [red: number, green: number, blue: number];
export type Rgba = readonly [red: number, green: number, blue: number, alpha: number];

export const red: Rgb = [230, 30, 30];
export const green: Rgb = [30, 200, 60];
export const blue: Rgb = [30, 60, 220];
export const yellow: Rgb = [240, 220, 20];

// ---------------------------------------------------------------------------
// Helpers

/** Creates a fresh temporary folder whose name starts with `prefix`. */
export async function makeTempDir(prefix = "thumbnailer-fixtures-"): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Writes fixture bytes to `folder/fileName` and returns the path. */
export async function writeFixture(
  folder: string,
  fileName: string,
  data: Buffer | string,
): Promise<string> {
  const filePath = path.join(folder, fileName);
  await writeFile(filePath, data);
  return filePath;
}

/** Builds raw RGB pixels (3 bytes each) from a colour function of x and y. */
function rgbPixels(width: number, height: number, colourAt: (x: number, y: number) => Rgb): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      pixels.set(colourAt(x, y), (y * width + x) * 3);
    }
  }
  return pixels;
}

/** Builds raw RGBA pixels (4 bytes each) from a colour function of x and y. */
function rgbaPixels(
  width: number,
  height: number,
  colourAt: (x: number, y: number) => Rgba,
): Buffer {
  const pixels = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      pixels.set(colourAt(x, y), (y * width + x) * 4);
    }
  }
  return pixels;
}

/** Returns a deterministic byte sequence that compresses badly, like camera noise. */
function noiseBytes(length: number, seed = 12345): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    // Numerical Recipes' linear congruential generator; good enough for noise.
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

// ---------------------------------------------------------------------------
// Still images the runner accepts

/** Text that `photoJpeg` puts in its EXIF copyright and XMP creator. */
export const photoMetadataMarker = "ThumbnailerSecretOwner";

/**
 * Returns a 64x48 photo-like JPEG (gradient plus noise) carrying EXIF with a camera
 * make, a copyright, GPS coordinates, XMP and an ICC profile: everything the
 * thumbnail must not keep.
 */
export async function photoJpeg(): Promise<Buffer> {
  const width = 64;
  const height = 48;
  const noise = noiseBytes(width * height);
  const pixels = rgbPixels(width, height, (x, y) => {
    const grain = (noise[y * width + x] ?? 0) % 24;
    return [60 + x * 2 + grain, 90 + y * 2 + grain, 160 - x + grain];
  });
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .withExif({
      IFD0: { Make: "Thumbnailer Test Camera", Model: "TC-1", Copyright: photoMetadataMarker },
      IFD3: {
        GPSLatitudeRef: "N",
        GPSLatitude: "35/1 40/1 30/1",
        GPSLongitudeRef: "E",
        GPSLongitude: "139/1 45/1 10/1",
      },
    })
    .withXmp(
      `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>${photoMetadataMarker}</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>`,
    )
    .withIccProfile("srgb")
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** Returns a 32x32 RGBA PNG: transparent, with an opaque red 16x16 square in the middle. */
export async function transparentPng(): Promise<Buffer> {
  const pixels = rgbaPixels(32, 32, (x, y) =>
    x >= 8 && x < 24 && y >= 8 && y < 24 ? [...red, 255] : [0, 0, 0, 0],
  );
  return sharp(pixels, { raw: { width: 32, height: 32, channels: 4 } })
    .png()
    .toBuffer();
}

/** Size of the upright picture behind `orientedJpeg`, before its EXIF orientation is undone. */
export const uprightSize = { width: 48, height: 32 } as const;

/** Colours of the upright picture's quadrants, so a test can tell up from down and left from right. */
export const uprightQuadrants = {
  topLeft: red,
  topRight: green,
  bottomLeft: blue,
  bottomRight: yellow,
} as const;

export type ExifOrientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;
export const exifOrientations: readonly ExifOrientation[] = [1, 2, 3, 4, 5, 6, 7, 8];

/**
 * Returns a JPEG whose stored pixels, shown with the given EXIF orientation, give the
 * upright 48x32 picture of `uprightQuadrants`. Orientations 5 to 8 store a
 * 32x48 image. The mapping is computed pixel by pixel from the EXIF Orientation
 * tag's definition (where row 0 and column 0 of the stored image are displayed),
 * independently of any library's rotate.
 */
export async function orientedJpeg(orientation: ExifOrientation): Promise<Buffer> {
  const { width, height } = uprightSize;
  const swapsSides = orientation >= 5;
  const storedWidth = swapsSides ? height : width;
  const storedHeight = swapsSides ? width : height;

  const pixels = rgbPixels(storedWidth, storedHeight, (storedX, storedY) => {
    const [x, y] = displayedPosition(orientation, storedX, storedY, width, height);
    return uprightColourAt(x, y);
  });
  return sharp(pixels, { raw: { width: storedWidth, height: storedHeight, channels: 3 } })
    .withMetadata({ orientation })
    .jpeg({ quality: 95, chromaSubsampling: "4:4:4" })
    .toBuffer();
}

function uprightColourAt(x: number, y: number): Rgb {
  const left = x < uprightSize.width / 2;
  const top = y < uprightSize.height / 2;
  if (top) return left ? uprightQuadrants.topLeft : uprightQuadrants.topRight;
  return left ? uprightQuadrants.bottomLeft : uprightQuadrants.bottomRight;
}

/** Maps a stored pixel to where a viewer displays it, for a displayed width x height. */
function displayedPosition(
  orientation: ExifOrientation,
  storedX: number,
  storedY: number,
  width: number,
  height: number,
): [number, number] {
  switch (orientation) {
    case 1:
      return [storedX, storedY];
    case 2:
      return [width - 1 - storedX, storedY];
    case 3:
      return [width - 1 - storedX, height - 1 - storedY];
    case 4:
      return [storedX, height - 1 - storedY];
    case 5: // row 0 is the left side, column 0 the top
      return [storedY, storedX];
    case 6: // row 0 is the right side, column 0 the top
      return [width - 1 - storedY, storedX];
    case 7: // row 0 is the right side, column 0 the bottom
      return [width - 1 - storedY, height - 1 - storedX];
    case 8: // row 0 is the left side, column 0 the bottom
      return [storedY, height - 1 - storedX];
  }
}

/**
 * Approximate sRGB of process cyan (C=100% M=0 Y=0 K=0) on coated paper. This
 * is an estimate because press profiles differ by up to about 25 per channel
 * (libvips 8.18's built-in CMYK profile gives 0, 153, 228), so compare with a
 * tolerance. Treating the CMYK values as inverted RGB would give 0, 255, 255.
 */
export const processCyanSrgb: Rgb = [0, 174, 239];

/**
 * Returns a 32x32 CMYK JPEG of process cyan without an embedded profile. sharp cannot
 * write chosen CMYK values from RGB, so a hand-built CMYK TIFF is re-encoded
 * as a CMYK JPEG.
 */
export async function cmykJpeg(): Promise<Buffer> {
  const tiff = cmykTiff(32, 32, [255, 0, 0, 0]);
  return sharp(tiff).toColourspace("cmyk").jpeg({ quality: 95 }).toBuffer();
}

/** Returns an uncompressed little-endian TIFF, PhotometricInterpretation 5 (separated, CMYK), one colour. */
export function cmykTiff(
  width: number,
  height: number,
  cmyk: readonly [number, number, number, number],
): Buffer {
  const pixelBytes = Buffer.alloc(width * height * 4);
  for (let offset = 0; offset < pixelBytes.length; offset += 4) {
    pixelBytes.set(cmyk, offset);
  }

  const shortType = 3;
  const longType = 4;
  // tag, type, count, value (or a placeholder for offsets filled in below)
  const entries: [number, number, number, number][] = [
    [256, shortType, 1, width], // ImageWidth
    [257, shortType, 1, height], // ImageLength
    [258, shortType, 4, 0], // BitsPerSample, 8 x 4, stored at bitsOffset
    [259, shortType, 1, 1], // Compression: none
    [262, shortType, 1, 5], // PhotometricInterpretation: separated
    [273, longType, 1, 0], // StripOffsets, set to pixelsOffset
    [277, shortType, 1, 4], // SamplesPerPixel
    [278, shortType, 1, height], // RowsPerStrip
    [279, longType, 1, pixelBytes.length], // StripByteCounts
    [284, shortType, 1, 1], // PlanarConfiguration: chunky
  ];
  const ifdOffset = 8;
  const bitsOffset = ifdOffset + 2 + entries.length * 12 + 4;
  const pixelsOffset = bitsOffset + 8;

  const file = Buffer.alloc(pixelsOffset + pixelBytes.length);
  file.write("II", 0, "latin1");
  file.writeUInt16LE(42, 2);
  file.writeUInt32LE(ifdOffset, 4);
  file.writeUInt16LE(entries.length, ifdOffset);
  entries.forEach(([tag, type, count, value], index) => {
    const at = ifdOffset + 2 + index * 12;
    file.writeUInt16LE(tag, at);
    file.writeUInt16LE(type, at + 2);
    file.writeUInt32LE(count, at + 4);
    if (tag === 258) file.writeUInt32LE(bitsOffset, at + 8);
    else if (tag === 273) file.writeUInt32LE(pixelsOffset, at + 8);
    else if (type === shortType) file.writeUInt16LE(value, at + 8);
    else file.writeUInt32LE(value, at + 8);
  });
  for (let sample = 0; sample < 4; sample++) {
    file.writeUInt16LE(8, bitsOffset + sample * 2);
  }
  pixelBytes.copy(file, pixelsOffset);
  return file;
}

/** Colour of `png16`, in 8-bit sRGB. */
export const png16Colour: Rgb = [200, 100, 50];

/** Returns a 16x16 PNG with 16 bits per channel. */
export async function png16(): Promise<Buffer> {
  return sharp({
    create: { width: 16, height: 16, channels: 3, background: { r: 200, g: 100, b: 50 } },
  })
    .toColourspace("rgb16")
    .png()
    .toBuffer();
}

/** Returns a 32x32 palette PNG (tRNS transparency): transparent, with an opaque red 16x16 square in the middle. */
export async function palettePngWithTransparency(): Promise<Buffer> {
  const pixels = rgbaPixels(32, 32, (x, y) =>
    x >= 8 && x < 24 && y >= 8 && y < 24 ? [...red, 255] : [0, 0, 0, 0],
  );
  return sharp(pixels, { raw: { width: 32, height: 32, channels: 4 } })
    .png({ palette: true })
    .toBuffer();
}

/** Grey level of the opaque half of `greyAlphaPng`. */
export const greyLevel = 128;

/** Returns a 32x32 grey-with-alpha PNG (two channels): the left half grey and opaque, the right half transparent. */
export async function greyAlphaPng(): Promise<Buffer> {
  const pixels = Buffer.alloc(32 * 32 * 2);
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      const offset = (y * 32 + x) * 2;
      pixels[offset] = greyLevel;
      pixels[offset + 1] = x < 16 ? 255 : 0;
    }
  }
  return sharp(pixels, { raw: { width: 32, height: 32, channels: 2 } })
    .toColourspace("b-w")
    .png()
    .toBuffer();
}

/** The sRGB colour that `iccTaggedPng` shows once its Display P3 profile is applied. */
export const iccTaggedSrgb: Rgb = [40, 180, 60];

/**
 * Returns a 16x16 PNG with an embedded Display P3 profile. Its stored values differ
 * from `iccTaggedSrgb` by tens per channel, so ignoring the profile shows.
 */
export async function iccTaggedPng(): Promise<Buffer> {
  const [r, g, b] = iccTaggedSrgb;
  return sharp({ create: { width: 16, height: 16, channels: 3, background: { r, g, b } } })
    .withIccProfile("p3")
    .png()
    .toBuffer();
}

/** Returns a 96x32 PNG in three vertical stripes, red, green and blue, to tell contain, cover and fill apart. */
export async function stripesPng(): Promise<Buffer> {
  const stripes = [red, green, blue] as const;
  const pixels = rgbPixels(96, 32, (x) => stripes[Math.floor(x / 32)] ?? blue);
  return sharp(pixels, { raw: { width: 96, height: 32, channels: 3 } })
    .png()
    .toBuffer();
}

/** Returns a 20000x1 PNG, opaque blue. */
export async function widePng(): Promise<Buffer> {
  const pixels = rgbPixels(20000, 1, () => blue);
  return sharp(pixels, { raw: { width: 20000, height: 1, channels: 3 } })
    .png()
    .toBuffer();
}

/** Returns a 1x1 PNG, opaque green. */
export async function onePixelPng(): Promise<Buffer> {
  return sharp(Buffer.from(green), { raw: { width: 1, height: 1, channels: 3 } })
    .png()
    .toBuffer();
}

/** Returns a 24x24 lossy WebP, one frame, opaque green. */
export async function stillWebp(): Promise<Buffer> {
  return sharp(
    rgbPixels(24, 24, () => green),
    { raw: { width: 24, height: 24, channels: 3 } },
  )
    .webp({ quality: 95 })
    .toBuffer();
}

/** Returns a 24x24 GIF with one frame, opaque red. */
export async function stillGif(): Promise<Buffer> {
  return sharp(
    rgbPixels(24, 24, () => red),
    { raw: { width: 24, height: 24, channels: 3 } },
  )
    .gif()
    .toBuffer();
}

/** Returns a 24x24 AVIF (HEIF container, AV1 compression), opaque blue. */
export async function avifImage(): Promise<Buffer> {
  return sharp(
    rgbPixels(24, 24, () => blue),
    { raw: { width: 24, height: 24, channels: 3 } },
  )
    .avif({ quality: 90 })
    .toBuffer();
}

/** Returns a TIFF with two 24x24 pages: green, then red. Only the first page counts. */
export async function multiPageTiff(): Promise<Buffer> {
  const pages = Buffer.concat([rgbPixels(24, 24, () => green), rgbPixels(24, 24, () => red)]);
  return sharp(pages, { raw: { width: 24, height: 48, channels: 3, pageHeight: 24 } })
    .tiff()
    .toBuffer();
}

/** Returns a 40x40 SVG: a blue disc on a transparent canvas. */
export function simpleSvg(): Buffer {
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><circle cx="20" cy="20" r="16" fill="rgb(${blue.join(",")})"/></svg>`,
  );
}

// ---------------------------------------------------------------------------
// Animations

export interface AnimationOptions {
  frames?: number;
  /** Delay after each frame in milliseconds; GIF stores hundredths of a second, so use multiples of 10. */
  delaysMs?: readonly number[];
  /** Loop count, 0 for forever. */
  loop?: number;
  width?: number;
  height?: number;
  /** Frames in a row that share a colour (default 1), to make equal consecutive frames. */
  repeatEach?: number;
}

/** Colours of the animation frames, in order, repeating after the last. */
export const animationFrameColours: readonly Rgb[] = [red, green, blue, yellow];

export const defaultAnimation = {
  frames: 5,
  delaysMs: [100, 200, 300, 400, 50],
  loop: 3,
  width: 24,
  height: 16,
} as const;

/** Raw RGBA frames stacked top to bottom; frame f has colour floor(f / repeatEach) of animationFrameColours, cycling. */
function animationPixels(
  frames: number,
  width: number,
  height: number,
  repeatEach: number,
): Buffer {
  return Buffer.concat(
    Array.from({ length: frames }, (_, frame) => {
      const index = Math.floor(frame / repeatEach) % animationFrameColours.length;
      const colour = animationFrameColours[index] ?? red;
      return rgbaPixels(width, height, () => [...colour, 255]);
    }),
  );
}

function animationSettings(options: AnimationOptions) {
  const frames = options.frames ?? defaultAnimation.frames;
  const delaysMs = options.delaysMs ?? defaultAnimation.delaysMs;
  return {
    frames,
    width: options.width ?? defaultAnimation.width,
    height: options.height ?? defaultAnimation.height,
    loop: options.loop ?? defaultAnimation.loop,
    repeatEach: options.repeatEach ?? 1,
    delay: Array.from({ length: frames }, (_, frame) => delaysMs[frame % delaysMs.length] ?? 100),
  };
}

/** Returns an animated GIF: 5 frames of 24x16 by default, with per-frame delays and a loop count. */
export async function animatedGif(options: AnimationOptions = {}): Promise<Buffer> {
  const { frames, width, height, loop, delay, repeatEach } = animationSettings(options);
  return sharp(animationPixels(frames, width, height, repeatEach), {
    raw: { width, height: height * frames, channels: 4, pageHeight: height },
  })
    .gif({ loop, delay, keepDuplicateFrames: true })
    .toBuffer();
}

/** Returns an animated WebP: 5 frames of 24x16 by default, with per-frame delays and a loop count. */
export async function animatedWebp(options: AnimationOptions = {}): Promise<Buffer> {
  const { frames, width, height, loop, delay, repeatEach } = animationSettings(options);
  return sharp(animationPixels(frames, width, height, repeatEach), {
    raw: { width, height: height * frames, channels: 4, pageHeight: height },
  })
    .webp({ loop, delay, quality: 95 })
    .toBuffer();
}

/** Returns a 4x4 GIF with 3000 frames, over the default limit of 500. */
export async function gifWithManyFrames(frames = 3000): Promise<Buffer> {
  return animatedGif({ frames, width: 4, height: 4, delaysMs: [20] });
}

// ---------------------------------------------------------------------------
// Inputs the runner rejects

export function emptyFile(): Buffer {
  return Buffer.alloc(0);
}

/** Returns plain text; write it as `text.png` to check that the name does not matter. */
export function textFile(): Buffer {
  return Buffer.from("This is a text file, not an image.\nIt only has a .png name.\n");
}

/** Returns the 8-byte PNG signature followed by bytes that are no PNG chunk. */
export function pngHeaderWithGarbage(): Buffer {
  return Buffer.concat([pngSignature, noiseBytes(256, 777)]);
}

/** Returns a 128x96 noisy JPEG cut to 60% of its bytes: the header is intact, the scan data ends early. */
export async function truncatedJpeg(): Promise<Buffer> {
  const whole = await sharp(noiseBytes(128 * 96 * 3), {
    raw: { width: 128, height: 96, channels: 3 },
  })
    .jpeg()
    .toBuffer();
  return whole.subarray(0, Math.floor(whole.length * 0.6));
}

/** Returns a 128x96 noisy PNG cut to 60% of its bytes: IHDR intact, IDAT ends early. */
export async function truncatedPng(): Promise<Buffer> {
  const whole = await sharp(noiseBytes(128 * 96 * 3), {
    raw: { width: 128, height: 96, channels: 3 },
  })
    .png()
    .toBuffer();
  return whole.subarray(0, Math.floor(whole.length * 0.6));
}

const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, checksum]);
}

/**
 * Returns a PNG of a few hundred bytes whose valid IHDR declares width x height
 * 8-bit grey pixels (default 100000 x 100000, 10 gigapixels). Its IDAT contains
 * only the first few rows, so the runner must reject it from the header alone.
 */
export function decompressionBombPng(width = 100_000, height = 100_000): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // colour type: greyscale
  // Compression, filter and interlace methods stay 0.
  const rows = deflateSync(Buffer.alloc((width + 1) * 4));
  return Buffer.concat([
    pngSignature,
    pngChunk("IHDR", header),
    pngChunk("IDAT", rows),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

/**
 * Returns a real HEIF file labelled as HEIC: an AVIF from sharp whose ftyp brands are
 * rewritten to `heic`, so libheif reads it and reports HEVC compression,
 * as it does for a phone's HEIC. sharp cannot write HEVC itself.
 */
export async function heicLike(): Promise<Buffer> {
  const file = Buffer.from(await avifImage());
  const ftypSize = file.readUInt32BE(0);
  for (let offset = 8; offset + 4 <= ftypSize; offset += 4) {
    const brand = file.toString("latin1", offset, offset + 4);
    if (brand === "avif" || brand === "avis") {
      file.write("heic", offset, "latin1");
    }
  }
  return file;
}

/** Returns a 2x2 24-bit BMP, built by hand because sharp cannot write BMP. */
export function bmp(): Buffer {
  const width = 2;
  const height = 2;
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const pixelsOffset = 14 + 40;
  const file = Buffer.alloc(pixelsOffset + rowBytes * height);
  file.write("BM", 0, "latin1");
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(pixelsOffset, 10);
  file.writeUInt32LE(40, 14); // BITMAPINFOHEADER size
  file.writeInt32LE(width, 18);
  file.writeInt32LE(height, 22);
  file.writeUInt16LE(1, 26); // planes
  file.writeUInt16LE(24, 28); // bits per pixel
  file.writeUInt32LE(rowBytes * height, 34);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      file.set([255, 0, 0], pixelsOffset + y * rowBytes + x * 3); // blue, in BGR order
    }
  }
  return file;
}

/** Returns an SVG that declares a 100000 x 100000 canvas (10 gigapixels) around a tiny drawing. */
export function svgWithHugeCanvas(): Buffer {
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000" viewBox="0 0 10 10"><rect width="10" height="10" fill="red"/></svg>`,
  );
}

// ---------------------------------------------------------------------------
// SVG with external references

export interface ExternalReferenceTargets {
  /** Absolute path of a red PNG. */
  pngPath: string;
  /** Absolute path of an SVG drawing a red rectangle with id "r". */
  svgPath: string;
  /** Absolute path of a stylesheet that paints every rect red. */
  cssPath: string;
  /** Base URL of a server, such as http://127.0.0.1:PORT; requests go to paths below it. */
  baseUrl: string;
}

/**
 * Returns a 60x60 SVG that references red content in many ways SVG allows: <image> by
 * relative name, absolute path and file: URL, <use>, XInclude, feImage, a
 * CSS @import and a web font, both on disk and at `baseUrl`. It draws only a
 * blue 10x10 square itself, at the top left, and a blue rectangle that the
 * stylesheet would turn red. Rendered without any fetch, it has no red pixel.
 */
export function svgWithExternalReferences(targets: ExternalReferenceTargets): Buffer {
  const fileUrl = (filePath: string) => new URL(`file://${filePath}`).href;
  const url = (name: string) => `${targets.baseUrl}/${name}`;
  const pngName = path.basename(targets.pngPath);
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     xmlns:xi="http://www.w3.org/2001/XInclude" width="60" height="60">
  <style>
    @import url("${fileUrl(targets.cssPath)}");
    @import url("${url("style.css")}");
    @font-face { font-family: Remote; src: url("${url("font.woff2")}"); }
  </style>
  <filter id="fileImage"><feImage href="${fileUrl(targets.pngPath)}"/></filter>
  <filter id="remoteImage"><feImage href="${url("filter.png")}"/></filter>
  <image href="${pngName}" x="0" y="0" width="60" height="60"/>
  <image href="${targets.pngPath}" x="0" y="0" width="60" height="60"/>
  <image xlink:href="${fileUrl(targets.pngPath)}" x="0" y="0" width="60" height="60"/>
  <image href="${url("image.png")}" x="0" y="0" width="60" height="60"/>
  <use href="${fileUrl(targets.svgPath)}#r"/>
  <use href="${url("shapes.svg")}#r"/>
  <xi:include href="${fileUrl(targets.svgPath)}" parse="xml"/>
  <xi:include href="${url("include.svg")}" parse="xml"/>
  <rect x="0" y="0" width="60" height="60" filter="url(#fileImage)"/>
  <rect x="0" y="0" width="60" height="60" filter="url(#remoteImage)"/>
  <text x="5" y="50" font-family="Remote" font-size="8" fill="blue">a</text>
  <rect id="styled" x="0" y="0" width="10" height="10" fill="rgb(${blue.join(",")})"/>
</svg>
`);
}

/**
 * Writes the red PNG, SVG and stylesheet that `svgWithExternalReferences`
 * points to into `folder`, and the SVG itself as `references.svg` beside
 * them, where a renderer given the file path would find them.
 */
export async function writeSvgWithExternalReferences(
  folder: string,
  baseUrl: string,
): Promise<{ svgPath: string; targets: ExternalReferenceTargets }> {
  const redPng = await sharp(
    rgbPixels(60, 60, () => red),
    { raw: { width: 60, height: 60, channels: 3 } },
  )
    .png()
    .toBuffer();
  const targets: ExternalReferenceTargets = {
    pngPath: await writeFixture(folder, "red.png", redPng),
    svgPath: await writeFixture(
      folder,
      "red.svg",
      `<svg xmlns="http://www.w3.org/2000/svg" width="60" height="60"><rect id="r" width="60" height="60" fill="rgb(${red.join(",")})"/></svg>`,
    ),
    cssPath: await writeFixture(
      folder,
      "red.css",
      `rect { fill: rgb(${red.join(",")}) !important; }`,
    ),
    baseUrl,
  };
  const svgPath = await writeFixture(folder, "references.svg", svgWithExternalReferences(targets));
  return { svgPath, targets };
}

// ---------------------------------------------------------------------------
// Catalogues

export interface ImageFixture {
  name: string;
  /** File name for the fixture; a rejected input's name may lie about its format on purpose. */
  fileName: string;
  make: () => Promise<Buffer> | Buffer;
}

export interface AcceptedFixture extends ImageFixture {
  /** Format the runner reports in result.json `input.format`. */
  format: "jpeg" | "png" | "gif" | "webp" | "avif" | "tiff" | "svg";
  contentType: "image/png" | "image/gif" | "image/webp";
  frames: number;
}

/** One fixture per accepted input format and shape, with what the runner makes of it. */
export const acceptedInputs: readonly AcceptedFixture[] = [
  {
    name: "photo JPEG",
    fileName: "photo.jpg",
    make: photoJpeg,
    format: "jpeg",
    contentType: "image/png",
    frames: 1,
  },
  {
    name: "transparent PNG",
    fileName: "transparent.png",
    make: transparentPng,
    format: "png",
    contentType: "image/png",
    frames: 1,
  },
  {
    name: "CMYK JPEG",
    fileName: "cmyk.jpg",
    make: cmykJpeg,
    format: "jpeg",
    contentType: "image/png",
    frames: 1,
  },
  {
    name: "16-bit PNG",
    fileName: "sixteen-bit.png",
    make: png16,
    format: "png",
    contentType: "image/png",
    frames: 1,
  },
  {
    name: "palette PNG",
    fileName: "palette.png",
    make: palettePngWithTransparency,
    format: "png",
    contentType: "image/png",
    frames: 1,
  },
  {
    name: "grey and alpha PNG",
    fileName: "grey-alpha.png",
    make: greyAlphaPng,
    format: "png",
    contentType: "image/png",
    frames: 1,
  },
  {
    name: "ICC-tagged PNG",
    fileName: "display-p3.png",
    make: iccTaggedPng,
    format: "png",
    contentType: "image/png",
    frames: 1,
  },
  {
    name: "still GIF",
    fileName: "still.gif",
    make: stillGif,
    format: "gif",
    contentType: "image/png",
    frames: 1,
  },
  {
    name: "still WebP",
    fileName: "still.webp",
    make: stillWebp,
    format: "webp",
    contentType: "image/png",
    frames: 1,
  },
  {
    name: "AVIF",
    fileName: "image.avif",
    make: avifImage,
    format: "avif",
    contentType: "image/png",
    frames: 1,
  },
  {
    name: "two-page TIFF",
    fileName: "pages.tiff",
    make: multiPageTiff,
    format: "tiff",
    contentType: "image/png",
    frames: 1,
  },
  {
    name: "SVG",
    fileName: "disc.svg",
    make: simpleSvg,
    format: "svg",
    contentType: "image/png",
    frames: 1,
  },
  {
    name: "animated GIF",
    fileName: "animated.gif",
    make: () => animatedGif(),
    format: "gif",
    contentType: "image/gif",
    frames: 5,
  },
  {
    name: "animated WebP",
    fileName: "animated.webp",
    make: () => animatedWebp(),
    format: "webp",
    contentType: "image/webp",
    frames: 5,
  },
  {
    name: "20000x1 PNG",
    fileName: "wide.png",
    make: widePng,
    format: "png",
    contentType: "image/png",
    frames: 1,
  },
  {
    name: "1x1 PNG",
    fileName: "pixel.png",
    make: onePixelPng,
    format: "png",
    contentType: "image/png",
    frames: 1,
  },
];

export interface RejectedFixture extends ImageFixture {
  /** Reason the runner writes to the termination-message file with the default limits. */
  reason: RejectionReason;
}

/** Inputs the runner rejects with exit code 2 under its default limits. */
export const rejectedInputs: readonly RejectedFixture[] = [
  { name: "zero bytes", fileName: "empty.png", make: emptyFile, reason: "EmptyInput" },
  { name: "text named .png", fileName: "text.png", make: textFile, reason: "UnsupportedFormat" },
  { name: "HEIC", fileName: "photo.heic", make: heicLike, reason: "UnsupportedFormat" },
  { name: "BMP", fileName: "image.bmp", make: bmp, reason: "UnsupportedFormat" },
  {
    name: "PNG header then garbage",
    fileName: "garbage.png",
    make: pngHeaderWithGarbage,
    reason: "CorruptImage",
  },
  {
    name: "truncated JPEG",
    fileName: "truncated.jpg",
    make: truncatedJpeg,
    reason: "CorruptImage",
  },
  { name: "truncated PNG", fileName: "truncated.png", make: truncatedPng, reason: "CorruptImage" },
  {
    name: "decompression bomb PNG",
    fileName: "bomb.png",
    make: () => decompressionBombPng(),
    reason: "TooManyPixels",
  },
  {
    name: "SVG with a huge canvas",
    fileName: "huge.svg",
    make: svgWithHugeCanvas,
    reason: "TooManyPixels",
  },
  {
    name: "GIF with 3000 frames",
    fileName: "many-frames.gif",
    make: () => gifWithManyFrames(),
    reason: "TooManyFrames",
  },
];

/** Writes every fixture of both catalogues into `folder` and returns their paths by fixture name. */
export async function writeAllFixtures(folder: string): Promise<Map<string, string>> {
  const paths = new Map<string, string>();
  for (const fixture of [...acceptedInputs, ...rejectedInputs]) {
    paths.set(fixture.name, await writeFixture(folder, fixture.fileName, await fixture.make()));
  }
  return paths;
}
