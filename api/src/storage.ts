import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm, stat, statfs, unlink } from "node:fs/promises";
import { join } from "node:path";

import type { Fit } from "./jobTemplate.js";
import { isJobId } from "./ids.js";

/** Record of one upload, kept in <DATA_DIR>/jobs/<id>/meta.json. */
export interface JobMeta {
  id: string;
  createdAt: string;
  fit: Fit;
  original: {
    /** The client's file name: kept here only, never in a Kubernetes object, log or metric. */
    filename: string;
    contentType: string;
    bytes: number;
  };
}

/** Contents of result.json, as the runner writes it. */
export interface RunnerResult {
  contentType: string;
  width: number;
  height: number;
  bytes: number;
  frames: number;
  input: { format: string; width: number; height: number };
  durationMs: number;
}

/**
 * The job folders on the data volume. Every path is built from a checked
 * job id, never from a client-supplied name.
 */
export class JobFiles {
  readonly jobsDir: string;

  constructor(readonly dataDir: string) {
    this.jobsDir = join(dataDir, "jobs");
  }

  dir(id: string): string {
    if (!isJobId(id)) {
      throw new Error(`invalid job id ${JSON.stringify(id)}`);
    }
    return join(this.jobsDir, id);
  }

  originalPath(id: string): string {
    return join(this.dir(id), "original");
  }

  thumbnailPath(id: string): string {
    return join(this.dir(id), "thumbnail");
  }

  async createDir(id: string): Promise<string> {
    const dir = this.dir(id);
    // Group-writable: the runner pods share GID 10001 (fsGroup) with the API.
    await mkdir(dir, { recursive: true, mode: 0o770 });
    return dir;
  }

  async writeMeta(meta: JobMeta): Promise<void> {
    await writeFileAtomic(join(this.dir(meta.id), "meta.json"), JSON.stringify(meta));
  }

  async readMeta(id: string): Promise<JobMeta | undefined> {
    return readJson<JobMeta>(join(this.dir(id), "meta.json"));
  }

  async readResult(id: string): Promise<RunnerResult | undefined> {
    return readJson<RunnerResult>(join(this.dir(id), "result.json"));
  }

  async hasThumbnail(id: string): Promise<boolean> {
    try {
      return (await stat(this.thumbnailPath(id))).isFile();
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async remove(id: string): Promise<void> {
    await rm(this.dir(id), { recursive: true, force: true });
  }

  async removeOriginal(id: string): Promise<boolean> {
    try {
      await unlink(this.originalPath(id));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** Lists the ids of the job folders; other entries are ignored. */
  async listIds(): Promise<string[]> {
    try {
      return (await readdir(this.jobsDir)).filter(isJobId);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
  }

  async modifiedAtMs(id: string): Promise<number | undefined> {
    try {
      return (await stat(this.dir(id))).mtimeMs;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async freeBytes(): Promise<number> {
    const stats = await statfs(this.dataDir);
    return stats.bavail * stats.bsize;
  }

  /** Writes, syncs and removes a probe file: throws when the volume cannot take writes. */
  async checkWritable(): Promise<void> {
    await mkdir(this.jobsDir, { recursive: true, mode: 0o770 });
    const probe = join(this.dataDir, `.probe-${randomBytes(6).toString("hex")}`);
    const handle = await open(probe, "w");
    try {
      await handle.writeFile("ok");
      await handle.sync();
    } finally {
      await handle.close();
      await rm(probe, { force: true });
    }
  }
}

/** Writes to a temporary name in the same folder, syncs, then renames over the target. */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(6).toString("hex")}`;
  try {
    const handle = await open(tmp, "w", 0o660);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  return JSON.parse(text) as T;
}

export function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

export function isNoSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}
