import { open } from "node:fs/promises";

import { fileTypeFromFile } from "file-type";

/** Formats the API accepts, by the MIME type that byte sniffing reports. */
const ACCEPTED: Record<string, string> = {
  "image/jpeg": "jpeg",
  "image/png": "png",
  "image/apng": "png",
  "image/gif": "gif",
  "image/webp": "webp",
  "image/avif": "avif",
  "image/tiff": "tiff",
  "image/svg+xml": "svg",
};

export const ACCEPTED_FORMATS_SENTENCE =
  "Thumbnailer accepts JPEG, PNG, GIF, WebP, AVIF, TIFF and SVG images.";

export interface SniffResult {
  format: string;
  contentType: string;
}

const SVG_HEAD_BYTES = 4096;

/**
 * Judges a file by its bytes. Returns the accepted format, or undefined for
 * anything else. file-type recognises binary formats only, so SVG, a text
 * format, gets its own check of the document's first element.
 */
export async function sniffImage(path: string): Promise<SniffResult | undefined> {
  const detected = await detectBinaryType(path);
  if (detected !== undefined && detected.mime !== "application/xml") {
    const format = ACCEPTED[detected.mime];
    return format === undefined
      ? undefined
      : { format, contentType: detectedContentType(detected.mime) };
  }
  if (await looksLikeSvg(path)) {
    return { format: "svg", contentType: "image/svg+xml" };
  }
  return undefined;
}

/**
 * Runs file-type's detection. A parser error on malformed bytes (a truncated
 * ZIP header, say) means the file is no known binary format. File-system
 * errors carry a `code`, and those still throw.
 */
async function detectBinaryType(path: string): Promise<{ mime: string } | undefined> {
  try {
    return await fileTypeFromFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== undefined) throw err;
    return undefined;
  }
}

function detectedContentType(mime: string): string {
  return mime === "image/apng" ? "image/png" : mime;
}

/**
 * Reports whether the file starts, after an optional byte-order mark, XML
 * declaration, comments and doctype, with an <svg> root element.
 */
export async function looksLikeSvg(path: string): Promise<boolean> {
  const handle = await open(path, "r");
  let head: string;
  try {
    const buffer = Buffer.alloc(SVG_HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SVG_HEAD_BYTES, 0);
    head = buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await handle.close();
  }
  return SVG_START.test(head.replace(/^\uFEFF/, ""));
}

const SVG_START =
  /^\s*(<\?xml[^>]*\?>\s*)?(<!--[\s\S]*?-->\s*|<!DOCTYPE\s[^>[]*(\[[\s\S]*?\])?\s*>\s*)*<svg[\s>/:]/;
