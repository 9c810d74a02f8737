/**
 * Crash-safe file replacement: write a temporary file beside the target, fsync it, then rename
 * it over the target (atomic on POSIX file systems), then fsync the folder so the rename itself
 * survives a power cut. A process killed at any point leaves either the old file or the new one,
 * never a mix; at worst a stray `*.tmp-<pid>` file, which `removeStaleTemporaries` clears once
 * that process is gone.
 */
import { copyFile, link, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errorCode } from './fs-errors.js';

export type Chunks = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

const TEMPORARY = /^(.+)\.tmp-(\d+)$/;

/** The temporary name this process writes `path` under before renaming it into place. */
export function temporaryPath(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // NOTE: some platforms (Windows) cannot open or fsync a folder; the rename is still atomic.
  }
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `data` to `path` (created or truncated) and fsyncs it; removes it if writing fails. */
async function writeSynced(path: string, data: Chunks): Promise<void> {
  const handle = await open(path, 'w');
  try {
    const chunks = data instanceof Uint8Array ? [data] : data;
    for await (const chunk of chunks) await handle.write(chunk);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(path, { force: true });
    throw error;
  }
  await handle.close();
}

/**
 * Makes `previous` a second name of the current `path` (nothing when `path` does not exist).
 * NOTE: `path` itself is never moved away: it is hard-linked (copied where the file system has
 * no hard links) to a temporary name, which is renamed over `previous`. So `path` stays complete
 * throughout, and `previous` is at every instant either its old content or a complete copy.
 */
async function keepAsPrevious(path: string, previous: string): Promise<void> {
  const staged = temporaryPath(previous);
  await rm(staged, { force: true });
  try {
    await link(path, staged);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    await copyFile(path, staged);
    await syncFile(staged);
  }
  await rename(staged, previous);
}

/**
 * Replaces `path` with `data`. With `previous`, the file being replaced is kept under that path
 * (an older `previous` is replaced), so the last two versions survive; `path` is never missing
 * meanwhile. Leave `previous` out when the current `path` is not worth keeping (damaged).
 */
export async function writeFileAtomic(path: string, data: Chunks, previous?: string): Promise<void> {
  const temporary = temporaryPath(path);
  await writeSynced(temporary, data);
  if (previous !== undefined) await keepAsPrevious(path, previous);
  await rename(temporary, path);
  await syncFolder(dirname(path));
}

/** Whether a process with this id is running (one we may not signal counts as running). */
function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

/**
 * Removes the `*.tmp-<pid>` files in `folder` that a process no longer running left behind (a
 * writer killed mid-write); with `base`, only those of `<base>.tmp-<pid>`. A running process's
 * files are kept: it may still be writing them. Returns the paths removed.
 */
export async function removeStaleTemporaries(folder: string, base?: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = TEMPORARY.exec(name);
    if (!match || (base !== undefined && match[1] !== base) || isRunning(Number(match[2]))) continue;
    const path = join(folder, name);
    await rm(path, { force: true });
    removed.push(path);
  }
  return removed;
}
