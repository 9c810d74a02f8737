/**
 * Where a sweep keeps what outlives a worker: the sprites, each job's run folder (checkpoints),
 * its model, summary, eval scores and result. Every worker and the sweep itself must see the same
 * store, so across machines it is a shared volume.
 *
 * The interface is deliberately small (files by key, plus a local workspace per job) so an object
 * store can be added later: its `workspace` would download the job's last files into a local
 * folder and `publish` would upload them after each checkpoint.
 */
import { access, mkdir, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { SweepError } from './errors.js';

export interface SweepStore {
  /** Where it is, for messages (a folder path). */
  readonly location: string;
  /**
   * A local folder for the job's files, holding what was last published for it (its checkpoints,
   * so a new worker resumes). Training writes into it.
   */
  workspace(jobId: string): Promise<string>;
  /** Makes the workspace's current files visible to every worker (after a checkpoint, at the end). */
  publish(jobId: string): Promise<void>;
  /** Copies a local file into the store under `key`. */
  putFile(key: string, from: string): Promise<void>;
  /** A local path holding the file stored under `key`. */
  localFile(key: string): Promise<string>;
  /** The text stored under `key`, or undefined when there is none. */
  readText(key: string): Promise<string | undefined>;
  /** Stores `text` under `key`, atomically: a reader sees the old text or the new, never a mix. */
  writeText(key: string, text: string): Promise<void>;
}

/** Whether `path` exists (any kind of file). */
export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** The store key of a job's folder. */
export function jobKey(jobId: string, file = ''): string {
  return file === '' ? `jobs/${jobId}` : `jobs/${jobId}/${file}`;
}

/** A store in a folder (local, or a volume every machine mounts: NFS, SMB, a cloud file share). */
export class DirectoryStore implements SweepStore {
  readonly location: string;

  constructor(root: string) {
    this.location = resolve(root);
  }

  private path(key: string): string {
    const clean = normalize(key);
    // Keys come from job data in Redis: a key must never reach outside the store.
    if (key === '' || isAbsolute(key) || clean === '..' || clean.startsWith(`..${sep}`)) {
      throw new SweepError('bad-store', `store key ${JSON.stringify(key)} is not a relative path inside the store`);
    }
    return join(this.location, clean);
  }

  async workspace(jobId: string): Promise<string> {
    const folder = this.path(jobKey(jobId));
    await mkdir(folder, { recursive: true });
    return folder;
  }

  async publish(_jobId: string): Promise<void> {
    // NOTE: the workspace is the store's own folder, so every atomic write in it is already published.
  }

  async putFile(key: string, from: string): Promise<void> {
    const to = this.path(key);
    // NOTE: sprites are stored by content hash, so an existing key already holds these bytes;
    // rewriting it could hand a worker reading it at that moment half a file.
    if (await exists(to)) return;
    await mkdir(dirname(to), { recursive: true });
    await writeFileAtomic(to, await readFile(from));
  }

  async localFile(key: string): Promise<string> {
    return this.path(key);
  }

  async readText(key: string): Promise<string | undefined> {
    try {
      return await readFile(this.path(key), 'utf8');
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async writeText(key: string, text: string): Promise<void> {
    const to = this.path(key);
    await mkdir(dirname(to), { recursive: true });
    await writeFileAtomic(to, new TextEncoder().encode(text));
  }
}
