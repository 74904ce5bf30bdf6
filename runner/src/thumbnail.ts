import sharp from "sharp";

import type { Fit } from "./args.js";
import { RejectionError, RunnerError } from "./errors.js";
import { displayName } from "./formats.js";
import type { InputImage } from "./inspect.js";

export type ThumbnailContentType = "image/png" | "image/gif" | "image/webp";

export interface Thumbnail {
  data: Buffer;
  contentType: ThumbnailContentType;
  width: number;
  height: number;
  frames: number;
}

export interface ThumbnailOptions {
  size: number;
  fit: Fit;
  maxPixels: number;
}

const transparent = { r: 0, g: 0, b: 0, alpha: 0 };

/**
 * Decodes the image and encodes a size x size thumbnail: upright, sRGB with 8
 * bits per channel, alpha kept, no metadata (sharp writes none unless asked).
 * A still image becomes a PNG; an animated GIF or WebP keeps its format,
 * every frame, each frame's delay and the loop count.
 */
export async function renderThumbnail(
  input: Buffer,
  image: InputImage,
  options: ThumbnailOptions,
): Promise<Thumbnail> {
  // The input is a buffer, not a path, so librsvg has no base URL. It then loads no file or URL
  // that an SVG references, and renders only data: URLs inside it.
  const pipeline = sharp(input, {
    animated: image.animated,
    autoOrient: true,
    failOn: "warning",
    limitInputPixels: options.maxPixels,
  })
    .resize(options.size, options.size, { fit: options.fit, background: transparent })
    .toColourspace("srgb");

  const animation = {
    ...(image.loop !== undefined && { loop: image.loop }),
    ...(image.delayMs !== undefined && { delay: image.delayMs }),
  };
  let contentType: ThumbnailContentType;
  if (image.animated && image.format === "gif") {
    contentType = "image/gif";
    // Without keepDuplicateFrames the encoder merges equal frames and the frame count changes.
    pipeline.gif({ ...animation, keepDuplicateFrames: true });
  } else if (image.animated && image.format === "webp") {
    contentType = "image/webp";
    pipeline.webp({ ...animation, quality: 90 });
  } else {
    contentType = "image/png";
    pipeline.png({ compressionLevel: 9 });
  }

  let data: Buffer;
  try {
    data = await pipeline.toBuffer();
  } catch (error) {
    throw classifyDecodeError(error, image);
  }

  const written = await sharp(data).metadata();
  return {
    data,
    contentType,
    width: written.width,
    height: written.height,
    frames: written.pages ?? 1,
  };
}

function classifyDecodeError(error: unknown, image: InputImage): Error {
  const detail = error instanceof Error ? error.message : String(error);

  if (/out of memory|memory allocation/i.test(detail)) {
    return new RunnerError(
      "Image processing ran out of memory; retry, or raise the runner memory limit.",
      {
        cause: error,
      },
    );
  }
  if (detail.includes("pixel limit when scaled")) {
    // sharp renders an SVG at the scale of the thumbnail. For cover and fill, a very long
    // canvas would then need a render over libvips' limit of 32767 pixels on a side.
    return new RejectionError(
      "TooManyPixels",
      "The SVG image is too long and thin to fill the thumbnail, because it would render over 32767 pixels on one side; use fit=contain or an image with a less extreme aspect ratio.",
      { cause: error, detail },
    );
  }
  if (detail.includes("exceeds pixel limit")) {
    return new RejectionError(
      "TooManyPixels",
      "The image decodes to more pixels than its header declares and is over the pixel limit; upload a smaller image.",
      { cause: error, detail },
    );
  }
  return new RejectionError(
    "CorruptImage",
    `The ${displayName(image.format)} image is damaged or incomplete and cannot be decoded; re-export the image and upload it again.`,
    { cause: error, detail },
  );
}
