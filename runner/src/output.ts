import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import path from "node:path";

import { errorCode, RunnerError } from "./errors.js";

export interface OutputFile {
  path: string;
  data: Buffer | string;
}

// Temporary files not yet renamed, so that a signal handler can remove them.
const pendingTemporaryFiles = new Set<string>();

/**
 * Writes each file to a temporary name in its own folder, flushes it to disk,
 * then renames all of them in order, so a reader sees either no file or a
 * whole one. Put the file that marks completion last. On any failure every
 * temporary file and every file already renamed by this call is removed.
 */
export async function writeFilesAtomically(files: readonly OutputFile[]): Promise<void> {
  const staged: { temporaryPath: string; finalPath: string }[] = [];
  const renamed: string[] = [];
  try {
    for (const file of files) {
      const temporaryPath = temporaryPathFor(file.path);
      pendingTemporaryFiles.add(temporaryPath);
      staged.push({ temporaryPath, finalPath: file.path });
      await writeAndSync(temporaryPath, file.data);
    }
    for (const { temporaryPath, finalPath } of staged) {
      await rename(temporaryPath, finalPath);
      pendingTemporaryFiles.delete(temporaryPath);
      renamed.push(finalPath);
    }
  } catch (error) {
    const leftovers = [...staged.map((entry) => entry.temporaryPath), ...renamed];
    await Promise.all(leftovers.map((leftover) => rm(leftover, { force: true })));
    for (const entry of staged) {
      pendingTemporaryFiles.delete(entry.temporaryPath);
    }
    throw new RunnerError(
      `Could not write the output files (${errorCode(error) ?? "unknown error"}); check that the output folder exists, is writable and has free space.`,
      { cause: error },
    );
  }

  for (const folder of new Set(files.map((file) => path.dirname(file.path)))) {
    await syncFolder(folder);
  }
}

/** Removes temporary files of a write still in progress; for signal handlers, hence synchronous. */
export function removePendingTemporaryFilesSync(): void {
  for (const temporaryPath of pendingTemporaryFiles) {
    rmSync(temporaryPath, { force: true });
  }
  pendingTemporaryFiles.clear();
}

function temporaryPathFor(finalPath: string): string {
  const suffix = `${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  return path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.${suffix}`);
}

async function writeAndSync(filePath: string, data: Buffer | string): Promise<void> {
  const handle = await open(filePath, "wx", 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flushes a folder's entries so the renames survive a crash; some file systems refuse, which is harmless here. */
async function syncFolder(folder: string): Promise<void> {
  let handle;
  try {
    handle = await open(folder, "r");
    await handle.sync();
  } catch {
    // The files themselves are complete; only the rename may be lost on power failure.
  } finally {
    await handle?.close();
  }
}
