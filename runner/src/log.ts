/** Facts about one run that go into its log line; never a file name or pixel data. */
export interface RunReport {
  input?: { format?: string; width?: number; height?: number; frames?: number; bytes?: number };
  output?: { contentType: string; width: number; height: number; frames: number; bytes: number };
}

export interface LogEntry extends RunReport {
  level: "info" | "warn" | "error";
  msg: string;
  durationMs: number;
  reason?: string;
  /** Library or system error text for operators; not shown to API users. */
  detail?: string;
  terminationMessageError?: string;
}

/**
 * Writes one JSON log line to stdout, the runner's only log output. It adds
 * the process's peak resident memory, to help size the runner memory limit.
 */
export function writeLogLine(
  entry: LogEntry,
  stream: NodeJS.WritableStream = process.stdout,
): void {
  const { level, msg, ...fields } = entry;
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  const line = {
    time: new Date().toISOString(),
    level,
    msg,
    service: "runner",
    ...fields,
    maxRssBytes,
  };
  stream.write(`${JSON.stringify(line)}\n`);
}
