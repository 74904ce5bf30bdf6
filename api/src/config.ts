import { isAbsolute } from "node:path";

export interface Config {
  port: number;
  dataDir: string;
  namespace: string;
  releaseName: string;
  runnerJobTemplatePath: string;
  maxUploadBytes: number;
  maxRunningJobs: number;
  maxQueuedJobs: number;
  keepOriginals: boolean;
  logLevel: string;
  podName: string;
  orphanGraceSeconds: number;
  shutdownGraceSeconds: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

const LOG_LEVELS = ["error", "warn", "info", "debug"];
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MiB = 1024 * 1024;

type Env = Record<string, string | undefined>;

function read(env: Env, name: string, fallback?: string): string {
  const value = env[name];
  if (value === undefined || value === "") {
    if (fallback === undefined) {
      throw new ConfigError(`${name} is required but not set`);
    }
    return fallback;
  }
  return value;
}

function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const text = read(env, name, String(fallback));
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const text = read(env, name, String(fallback)).toLowerCase();
  if (text === "true" || text === "1") return true;
  if (text === "false" || text === "0") return false;
  throw new ConfigError(`${name} must be true or false, got "${text}"`);
}

function readDnsLabel(env: Env, name: string, fallback?: string): string {
  const value = read(env, name, fallback);
  if (value.length > 63 || !DNS_LABEL.test(value)) {
    throw new ConfigError(
      `${name} must be a DNS label (lower-case letters, digits and '-', at most 63), got "${value}"`,
    );
  }
  return value;
}

/** Reads and checks the API's configuration; throws ConfigError naming the bad variable. */
export function loadConfig(env: Env): Config {
  const dataDir = read(env, "DATA_DIR");
  if (!isAbsolute(dataDir)) {
    throw new ConfigError(`DATA_DIR must be an absolute path, got "${dataDir}"`);
  }
  const logLevel = read(env, "LOG_LEVEL", "info").toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${logLevel}"`);
  }

  return {
    port: readInteger(env, "PORT", 8080, 1, 65535),
    dataDir,
    namespace: readDnsLabel(env, "NAMESPACE"),
    releaseName: readDnsLabel(env, "RELEASE_NAME", "thumbnailer"),
    runnerJobTemplatePath: read(env, "RUNNER_JOB_TEMPLATE"),
    maxUploadBytes: readInteger(env, "MAX_UPLOAD_BYTES", 20 * MiB, 1, 1024 * MiB),
    maxRunningJobs: readInteger(env, "MAX_RUNNING_JOBS", 10, 0, 100000),
    maxQueuedJobs: readInteger(env, "MAX_QUEUED_JOBS", 1000, 1, 1000000),
    keepOriginals: readBoolean(env, "KEEP_ORIGINALS", false),
    logLevel,
    podName: read(env, "POD_NAME", env.HOSTNAME ?? "thumbnailer-api"),
    orphanGraceSeconds: readInteger(env, "ORPHAN_GRACE_SECONDS", 600, 1, 86400 * 30),
    shutdownGraceSeconds: readInteger(env, "SHUTDOWN_GRACE_SECONDS", 25, 0, 3600),
  };
}
