/**
 * Reading what `nca eval` and `nca render` are given: a model file and an image (a target to
 * score against, or a start state). Every failure is an `InputError` with a stable code, or the
 * decoder's `NcaFormatError`, so the CLI can print one clear line and exit 2.
 */
import { readFile, stat } from 'node:fs/promises';
import sharp, { type OutputInfo } from 'sharp';
import { decodeModel } from '../../runtime/format/index.js';
import type { NcaModel } from '../../runtime/format/types.js';
import { stateFromImage, type CaState } from '../../runtime/reference/index.js';
import { describeFsError } from '../io/fs-errors.js';

export type InputErrorCode =
  /** The model or image path does not exist, is a directory or cannot be read. */
  | 'not-found'
  /** The file is larger than any .nca model could be. */
  | 'too-large'
  /** The image cannot be decoded by sharp, or has no pixels. */
  | 'not-image'
  /** Every pixel of the image is transparent (or near-white in an image without alpha). */
  | 'transparent'
  /** PSNR needs a target: no --target and the model embeds no start image. */
  | 'no-target';

export class InputError extends Error {
  readonly code: InputErrorCode;

  constructor(code: InputErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InputError';
    this.code = code;
  }
}

/** Larger than any valid file (8 layers of 1024x1024 f32 plus a 1024x1024 start image is ~21 MB). */
export const MAX_MODEL_BYTES = 64 * 1024 * 1024;

async function checkFile(path: string, what: string): Promise<number> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    return info.size;
  } catch (error) {
    throw new InputError('not-found', `cannot read ${what} '${path}': ${describeFsError(error)}`, { cause: error });
  }
}

/**
 * Reads and decodes a `.nca` file.
 * @throws InputError (not-found, too-large) or NcaFormatError (the decoder's code).
 */
export async function readModel(path: string): Promise<NcaModel> {
  const size = await checkFile(path, 'model');
  if (size > MAX_MODEL_BYTES) throw new InputError('too-large', `'${path}' is ${size} bytes, larger than any .nca model`);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new InputError('not-found', `cannot read model '${path}': ${describeFsError(error)}`, { cause: error });
  }
  return decodeModel(bytes);
}

export interface GridImage {
  /** The image on the model's grid: premultiplied colour and alpha, other channels 0. */
  readonly state: CaState;
  /** Size after fitting into the model's target size (before centring in the grid). */
  readonly width: number;
  readonly height: number;
  /** Whether the source had alpha (without it, near-white pixels became transparent). */
  readonly hadAlpha: boolean;
}

/**
 * Loads an image the way the trainer loads its target: fitted inside the model's target width x
 * height (Lanczos, aspect kept, small images enlarged), then placed in the centre of the model's
 * grid by the reference's `stateFromImage` (straight alpha premultiplied; without alpha, mean RGB
 * > 0.99 becomes transparent).
 * @throws InputError not-found | not-image | transparent
 */
export async function loadGridImage(path: string, model: NcaModel): Promise<GridImage> {
  const size = await checkFile(path, 'image');
  if (size === 0) throw new InputError('not-image', `image '${path}' is empty (0 bytes)`);
  const { architecture, metadata } = model;
  let raw: { data: Buffer; info: OutputInfo };
  let hadAlpha: boolean;
  try {
    const meta = await sharp(path).metadata();
    hadAlpha = meta.hasAlpha === true;
    raw = await sharp(path)
      .resize({ width: metadata.targetWidth, height: metadata.targetHeight, fit: 'inside', kernel: 'lanczos3' })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new InputError('not-image', `'${path}' is not an image sharp can read (${(error as Error).message})`, { cause: error });
  }
  const { width, height } = raw.info;
  const pixels = new Uint8Array(raw.data.buffer, raw.data.byteOffset, width * height * 4);
  const state = stateFromImage(architecture, metadata.gridWidth, metadata.gridHeight, pixels, width, height, { hasAlpha: hadAlpha });
  let visible = false;
  for (let i = architecture.alphaChannel; i < state.data.length; i += state.channels) {
    if (state.data[i]! > 0) {
      visible = true;
      break;
    }
  }
  if (!visible) {
    const why = hadAlpha ? 'every pixel is fully transparent' : 'every pixel is near-white and the image has no alpha';
    throw new InputError('transparent', `image '${path}' shows nothing: ${why}`);
  }
  return { state, width, height, hadAlpha };
}
