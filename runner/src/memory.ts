import { readFile } from "node:fs/promises";
import path from "node:path";

// cgroup v1 reports "no limit" as a huge page-aligned number (9223372036854771712 on x86-64).
const unlimitedThresholdBytes = 2 ** 62;

/**
 * Reads the memory limit of the runner's own cgroup: `memory.max` on cgroup
 * v2, `memory/memory.limit_in_bytes` on cgroup v1. Returns undefined when
 * there is no limit or neither file can be read (outside a container).
 */
export async function readCgroupMemoryLimit(
  cgroupRoot = "/sys/fs/cgroup",
): Promise<number | undefined> {
  const candidates = [
    path.join(cgroupRoot, "memory.max"),
    path.join(cgroupRoot, "memory", "memory.limit_in_bytes"),
  ];
  for (const file of candidates) {
    let text: string;
    try {
      text = (await readFile(file, "utf8")).trim();
    } catch {
      continue;
    }
    if (text === "max") {
      return undefined;
    }
    const bytes = Number(text);
    if (!Number.isFinite(bytes) || bytes <= 0 || bytes >= unlimitedThresholdBytes) {
      return undefined;
    }
    return bytes;
  }
  return undefined;
}

export interface DecodeFootprint {
  /** Pixels the decoder produces: width x height, times the frames of an animation. */
  decodedPixels: number;
  channels: number;
  bytesPerSample: number;
  /** Pixels of the thumbnail, all frames together. */
  outputPixels: number;
  inputBytes: number;
}

/**
 * Estimates the bytes that decoding and resizing one image needs on top of
 * the process itself: one full decoded copy, the RGBA output frames and the
 * input file, which the runner holds in memory.
 * NOTE: this is an upper-bound estimate. libvips often streams and JPEG
 * shrink-on-load decodes less, but a rotation or an animation keeps every
 * decoded pixel in memory at once.
 */
export function estimateDecodeBytes(footprint: DecodeFootprint): number {
  const decodedBytes = footprint.decodedPixels * footprint.channels * footprint.bytesPerSample;
  const outputBytes = footprint.outputPixels * 4;
  return decodedBytes + outputBytes + footprint.inputBytes;
}

const bytesPerSampleByDepth: Record<string, number> = {
  uchar: 1,
  char: 1,
  ushort: 2,
  short: 2,
  uint: 4,
  int: 4,
  float: 4,
  complex: 8,
  double: 8,
  dpcomplex: 16,
};

/** Returns the bytes per channel sample of a libvips band format such as `uchar` or `ushort`. */
export function bytesPerSample(depth: string | undefined): number {
  return (depth !== undefined ? bytesPerSampleByDepth[depth] : undefined) ?? 1;
}

export function formatMebibytes(bytes: number): string {
  return `${Math.ceil(bytes / 2 ** 20)} MiB`;
}
