/** Summary statistics of one series of measurements, all in the unit of the input. */
export interface Summary {
  count: number;
  min: number;
  p25: number;
  median: number;
  p75: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * Returns the q-quantile (0 to 1) of sorted values, interpolating linearly
 * between the two nearest ranks (the method numpy calls "linear").
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const lowerValue = sorted[lower]!;
  const upperValue = sorted[upper]!;
  return lowerValue + (upperValue - lowerValue) * (position - lower);
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    count: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p25: quantile(sorted, 0.25),
    median: quantile(sorted, 0.5),
    p75: quantile(sorted, 0.75),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean: sorted.length === 0 ? Number.NaN : total / sorted.length,
  };
}

/** Formats a number with a precision that suits its size: 1234, 12.3, 1.23, 0.123. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

export function formatMebibytes(bytes: number): string {
  return `${formatNumber(bytes / 2 ** 20)} MiB`;
}

/** Formats a ratio as "1.23x". */
export function formatRatio(ratio: number): string {
  return `${formatNumber(ratio)}x`;
}

/** Renders a markdown table; every row must have as many cells as the header. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const lines = [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ];
  return lines.join("\n");
}

/** Returns "met" or "NOT met" for a ratio against its maximum. */
export function verdict(ratio: number, maxRatio: number): string {
  return ratio <= maxRatio ? "met" : "NOT met";
}
