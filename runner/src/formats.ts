/** Formats the runner accepts, as it names them in result.json. */
export const supportedFormats = ["jpeg", "png", "gif", "webp", "avif", "tiff", "svg"] as const;
export type SupportedFormat = (typeof supportedFormats)[number];

/** Formats recognised by their bytes only to name them in a rejection message. */
export type KnownUnsupportedFormat = "heic" | "bmp" | "pdf" | "ico" | "psd" | "jxl";

export type SniffedFormat = SupportedFormat | KnownUnsupportedFormat;

const displayNames: Record<SniffedFormat, string> = {
  jpeg: "JPEG",
  png: "PNG",
  gif: "GIF",
  webp: "WebP",
  avif: "AVIF",
  tiff: "TIFF",
  svg: "SVG",
  heic: "HEIC",
  bmp: "BMP",
  pdf: "PDF",
  ico: "ICO",
  psd: "PSD",
  jxl: "JPEG XL",
};

export const acceptedFormatsSentence = "JPEG, PNG, GIF, WebP, AVIF, TIFF or SVG";

export function displayName(format: SniffedFormat): string {
  return displayNames[format];
}

export function isSupportedFormat(format: string): format is SupportedFormat {
  return (supportedFormats as readonly string[]).includes(format);
}

const heicBrands = new Set(["heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs"]);
const avifBrands = new Set(["avif", "avis"]);
// Text formats are recognised within this many leading bytes, as libvips' SVG loader does.
const svgSniffBytes = 4096;

/**
 * Guesses a format from an image's leading bytes. The runner uses it only
 * after sharp failed to read a header, to tell a damaged file of a supported
 * format (CorruptImage) from a file of another format (UnsupportedFormat).
 */
export function sniffFormat(bytes: Uint8Array): SniffedFormat | undefined {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ascii = (start: number, end: number) => buffer.toString("latin1", start, end);

  if (startsWith(buffer, [0xff, 0xd8, 0xff])) return "jpeg";
  if (startsWith(buffer, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "png";
  if (ascii(0, 6) === "GIF87a" || ascii(0, 6) === "GIF89a") return "gif";
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "webp";
  if (["II*\0", "MM\0*", "II+\0", "MM\0+"].includes(ascii(0, 4))) return "tiff";
  if (ascii(4, 8) === "ftyp") return sniffIsoBrand(buffer);
  if (ascii(0, 2) === "BM") return "bmp";
  if (ascii(0, 5) === "%PDF-") return "pdf";
  if (startsWith(buffer, [0x00, 0x00, 0x01, 0x00])) return "ico";
  if (ascii(0, 4) === "8BPS") return "psd";
  if (startsWith(buffer, [0xff, 0x0a]) || ascii(4, 8) === "JXL ") return "jxl";
  if (buffer.toString("utf8", 0, svgSniffBytes).includes("<svg")) return "svg";
  return undefined;
}

/** Sorts an ISO base media file (ftyp box) into AVIF or HEIC by its brands. */
function sniffIsoBrand(buffer: Buffer): SniffedFormat | undefined {
  const boxSize = buffer.length >= 4 ? buffer.readUInt32BE(0) : 0;
  const end = Math.min(boxSize, buffer.length);
  const major = buffer.toString("latin1", 8, 12);
  const compatible: string[] = [];
  for (let offset = 16; offset + 4 <= end; offset += 4) {
    compatible.push(buffer.toString("latin1", offset, offset + 4));
  }

  if (avifBrands.has(major)) return "avif";
  if (heicBrands.has(major)) return "heic";
  if (compatible.some((brand) => avifBrands.has(brand))) return "avif";
  if (compatible.some((brand) => heicBrands.has(brand))) return "heic";
  return undefined;
}

function startsWith(buffer: Buffer, signature: readonly number[]): boolean {
  return signature.every((byte, index) => buffer[index] === byte);
}
