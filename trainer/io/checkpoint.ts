/**
 * Training checkpoints: everything a resumed run needs to continue exactly where it stopped
 * (weights, Adam moments, the RNG state, the curriculum, the sample pool, the loss history and the
 * target's pixels).
 *
 * Layout (little-endian):
 *   8 bytes  magic "NCA-CKPT"
 *   u32      version (1)
 *   u32      header length H
 *   H bytes  header, UTF-8 JSON (`CheckpointHeader`)
 *   0-3      zero bytes up to a multiple of 4
 *   ...      blobs (float32 arrays and the RGBA8 target) at the offsets the header lists
 *   32 bytes SHA-256 of every byte before it
 *
 * Written atomically (see `atomic.ts`) as `checkpoint.bin`, the one before kept as
 * `checkpoint.prev.bin`; a damaged latest file falls back to the previous one. A save never
 * leaves neither loadable: the latest is kept as the previous one only when it is itself good
 * (otherwise the good previous one stays), and it is linked there, never moved away.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { headerProblem, shapeProblem } from './checkpoint-shape.js';
import type { RunIdentity, TrainOptions } from '../training/config.js';
import type { CurriculumState } from '../training/curriculum.js';
import { TrainerError } from '../errors.js';
import type { RngState } from '../training/rng.js';

const MAGIC = new TextEncoder().encode('NCA-CKPT');
const VERSION = 1;
const PREFIX_BYTES = 16;
const DIGEST_BYTES = 32;

export const CHECKPOINT_FILE = 'checkpoint.bin';
export const PREVIOUS_CHECKPOINT_FILE = 'checkpoint.prev.bin';

export interface Checkpoint {
  readonly identity: RunIdentity;
  /** The options the run was started (or last resumed) with. */
  readonly options: TrainOptions;
  /** Completed iterations. */
  readonly iteration: number;
  readonly rng: RngState;
  readonly curriculum: CurriculumState;
  /** Per completed iteration: its loss and curriculum level. */
  readonly losses: readonly number[];
  readonly levels: readonly number[];
  /** The first iteration's loss (the divergence guard's reference). */
  readonly firstLoss: number | null;
  /** Seconds of training so far. */
  readonly seconds: number;
  readonly adamStep: number;
  readonly weights: readonly Float32Array[];
  readonly adamM: readonly Float32Array[];
  readonly adamV: readonly Float32Array[];
  /** Pool slots (null: a fresh start). Empty without a pool. */
  readonly pool: readonly (Float32Array | null)[];
  readonly target: { readonly width: number; readonly height: number; readonly rgba: Uint8Array };
  /** Recoveries so far and the learning-rate multiplier they left (absent in older files: 0 and 1). */
  readonly recoveries?: number;
  readonly learningRateScale?: number;
  /** The iteration a --minutes run's rate decayed at (optimizer.ts), absent until it has. */
  readonly budgetDecayAt?: number;
}

interface BlobRef {
  readonly offset: number;
  readonly length: number;
}

type CheckpointHeader = Omit<Checkpoint, 'weights' | 'adamM' | 'adamV' | 'pool' | 'target'> & {
  readonly blobs: {
    readonly weights: BlobRef[];
    readonly adamM: BlobRef[];
    readonly adamV: BlobRef[];
    readonly pool: (BlobRef | null)[];
    readonly target: BlobRef & { readonly width: number; readonly height: number };
  };
};

function bytesOf(array: Float32Array | Uint8Array): Uint8Array {
  // NOTE: float32 blobs are stored in the platform's byte order: little-endian on every
  // platform this runs on (x86-64, arm64), as the layout above says.
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** The checkpoint as a list of chunks (no copy of the large arrays) ending with the digest. */
export function encodeCheckpoint(checkpoint: Checkpoint): Uint8Array[] {
  const blobs: Uint8Array[] = [];
  let offset = 0;
  const add = (array: Float32Array | Uint8Array): BlobRef => {
    const bytes = bytesOf(array);
    const ref = { offset, length: bytes.byteLength };
    blobs.push(bytes);
    const padding = (4 - (bytes.byteLength % 4)) % 4;
    if (padding > 0) blobs.push(new Uint8Array(padding));
    offset += bytes.byteLength + padding;
    return ref;
  };
  const { weights, adamM, adamV, pool, target, ...rest } = checkpoint;
  const header: CheckpointHeader = {
    ...rest,
    blobs: {
      weights: weights.map(add),
      adamM: adamM.map(add),
      adamV: adamV.map(add),
      pool: pool.map((slot) => (slot ? add(slot) : null)),
      target: { ...add(target.rgba), width: target.width, height: target.height },
    },
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerPadding = (4 - ((PREFIX_BYTES + json.byteLength) % 4)) % 4;
  const prefix = new Uint8Array(PREFIX_BYTES);
  prefix.set(MAGIC, 0);
  const view = new DataView(prefix.buffer);
  view.setUint32(8, VERSION, true);
  view.setUint32(12, json.byteLength, true);
  const chunks = [prefix, json, new Uint8Array(headerPadding), ...blobs];
  // NOTE: hashed chunk by chunk so a large pool is never copied into one buffer.
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  return [...chunks, new Uint8Array(hash.digest())];
}

function damaged(path: string, why: string): TrainerError {
  return new TrainerError('bad-checkpoint', `checkpoint ${path} is damaged: ${why}`);
}

/** Parses and verifies checkpoint bytes (magic, version, CRC, every blob within bounds). */
export function decodeCheckpoint(bytes: Uint8Array, path = '(in memory)'): Checkpoint {
  if (bytes.byteLength < PREFIX_BYTES + DIGEST_BYTES) throw damaged(path, `only ${bytes.byteLength} bytes`);
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw damaged(path, 'not a checkpoint (wrong magic bytes)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== VERSION) throw damaged(path, `version ${version}, this trainer reads ${VERSION}`);
  const end = bytes.byteLength - DIGEST_BYTES;
  const digest = createHash('sha256').update(bytes.subarray(0, end)).digest();
  if (!digest.equals(bytes.subarray(end))) throw damaged(path, 'checksum mismatch (truncated or modified)');
  const headerLength = view.getUint32(12, true);
  if (PREFIX_BYTES + headerLength > end) throw damaged(path, 'header runs past the end');
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength)));
  } catch (error) {
    throw damaged(path, `header is not JSON (${(error as Error).message})`);
  }
  const problem = headerProblem(parsed);
  if (problem !== null) throw damaged(path, problem);
  const header = parsed as CheckpointHeader;
  const payload = PREFIX_BYTES + headerLength + ((4 - ((PREFIX_BYTES + headerLength) % 4)) % 4);
  const slice = (ref: BlobRef): Uint8Array => {
    const start = payload + ref.offset;
    if (!(Number.isInteger(ref.offset) && Number.isInteger(ref.length) && ref.offset >= 0 && ref.length >= 0 && start + ref.length <= end)) {
      throw damaged(path, 'a blob lies outside the file');
    }
    // A copy as a plain Uint8Array (a Buffer's slice would be a Buffer sharing memory).
    return new Uint8Array(bytes.subarray(start, start + ref.length));
  };
  const floats = (ref: BlobRef): Float32Array => {
    if (ref.length % 4 !== 0) throw damaged(path, 'a float32 blob has a length that is not a multiple of 4');
    const copy = slice(ref);
    return new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4);
  };
  const { blobs, ...rest } = header;
  return {
    ...rest,
    weights: blobs.weights.map(floats),
    adamM: blobs.adamM.map(floats),
    adamV: blobs.adamV.map(floats),
    pool: blobs.pool.map((ref) => (ref ? floats(ref) : null)),
    target: { width: blobs.target.width, height: blobs.target.height, rgba: slice(blobs.target) },
  };
}

