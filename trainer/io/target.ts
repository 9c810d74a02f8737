/**
 * The target image: read with sharp, resized to fit the target size (aspect kept), turned into
 * premultiplied RGBA8, the exact bytes a persistence or healing model embeds as its start
 * (the STRT chunk). Every bad input fails here, before any training starts.
 */
import { open, stat } from 'node:fs/promises';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { crc32 } from '../../runtime/format/index.js';
import type { Architecture } from '../../runtime/format/types.js';
import { aliveThreshold32, isAllDead, stateFromImage, type CaState } from '../../runtime/reference/index.js';
import { TrainerError } from '../errors.js';
import { errorCode } from './fs-errors.js';

export interface TargetImage {
  readonly width: number;
  readonly height: number;
  /** Premultiplied RGBA8, row-major, width*height*4 bytes (each of R, G, B <= A). */
  readonly rgba: Uint8Array;
  /** Whether the source had an alpha channel (without one, near-white became transparent). */
  readonly sourceHadAlpha: boolean;
  /** CRC-32 of `rgba`: identifies the target on resume. */
  readonly crc: number;
  /** What loaded but may not train well (a tiny source enlarged many times), for the run to report. */
  readonly warnings: readonly string[];
}

/** Premultiplied RGBA8 from a state's first four channels (colour below alpha 3, then alpha). */
function premultipliedBytes(state: CaState, alphaChannel: number): Uint8Array {
  const cells = state.width * state.height;
  const out = new Uint8Array(cells * 4);
  for (let cell = 0; cell < cells; cell++) {
    const base = cell * state.channels;
    const alpha = Math.round(Math.min(1, Math.max(0, state.data[base + alphaChannel]!)) * 255);
    out[cell * 4 + 3] = alpha;
    for (let c = 0; c < Math.min(3, alphaChannel); c++) {
      // NOTE: clamp to alpha so rounding can never produce colour > alpha (invalid in STRT).
      out[cell * 4 + c] = Math.min(alpha, Math.round(Math.min(1, Math.max(0, state.data[base + c]!)) * 255));
    }
  }
  return out;
}

/**
 * The most pixels (width x height, as the file's header declares them) a target may have: 4096 x
 * 4096. A sprite is fitted into at most 1024 x 1024 cells, so anything larger only costs memory;
 * the cap is checked on the header, before a pixel is decoded, and passed to sharp so a decode
 * never allocates more.
 */
export const MAX_TARGET_PIXELS = 4096 * 4096;

/** A source enlarged more than this many times is warned about (its shape is mostly guessed). */
export const MAX_ENLARGEMENT = 4;

