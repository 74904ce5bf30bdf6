/**
 * Images for the benchmarks, generated with sharp at the start of each run so
 * that no large binary is committed. The pixels are deterministic: a smooth
 * colour field with grain, so that encoders and decoders work as hard as on
 * a photo rather than on a flat colour.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";

import sharp from "sharp";

export interface BenchImage {
  /** Short name for tables, such as "jpeg-12mp". */
  name: string;
  description: string;
  path: string;
  bytes: number;
  animated: boolean;
}

/** Steps a 32-bit linear congruential generator (Numerical Recipes' constants). */
function nextState(state: number): number {
  return (Math.imul(state, 1664525) + 1013904223) >>> 0;
}

/** Returns a lookup table of one colour channel's smooth variation along one axis. */
function wave(length: number, periods: number, phase: number, amplitude: number): Int16Array {
  const table = new Int16Array(length);
  for (let i = 0; i < length; i++) {
    table[i] = Math.round(amplitude * Math.sin((2 * Math.PI * periods * i) / length + phase));
  }
  return table;
}

/**
 * Returns raw interleaved pixels: a smooth colour field plus grain of up to
 * plus or minus `grain` levels, with an optional alpha channel shaped as a
 * soft-edged disc. `shiftX` moves the colour field, for animation frames.
 */
function photoPixels(
  width: number,
  height: number,
  options: { alpha?: boolean; grain?: number; seed?: number; shiftX?: number } = {},
): Buffer {
  const channels = options.alpha ? 4 : 3;
  const grain = options.grain ?? 12;
  const shiftX = options.shiftX ?? 0;
  const columns = [wave(width, 1.5, 0, 70), wave(width, 2.5, 1, 60), wave(width, 0.8, 2, 80)];
  const rows = [wave(height, 1.2, 0.5, 50), wave(height, 0.7, 1.5, 60), wave(height, 2.1, 3, 40)];
  const pixels = Buffer.alloc(width * height * channels);
  let state = options.seed ?? 12345;
  const centreX = width / 2;
  const centreY = height / 2;
  const radius = Math.min(width, height) * 0.45;
  const edge = radius * 0.1;

  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * channels;
      const column = (x + shiftX) % width;
      for (let channel = 0; channel < 3; channel++) {
        state = nextState(state);
        const noise = ((state >>> 24) % (2 * grain + 1)) - grain;
        const level = 128 + columns[channel]![column]! + rows[channel]![y]! + noise;
        pixels[offset + channel] = level < 0 ? 0 : level > 255 ? 255 : level;
      }
      if (options.alpha) {
        const distance = Math.hypot(x - centreX, y - centreY);
        const opacity = (radius - distance) / edge;
        pixels[offset + 3] = opacity >= 1 ? 255 : opacity <= 0 ? 0 : Math.round(opacity * 255);
      }
    }
  }
  return pixels;
}

/** Returns uniformly random RGB bytes, which no image format can compress. */
function noisePixels(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = nextState(state);
    bytes[i] = state >>> 24;
  }
  return bytes;
}

async function save(folder: string, fileName: string, data: Buffer): Promise<string> {
  const filePath = path.join(folder, fileName);
  await writeFile(filePath, data);
  return filePath;
}

/** Writes the four runner benchmark images into `folder`. */
export async function writeRunnerImages(folder: string): Promise<BenchImage[]> {
  const images: BenchImage[] = [];
  const add = async (
    name: string,
    description: string,
    fileName: string,
    data: Buffer,
    animated: boolean,
  ): Promise<void> => {
    images.push({
      name,
      description,
      path: await save(folder, fileName, data),
      bytes: data.length,
      animated,
    });
  };

  const jpeg = await sharp(photoPixels(4000, 3000), {
    raw: { width: 4000, height: 3000, channels: 3 },
  })
    .jpeg({ quality: 90 })
    .toBuffer();
  await add("jpeg-12mp", "JPEG 4000x3000, quality 90", "photo.jpg", jpeg, false);

  const png = await sharp(photoPixels(1600, 1250, { alpha: true }), {
    raw: { width: 1600, height: 1250, channels: 4 },
  })
    .png()
    .toBuffer();
  await add("png-2mp-alpha", "PNG 1600x1250 RGBA, soft-edged disc", "alpha.png", png, false);

  const frameWidth = 480;
  const frameHeight = 360;
  const frameCount = 50;
  const frames = Array.from({ length: frameCount }, (_, frame) =>
    photoPixels(frameWidth, frameHeight, { grain: 4, seed: 777, shiftX: frame * 8 }),
  );
  const gif = await sharp(Buffer.concat(frames), {
    raw: {
      width: frameWidth,
      height: frameHeight * frameCount,
      channels: 3,
      pageHeight: frameHeight,
    },
  })
    .gif({
      loop: 0,
      delay: Array.from({ length: frameCount }, () => 40),
      keepDuplicateFrames: true,
    })
    .toBuffer();
  await add("gif-50-frames", "GIF 480x360, 50 frames of 40 ms", "animation.gif", gif, true);

  const webp = await sharp(photoPixels(4000, 4000, { seed: 4242 }), {
    raw: { width: 4000, height: 4000, channels: 3 },
  })
    .webp({ quality: 80 })
    .toBuffer();
  await add("webp-4000", "WebP 4000x4000, lossy quality 80", "large.webp", webp, false);

  return images;
}

/**
 * Returns a PNG of RGB noise whose file is within about 1% of `targetBytes`:
 * a real, decodable image that does not compress, for upload benchmarks.
 */
export async function noisePng(targetBytes: number, seed = 99): Promise<Buffer> {
  const side = Math.round(Math.sqrt(targetBytes / 3));
  return sharp(noisePixels(side * side * 3, seed), {
    raw: { width: side, height: side, channels: 3 },
  })
    .png()
    .toBuffer();
}
