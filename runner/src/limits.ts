import type { Fit } from "./args.js";
import { RejectionError } from "./errors.js";
import { decodedPixels, type InputImage } from "./inspect.js";
import { bytesPerSample, estimateDecodeBytes, formatMebibytes } from "./memory.js";

export interface Limits {
  size: number;
  fit: Fit;
  maxPixels: number;
  maxFrames: number;
  /** Memory the whole process may use, in bytes; undefined for no limit. */
  memoryLimitBytes: number | undefined;
}

// Room left for libvips buffers, the encoder and the JavaScript heap growing.
const memoryHeadroomBytes = 32 * 2 ** 20;

/**
 * Rejects, from the header alone, an image over the frame, pixel or memory
 * limit. The frame count is checked first so that a long animation of small
 * frames gets TooManyFrames rather than TooManyPixels.
 */
export function checkLimits(image: InputImage, limits: Limits, processBytes: number): void {
  if (image.frames > limits.maxFrames) {
    throw new RejectionError(
      "TooManyFrames",
      `The animation has ${image.frames} frames, over the limit of ${limits.maxFrames}; upload an animation with fewer frames.`,
    );
  }

  const pixels = image.width * image.height * image.frames;
  if (pixels > limits.maxPixels) {
    throw new RejectionError("TooManyPixels", describePixelExcess(image, pixels, limits.maxPixels));
  }

  if (limits.memoryLimitBytes !== undefined) {
    const neededBytes =
      processBytes +
      memoryHeadroomBytes +
      estimateDecodeBytes({
        decodedPixels: decodedPixels(image, limits.size, limits.fit),
        channels: image.channels,
        bytesPerSample: bytesPerSample(image.depth),
        outputPixels: limits.size * limits.size * image.frames,
        inputBytes: image.inputBytes,
      });
    if (neededBytes > limits.memoryLimitBytes) {
      throw new RejectionError(
        "TooLarge",
        `Decoding this ${image.width}x${image.height} image needs about ${formatMebibytes(neededBytes)} of memory but the runner's memory limit is ${formatMebibytes(limits.memoryLimitBytes)}; upload a smaller image or ask the operator to raise the runner memory limit.`,
      );
    }
  }
}

function describePixelExcess(image: InputImage, pixels: number, maxPixels: number): string {
  const limit = formatMegapixels(maxPixels);
  if (image.frames > 1) {
    return `The animation has ${image.frames} frames of ${image.width}x${image.height} pixels (${formatMegapixels(pixels)} in all), over the limit of ${limit}; upload fewer or smaller frames.`;
  }
  return `The image is ${image.width}x${image.height} pixels (${formatMegapixels(pixels)}), over the limit of ${limit}; upload a smaller image.`;
}

function formatMegapixels(pixels: number): string {
  const megapixels = pixels / 1_000_000;
  return `${megapixels >= 10 ? Math.round(megapixels) : Number(megapixels.toPrecision(2))} megapixels`;
}