/** The image format `head` (a file's first bytes) announces, for an error message, or null. */
function announcedFormat(head: Uint8Array): string | null {
  const starts = (...bytes: number[]): boolean => bytes.every((b, i) => head[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'PNG';
  if (starts(0xff, 0xd8, 0xff)) return 'JPEG';
  if (starts(0x47, 0x49, 0x46, 0x38)) return 'GIF';
  if (starts(0x52, 0x49, 0x46, 0x46) && new TextDecoder().decode(head.subarray(8, 12)) === 'WEBP') return 'WebP';
  return null;
}

async function fileHead(path: string): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const head = new Uint8Array(12);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The error for a file sharp failed on: too large, damaged (a known format's start) or not an image. */
function decodeError(path: string, head: Uint8Array, error: unknown): TrainerError {
  const message = (error as Error).message;
  if (/pixel limit/i.test(message)) {
    return new TrainerError('target-too-large', `target image ${path} has more than ${MAX_TARGET_PIXELS} pixels (the limit, 4096 x 4096): ${message}`, { cause: error });
  }
  const format = announcedFormat(head);
  if (format !== null) {
    return new TrainerError('target-corrupt', `target image ${path} starts like a ${format} but is damaged and cannot be decoded (${message})`, { cause: error });
  }
  return new TrainerError('target-not-image', `target ${path} is not an image sharp can read (${message})`, { cause: error });
}

/**
 * Loads `path` and fits it into `size` x `size` pixels (Lanczos resampling, aspect kept, small
 * images enlarged). Images with alpha keep it; images without (JPEG, RGB PNG) get the
 * reference's rule: a pixel whose mean RGB exceeds 0.99 becomes transparent, any other opaque.
 * Colour is premultiplied by alpha. A source enlarged more than `MAX_ENLARGEMENT` times (a 1 x 1
 * image) loads with a warning in `warnings`.
 * @throws TrainerError target-missing | target-not-file | target-empty | target-too-large |
 *   target-not-image | target-corrupt | target-transparent
 */
export async function loadTarget(path: string, size: number, arch: Architecture): Promise<TargetImage> {
  let bytes: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) {
      const what = info.isDirectory() ? 'a folder' : 'not a regular file';
      throw new TrainerError('target-not-file', `target ${path} is ${what}; --target needs an image file`);
    }
    bytes = info.size;
  } catch (error) {
    if (error instanceof TrainerError) throw error;
    const reason = errorCode(error) === 'ENOENT' ? 'does not exist' : `cannot be read (${(error as Error).message})`;
    throw new TrainerError('target-missing', `target image ${path} ${reason}`, { cause: error });
  }
  if (bytes === 0) throw new TrainerError('target-empty', `target image ${path} is empty (0 bytes)`);
  let head: Uint8Array;
  try {
    head = await fileHead(path);
  } catch (error) {
    throw new TrainerError('target-missing', `target image ${path} cannot be read (${(error as Error).message})`, { cause: error });
  }

  let metadata: Metadata;
  try {
    // NOTE: no pixel limit (sharp's own is 16383 x 16383) for reading the header, which decodes
    // no pixels: its numbers make a better message than sharp's limit error.
    metadata = await sharp(path, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw decodeError(path, head, error);
  }
  if (!metadata.width || !metadata.height) {
    throw new TrainerError('target-empty', `target image ${path} has no pixels (${metadata.width ?? 0}x${metadata.height ?? 0})`);
  }
  // NOTE: checked here on the header's numbers, so the message names them before any decoding.
  if (metadata.width * metadata.height > MAX_TARGET_PIXELS) {
    throw new TrainerError(
      'target-too-large',
      `target image ${path} is ${metadata.width}x${metadata.height} pixels, more than the limit of ${MAX_TARGET_PIXELS} (4096 x 4096); it is fitted into ${size}x${size} cells anyway, so scale it down first`,
    );
  }
  const hasAlpha = metadata.hasAlpha === true;
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await sharp(path, { limitInputPixels: MAX_TARGET_PIXELS })
      .resize({ width: size, height: size, fit: 'inside', kernel: 'lanczos3' })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw decodeError(path, head, error);
  }
  const { width, height } = raw.info;
  const pixels = new Uint8Array(raw.data.buffer, raw.data.byteOffset, width * height * 4);
  // The reference's import rule (straight alpha premultiplied in doubles, or near-white keyed
  // out) so the trainer and a page importing the same picture agree.
  const state = stateFromImage(arch, width, height, pixels, width, height, { hasAlpha });
  const rgba = premultipliedBytes(state, arch.alphaChannel);
  let opaque = false;
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i]! > 0) opaque = true;
  if (!opaque) {
    const why = hasAlpha ? 'every pixel is fully transparent' : 'every pixel is near-white (background) and the image has no alpha';
    throw new TrainerError('target-transparent', `target image ${path} has nothing to grow: ${why}`);
  }
  // NOTE: under max-pool (the Distill rule) a grid with no alpha above the threshold is zeroed by
  // its first step, so such a target can never be held; own alpha can still bring cells back.
  if (arch.aliveMode === 'max-pool' && aliveThreshold32(arch) >= 0 && isAllDead(state, arch)) {
    throw new TrainerError(
      'target-transparent',
      `target image ${path} has nothing to grow: no pixel's alpha exceeds the alive threshold ${arch.aliveThreshold}, so every cell of it would die at the first step`,
    );
  }
  const warnings: string[] = [];
  const enlargement = Math.min(width / metadata.width, height / metadata.height);
  if (enlargement > MAX_ENLARGEMENT) {
    warnings.push(
      `target image ${path} is only ${metadata.width}x${metadata.height} pixels, enlarged ${Math.round(enlargement)} times to ${width}x${height}: ` +
        'the model learns a blurred block; use a larger image or a smaller --size',
    );
  }
  return { width, height, rgba, sourceHadAlpha: hasAlpha, crc: crc32(rgba), warnings };
}