/**
 * What the caller knows of the `checkpoint.bin` a save replaces: `good` (this run loaded or
 * wrote it), `unusable` (a resume fell back past it, or there is none), or `unknown` (read and
 * verified before deciding).
 */
export type LatestCheckpoint = 'good' | 'unusable' | 'unknown';

/**
 * Writes `checkpoint` into `runDir` atomically. A good current `checkpoint.bin` becomes
 * `checkpoint.prev.bin`; an unusable one is simply replaced, so a good previous file is never
 * overwritten by a damaged one. At every instant at least one of the two files is loadable.
 */
export async function saveCheckpoint(runDir: string, checkpoint: Checkpoint, latest: LatestCheckpoint = 'unknown'): Promise<string> {
  const path = join(runDir, CHECKPOINT_FILE);
  let keep = latest === 'good';
  if (latest === 'unknown') keep = await readCheckpoint(path).then(() => true, () => false);
  await writeFileAtomic(path, encodeCheckpoint(checkpoint), keep ? join(runDir, PREVIOUS_CHECKPOINT_FILE) : undefined);
  return path;
}

export interface LoadedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly path: string;
  /** Set when the latest checkpoint was unreadable and the previous one was used instead. */
  readonly fallbackReason?: string;
}

async function readCheckpoint(path: string): Promise<Checkpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const missing = (error as { code?: string }).code === 'ENOENT';
    throw new TrainerError(missing ? 'no-checkpoint' : 'bad-checkpoint', `checkpoint ${path} ${missing ? 'does not exist' : `cannot be read (${(error as Error).message})`}`);
  }
  let checkpoint: Checkpoint;
  try {
    checkpoint = decodeCheckpoint(bytes, path);
  } catch (error) {
    // NOTE: whatever decoding throws means this file is unusable: the fallback must still run.
    if (error instanceof TrainerError) throw error;
    throw new TrainerError('bad-checkpoint', `checkpoint ${path} is damaged: ${(error as Error).message}`, { cause: error });
  }
  const problem = shapeProblem(checkpoint);
  if (problem !== null) throw damaged(path, problem);
  return checkpoint;
}

/**
 * The latest readable checkpoint of `runDir`: `checkpoint.bin`, or, if that is missing or
 * damaged, `checkpoint.prev.bin` with the reason the latest was skipped.
 * @throws TrainerError no-checkpoint when neither exists, bad-checkpoint when neither is readable.
 */
export async function loadCheckpoint(runDir: string): Promise<LoadedCheckpoint> {
  const latest = join(runDir, CHECKPOINT_FILE);
  const previous = join(runDir, PREVIOUS_CHECKPOINT_FILE);
  let latestError: TrainerError;
  try {
    return { checkpoint: await readCheckpoint(latest), path: latest };
  } catch (error) {
    if (!(error instanceof TrainerError)) throw error;
    latestError = error;
  }
  try {
    const checkpoint = await readCheckpoint(previous);
    return { checkpoint, path: previous, fallbackReason: latestError.message };
  } catch (error) {
    if (!(error instanceof TrainerError)) throw error;
    if (latestError.code === 'no-checkpoint' && error.code === 'no-checkpoint') {
      throw new TrainerError('no-checkpoint', `no checkpoint to resume in ${runDir} (looked for ${CHECKPOINT_FILE} and ${PREVIOUS_CHECKPOINT_FILE})`);
    }
    throw new TrainerError('bad-checkpoint', `no usable checkpoint in ${runDir}: ${latestError.message}; ${error.message}`);
  }
}
