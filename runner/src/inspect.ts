import sharp, { type Metadata } from "sharp";

import type { Fit } from "./args.js";
import { RejectionError } from "./errors.js";
import {
  acceptedFormatsSentence,
  displayName,
  isSupportedFormat,
  sniffFormat,
  type SniffedFormat,
  type SupportedFormat,
} from "./formats.js";

/** Facts from an image's header, read before decoding any pixel. */
export interface InputImage {
  format: SupportedFormat;
  /** Width of one frame as displayed, after the EXIF orientation. */
  width: number;
  /** Height of one frame as displayed, after the EXIF orientation. */
  height: number;
  /** Frames that will be decoded: the animation's frame count, else 1. */
  frames: number;
  animated: boolean;
  /** Animation loop count, 0 for forever. */
  loop: number | undefined;
  /** Delay after each animation frame, in milliseconds. */
  delayMs: number[] | undefined;
  channels: number;
  /** libvips band format, such as `uchar` or `ushort`. */
  depth: string;
  inputBytes: number;
}

/**
 * Reads an image's header with sharp and sorts out what the runner rejects
 * before decoding: empty files, other formats, HEIC, and unreadable headers.
 */
export async function inspectImage(input: Buffer): Promise<InputImage> {
  if (input.length === 0) {
    throw new RejectionError("EmptyInput", "The uploaded file is empty; upload an image file.");
  }

  let metadata: Metadata;
  try {
    // The runner checks the pixel limit itself from these dimensions, so that a decompression
    // bomb gets its own reason. Reading the header allocates no pixels.
    metadata = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw rejectUnreadableHeader(input, error);
  }

  const format = acceptedFormat(metadata);
  const frames = format === "gif" || format === "webp" ? Math.max(1, metadata.pages ?? 1) : 1;
  return {
    format,
    width: metadata.autoOrient.width,
    height: metadata.autoOrient.height,
    frames,
    animated: frames > 1,
    loop: frames > 1 ? metadata.loop : undefined,
    delayMs: frames > 1 ? metadata.delay : undefined,
    channels: metadata.channels,
    depth: metadata.depth,
    inputBytes: input.length,
  };
}

function acceptedFormat(metadata: Metadata): SupportedFormat {
  const loader = String(metadata.format);
  if (loader === "heif") {
    // libheif reads both AVIF (AV1) and HEIC (HEVC) from the same container.
    if (metadata.compression === "av1") {
      return "avif";
    }
    throw unsupported("heic");
  }
  if (isSupportedFormat(loader) && loader !== "avif") {
    return loader;
  }
  throw new RejectionError(
    "UnsupportedFormat",
    `${loader.toUpperCase()} images are not supported; upload a ${acceptedFormatsSentence} image.`,
  );
}

function rejectUnreadableHeader(input: Buffer, error: unknown): RejectionError {
  const detail = error instanceof Error ? error.message : String(error);
  const sniffed = sniffFormat(input);
  if (sniffed !== undefined && !isSupportedFormat(sniffed)) {
    return unsupported(sniffed, { cause: error, detail });
  }
  if (sniffed !== undefined) {
    return new RejectionError(
      "CorruptImage",
      `The file starts like a ${displayName(sniffed)} image but its header is damaged; re-export the image and upload it again.`,
      { cause: error, detail },
    );
  }
  if (detail.includes("unsupported image format")) {
    return new RejectionError(
      "UnsupportedFormat",
      `The file is not an image in a supported format; upload a ${acceptedFormatsSentence} image.`,
      { cause: error, detail },
    );
  }
  return new RejectionError(
    "CorruptImage",
    "The image header is damaged and cannot be read; re-export the image and upload it again.",
    { cause: error, detail },
  );
}

function unsupported(
  format: SniffedFormat,
  options: { cause?: unknown; detail?: string } = {},
): RejectionError {
  return new RejectionError(
    "UnsupportedFormat",
    `${displayName(format)} images are not supported; upload a ${acceptedFormatsSentence} image.`,
    options,
  );
}

/**
 * Returns the pixels sharp decodes for this image at the given thumbnail
 * size. sharp renders an SVG directly at the scale of the thumbnail, so its
 * declared canvas does not decode in full; raster frames always do.
 */
export function decodedPixels(image: InputImage, size: number, fit: Fit): number {
  if (image.format !== "svg") {
    return image.width * image.height * image.frames;
  }
  const scaleX = size / image.width;
  const scaleY = size / image.height;
  const scale = fit === "contain" ? Math.min(scaleX, scaleY) : Math.max(scaleX, scaleY);
  return Math.ceil(image.width * scale) * Math.ceil(image.height * scale);
}
