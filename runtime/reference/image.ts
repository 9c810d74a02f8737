import type { Architecture } from '../format/types.js';
import { checkState, createState, type CaState } from './state.js';

export interface ImageImportOptions {
  /** False for images without alpha (JPEG): near-white pixels become transparent. Default true. */
  readonly hasAlpha?: boolean;
  /** True if R, G, B are already multiplied by A (the STRT chunk). Default false (straight). */
  readonly premultiplied?: boolean;
}

/** Mean RGB above this fraction of 255 counts as background in an image without alpha. */
const NEAR_WHITE = 0.99;

/**
 * The colour channels: 0, 1, 2 for red, green, blue, but only those below the alpha channel (the
 * seed's convention: channels below alpha are colour). With the usual alpha channel 3 that is all
 * three.
 */
function colourChannelCount(arch: Architecture): number {
  return Math.min(3, arch.alphaChannel);
}

/**
 * A W x H state holding an RGBA8 image (4 bytes per pixel, row-major, `imageWidth*imageHeight*4`
 * bytes), centred: image pixel (i, j) lands on cell (i + floor((W-w)/2), j + floor((H-h)/2));
 * parts outside the grid are cropped, cells outside the image stay 0.
 *
 * Colour channels (0..2, those below the alpha channel) get the premultiplied colour / 255, the
 * alpha channel A / 255, every other channel 0. Straight alpha (the default) is premultiplied
 * here, in doubles, then stored as float32. With `hasAlpha: false` the fourth byte is ignored:
 * a pixel whose mean RGB / 255 exceeds 0.99 becomes fully transparent (all zero), any other pixel
 * opaque (alpha 1, colour RGB / 255).
 * @throws RangeError if the sizes are not positive integers or `rgba` has the wrong length.
 */
export function stateFromImage(
  arch: Architecture,
  width: number,
  height: number,
  rgba: Uint8Array | Uint8ClampedArray,
  imageWidth: number,
  imageHeight: number,
  options: ImageImportOptions = {},
): CaState {
  if (!Number.isInteger(imageWidth) || imageWidth < 1 || !Number.isInteger(imageHeight) || imageHeight < 1) {
    throw new RangeError(`image size must be positive integers, got ${imageWidth}x${imageHeight}`);
  }
  if (rgba.length !== imageWidth * imageHeight * 4) {
    throw new RangeError(`RGBA image of ${imageWidth}x${imageHeight} needs ${imageWidth * imageHeight * 4} bytes, got ${rgba.length}`);
  }
  const { hasAlpha = true, premultiplied = false } = options;
  const state = createState(width, height, arch.channels);
  const colours = colourChannelCount(arch);
  const offsetX = Math.floor((width - imageWidth) / 2);
  const offsetY = Math.floor((height - imageHeight) / 2);
  for (let y = Math.max(0, offsetY); y < Math.min(height, offsetY + imageHeight); y++) {
    for (let x = Math.max(0, offsetX); x < Math.min(width, offsetX + imageWidth); x++) {
      const pixel = ((y - offsetY) * imageWidth + (x - offsetX)) * 4;
      const rgb = [rgba[pixel]!, rgba[pixel + 1]!, rgba[pixel + 2]!];
      let alpha: number;
      if (!hasAlpha) {
        alpha = (rgb[0]! + rgb[1]! + rgb[2]!) / (3 * 255) > NEAR_WHITE ? 0 : 1;
      } else {
        alpha = rgba[pixel + 3]! / 255;
      }
      const base = (y * width + x) * arch.channels;
      state.data[base + arch.alphaChannel] = alpha;
      if (alpha === 0) continue;
      for (let c = 0; c < colours; c++) {
        const value = rgb[c]! / 255;
        state.data[base + c] = hasAlpha && !premultiplied ? value * alpha : value;
      }
    }
  }
  return state;
}

function toByte(unit: number): number {
  return Math.round(Math.min(1, Math.max(0, unit)) * 255);
}

/**
 * The state as straight-alpha RGBA8 for display, W*H*4 bytes: A = round(clamp(alpha, 0, 1)*255),
 * colour = round(clamp(channel / clamp(alpha, 0, 1), 0, 1) * 255) (un-premultiplied; missing
 * colour channels read 0). A dead cell (alpha <= 0 or NaN) is 0, 0, 0, 0. Inverse of
 * `stateFromImage` for straight-alpha images, byte for byte wherever A > 0.
 */
export function toRgba(state: CaState, arch: Architecture): Uint8ClampedArray {
  checkState(state, arch.channels);
  const { width, height, channels, data } = state;
  const colours = colourChannelCount(arch);
  const out = new Uint8ClampedArray(width * height * 4);
  for (let cell = 0; cell < width * height; cell++) {
    const base = cell * channels;
    const alpha = data[base + arch.alphaChannel]!;
    if (!(alpha > 0)) continue;
    const coverage = Math.min(1, alpha);
    for (let c = 0; c < colours; c++) out[cell * 4 + c] = toByte(data[base + c]! / coverage);
    out[cell * 4 + 3] = toByte(alpha);
  }
  return out;
}
