import winston from "winston";

export type Logger = winston.Logger;

/**
 * Builds the service logger: one JSON object per line on stdout, with
 * `time`, `level`, `msg` and `service` on every line. Messages are fixed
 * text; values go in fields.
 */
export function createLogger(level: string, stream?: NodeJS.WritableStream): Logger {
  const transport = stream
    ? new winston.transports.Stream({ stream })
    : new winston.transports.Console();
  return winston.createLogger({
    level,
    defaultMeta: { service: "thumbnailer-api" },
    format: winston.format.printf((info) => {
      const { level, message, service, ...fields } = info;
      const time = new Date().toISOString();
      return JSON.stringify({ time, level, msg: message, service, ...plainFields(fields) });
    }),
    transports: [transport],
  });
}

/** Turns Error values into their messages, so they survive JSON.stringify. */
function plainFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = value instanceof Error ? describeError(value) : value;
  }
  return out;
}

export function describeError(err: Error): string {
  const cause = err.cause instanceof Error ? `: ${describeError(err.cause)}` : "";
  return `${err.message}${cause}`;
}

/** Returns a logger that drops everything, for tests that do not read logs. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console()] });
}
