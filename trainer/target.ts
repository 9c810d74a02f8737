/**
 * The target image: read with sharp, resized to fit the target size (aspect kept), turned into
 * premultiplied RGBA8, the exact bytes a persistence or healing model embeds as its start
 * (the STRT chunk). Every bad input fails here, before any training starts.
 */
import { stat } from 'node:fs/promises';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { crc32 } from '../runtime/format/index.js';
import type { Architecture } from '../runtime/format/types.js';
import { stateFromImage, type CaState } from '../runtime/reference/index.js';
import { TrainerError } from './errors.js';

export interface TargetImage {
  readonly width: number;
  readonly height: number;
  /** Premultiplied RGBA8, row-major, width*height*4 bytes (each of R, G, B <= A). */
  readonly rgba: Uint8Array;
  /** Whether the source had an alpha channel (without one, near-white became transparent). */
  readonly sourceHadAlpha: boolean;
  /** CRC-32 of `rgba`: identifies the target on resume. */
  readonly crc: number;
}

function errorCode(error: unknown): string | undefined {
  return (error as { code?: string } | null)?.code;
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
 * Loads `path` and fits it into `size` x `size` pixels (Lanczos resampling, aspect kept, small
 * images enlarged). Images with alpha keep it; images without (JPEG, RGB PNG) get the
 * reference's rule: a pixel whose mean RGB exceeds 0.99 becomes transparent, any other opaque.
 * Colour is premultiplied by alpha.
 * @throws TrainerError target-missing | target-empty | target-not-image | target-transparent
 */
export async function loadTarget(path: string, size: number, arch: Architecture): Promise<TargetImage> {
  let bytes: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new TrainerError('target-missing', `target ${path} is not a file`);
    bytes = info.size;
  } catch (error) {
    if (error instanceof TrainerError) throw error;
    const reason = errorCode(error) === 'ENOENT' ? 'does not exist' : `cannot be read (${(error as Error).message})`;
    throw new TrainerError('target-missing', `target image ${path} ${reason}`, { cause: error });
  }
  if (bytes === 0) throw new TrainerError('target-empty', `target image ${path} is empty (0 bytes)`);

  let metadata: Metadata;
  try {
    metadata = await sharp(path).metadata();
  } catch (error) {
    throw new TrainerError('target-not-image', `target ${path} is not an image sharp can read (${(error as Error).message})`, { cause: error });
  }
  if (!metadata.width || !metadata.height) {
    throw new TrainerError('target-empty', `target image ${path} has no pixels (${metadata.width ?? 0}x${metadata.height ?? 0})`);
  }
  const hasAlpha = metadata.hasAlpha === true;
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await sharp(path)
      .resize({ width: size, height: size, fit: 'inside', kernel: 'lanczos3' })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new TrainerError('target-not-image', `target ${path} could not be decoded (${(error as Error).message})`, { cause: error });
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
  return { width, height, rgba, sourceHadAlpha: hasAlpha, crc: crc32(rgba) };
}
