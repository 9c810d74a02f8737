/**
 * Crash-safe file replacement: write a temporary file beside the target, fsync it, then rename
 * it over the target (atomic on POSIX file systems), then fsync the folder so the rename itself
 * survives a power cut. A process killed at any point leaves either the old file or the new one,
 * never a mix; at worst a stray `*.tmp-<pid>` file.
 */
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

export type Chunks = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

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

/**
 * Replaces `path` with `data`. With `previous`, the file being replaced is first renamed to
 * that path (an older `previous` is overwritten), so the last two versions survive.
 */
export async function writeFileAtomic(path: string, data: Chunks, previous?: string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  const handle = await open(temporary, 'w');
  try {
    const chunks = data instanceof Uint8Array ? [data] : data;
    for await (const chunk of chunks) await handle.write(chunk);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  if (previous !== undefined) {
    try {
      await rename(path, previous);
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOENT') throw error;
    }
  }
  await rename(temporary, path);
  await syncFolder(dirname(path));
}
