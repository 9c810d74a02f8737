/**
 * Frames to files with sharp: an animated GIF, or a PNG strip of frames side by side. Frames are
 * composited on a background (GIF has only on/off transparency) and scaled by an integer factor
 * with nearest-neighbour, so each cell stays a crisp square.
 */
import sharp from 'sharp';
import type { Frame } from './frames.js';

/**
 * An opaque colour, 'none' to keep the frames' own (straight) alpha, or 'checker': a light
 * checkerboard of 4 x 4-cell squares, so transparency shows (the training previews).
 */
export type Background = { readonly r: number; readonly g: number; readonly b: number } | 'none' | 'checker';

/** The checkerboard's two greys and its square size in cells. */
const CHECKER_LIGHT = 235;
const CHECKER_DARK = 205;
const CHECKER_SHIFT = 2;

export const WHITE: Background = { r: 255, g: 255, b: 255 };

const NAMED: Readonly<Record<string, Background>> = {
  white: WHITE,
  black: { r: 0, g: 0, b: 0 },
  none: 'none',
  transparent: 'none',
};

/** Parses `#rgb`, `#rrggbb`, white, black, or none/transparent; undefined if it is none of those. */
export function parseBackground(text: string): Background | undefined {
  const lower = text.trim().toLowerCase();
  if (Object.hasOwn(NAMED, lower)) return NAMED[lower];
  const short = /^#([0-9a-f])([0-9a-f])([0-9a-f])$/.exec(lower);
  if (short) return { r: parseInt(short[1]! + short[1]!, 16), g: parseInt(short[2]! + short[2]!, 16), b: parseInt(short[3]! + short[3]!, 16) };
  const long = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/.exec(lower);
  if (long) return { r: parseInt(long[1]!, 16), g: parseInt(long[2]!, 16), b: parseInt(long[3]!, 16) };
  return undefined;
}

export interface EncodeOptions {
  /** Integer pixel scale (nearest-neighbour), 1.. */
  readonly scale: number;
  readonly background: Background;
}

export interface StripOptions extends EncodeOptions {
  /** Cells between frames (scaled like the frames): white, or transparent with 'none'. Default 0. */
  readonly gap?: number;
}

export interface GifOptions extends EncodeOptions {
  /** Per-frame delay in ms; the last frame is held at least a second so the loop reads. */
  readonly delayMs: number;
}

/** Largest side sharp and the GIF format both accept. */
export const MAX_SIDE = 65_535;

/**
 * One frame composited on `background` (or kept straight-alpha for 'none') and scaled:
 * `channels` (3, or 4 for 'none') bytes per pixel, (width*scale) x (height*scale).
 * Compositing: out = a*colour + (1 - a)*background, a = A / 255, rounded.
 */
export function compositeAndScale(frame: Frame, options: EncodeOptions): { data: Uint8Array; channels: 3 | 4 } {
  const { width, height, rgba } = frame;
  const { scale, background } = options;
  const channels = background === 'none' ? 4 : 3;
  const pixel = new Uint8Array(channels);
  const outWidth = width * scale;
  const out = new Uint8Array(outWidth * height * scale * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      if (background === 'none') {
        pixel.set(rgba.subarray(i, i + 4));
      } else {
        const grey = ((x >> CHECKER_SHIFT) + (y >> CHECKER_SHIFT)) % 2 === 0 ? CHECKER_LIGHT : CHECKER_DARK;
        const { r, g, b } = background === 'checker' ? { r: grey, g: grey, b: grey } : background;
        const a = rgba[i + 3]! / 255;
        pixel[0] = Math.round(a * rgba[i]! + (1 - a) * r);
        pixel[1] = Math.round(a * rgba[i + 1]! + (1 - a) * g);
        pixel[2] = Math.round(a * rgba[i + 2]! + (1 - a) * b);
      }
      for (let sy = 0; sy < scale; sy++) {
        const row = (y * scale + sy) * outWidth;
        for (let sx = 0; sx < scale; sx++) out.set(pixel, (row + x * scale + sx) * channels);
      }
    }
  }
  return { data: out, channels };
}

function checkFrames(frames: readonly Frame[], scale: number): { width: number; height: number } {
  const first = frames[0];
  if (!first) throw new RangeError('no frames to encode');
  if (!Number.isInteger(scale) || scale < 1) throw new RangeError(`scale must be a positive integer, got ${scale}`);
  for (const f of frames) {
    if (f.width !== first.width || f.height !== first.height) throw new RangeError('frames differ in size');
  }
  return { width: first.width * scale, height: first.height * scale };
}

/** An animated GIF that loops forever, one page per frame (duplicates kept so timing holds). */
export async function encodeGif(frames: readonly Frame[], options: GifOptions): Promise<Buffer> {
  const { width, height } = checkFrames(frames, options.scale);
  if (width > MAX_SIDE || height > MAX_SIDE) throw new RangeError(`a ${width}x${height} frame is larger than a GIF allows (${MAX_SIDE})`);
  const pages = frames.map((f) => compositeAndScale(f, options));
  const channels = pages[0]!.channels;
  const all = Buffer.concat(pages.map((p) => p.data));
  const delay = frames.map((_, i) => (i === frames.length - 1 ? Math.max(options.delayMs, 1000) : options.delayMs));
  return sharp(all, { raw: { width, height: height * frames.length, channels, pageHeight: height } })
    .gif({ delay, loop: 0, keepDuplicateFrames: true })
    .toBuffer();
}

/** A PNG with the frames side by side, left to right in step order. */
export async function encodePngStrip(frames: readonly Frame[], options: StripOptions): Promise<Buffer> {
  const { width, height } = checkFrames(frames, options.scale);
  const gap = (options.gap ?? 0) * options.scale;
  if (!Number.isInteger(gap) || gap < 0) throw new RangeError(`gap must be an integer >= 0, got ${options.gap}`);
  const stripWidth = (width + gap) * frames.length - gap;
  if (stripWidth > 10_000_000) throw new RangeError(`a strip ${stripWidth} pixels wide is too wide; use a larger --every or a smaller --scale`);
  const pages = frames.map((f) => compositeAndScale(f, options));
  const channels = pages[0]!.channels;
  const strip = Buffer.alloc(stripWidth * height * channels, channels === 3 ? 255 : 0);
  const rowBytes = width * channels;
  pages.forEach((page, i) => {
    for (let y = 0; y < height; y++) {
      strip.set(page.data.subarray(y * rowBytes, (y + 1) * rowBytes), (y * stripWidth + i * (width + gap)) * channels);
    }
  });
  return sharp(strip, { raw: { width: stripWidth, height, channels } }).png().toBuffer();
}
