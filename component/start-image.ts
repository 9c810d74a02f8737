/**
 * Loads the image named by `start="url"` and turns it into straight-alpha RGBA8 that
 * `engine.setStateFromImage` takes. An image larger than the grid is scaled down to fit (keeping
 * its aspect); a smaller one is kept at its size and centred by the engine.
 *
 * NOTE: a small file can decode to a huge bitmap, so a raster image's size is read from its
 * header first (image-size.ts) and refused over MAX_START_IMAGE_PIXELS, and it is decoded straight
 * to the size the grid needs (`createImageBitmap`'s resize options), never at full size and then
 * scaled. An SVG is rasterised only at the size it is drawn.
 */
import type { GridSize } from './attributes.js';
import { DEFAULT_FETCH_LIMITS, fetchLimited, NcaTooLargeError, type FetchLimits } from './fetch-limits.js';
import { imageSize } from './image-size.js';
import { stage } from './model-loader.js';
import { scratch2d } from './scratch-canvas.js';

/** Most pixels a start image may declare (4096 x 4096, the trainer's target cap). */
export const MAX_START_IMAGE_PIXELS = 4096 * 4096;

export interface RgbaImage {
  readonly rgba: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

interface Decoded {
  readonly source: CanvasImageSource;
  readonly width: number;
  readonly height: number;
  readonly release: () => void;
}

/** The size that fits inside `fit` cells, keeping the aspect; never enlarged. */
function fitted(width: number, height: number, fit: GridSize): { width: number; height: number } {
  const scale = Math.min(1, fit.width / width, fit.height / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

async function decodeRaster(url: string, bytes: Uint8Array, fit: GridSize): Promise<Decoded> {
  const size = imageSize(bytes);
  if (size === undefined) throw new Error(`${url} is not a PNG, JPEG, GIF, WebP, BMP, AVIF or SVG image`);
  const pixels = size.width * size.height;
  if (pixels > MAX_START_IMAGE_PIXELS) throw new NcaTooLargeError(url, 'pixels', MAX_START_IMAGE_PIXELS, pixels, `is ${size.width}x${size.height} =`);
  if (pixels === 0) throw new Error(`${url} decodes to an empty image`);
  const target = fitted(size.width, size.height, fit);
  const resize = target.width < size.width || target.height < size.height ? { resizeWidth: target.width, resizeHeight: target.height, resizeQuality: 'high' as const } : {};
  const bitmap = await createImageBitmap(new Blob([bytes as BlobPart]), resize);
  return { source: bitmap, width: bitmap.width, height: bitmap.height, release: () => bitmap.close() };
}

/** An `.svg` URL, or text with an `<svg` tag near its start where no raster header is. */
function looksLikeSvg(url: string, bytes: Uint8Array): boolean {
  if (/\.svg(?:[?#]|$)/i.test(url)) return true;
  return imageSize(bytes) === undefined && new TextDecoder().decode(bytes.subarray(0, 1024)).includes('<svg');
}

async function decodeSvg(bytes: Uint8Array): Promise<Decoded> {
  // NOTE: Chromium's createImageBitmap rejects SVG blobs; an <img> decodes them.
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return { source: img, width: img.naturalWidth, height: img.naturalHeight, release: () => undefined };
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * Fetches and decodes an image, scaled to fit inside `fit` cells. Rejects as `LoadFailure`: type
 * `load` (fetch failures), `too-large` (over `limits.maxBytes` or MAX_START_IMAGE_PIXELS),
 * `timeout`, or `format` (not an image).
 */
export async function loadStartImage(url: string, fit: GridSize, signal: AbortSignal, limits: FetchLimits = DEFAULT_FETCH_LIMITS): Promise<RgbaImage> {
  const bytes = await stage('load', () => fetchLimited(url, signal, limits));
  return stage('format', async () => {
    const image = looksLikeSvg(url, bytes) ? await decodeSvg(bytes) : await decodeRaster(url, bytes, fit);
    try {
      if (!(image.width > 0 && image.height > 0)) throw new Error(`${url} decodes to an empty image`);
      const { width, height } = fitted(image.width, image.height, fit);
      const context = scratch2d(width, height, 'to read the start image');
      context.drawImage(image.source, 0, 0, width, height);
      // getImageData returns straight (un-premultiplied) alpha, as setStateFromImage expects.
      return { rgba: context.getImageData(0, 0, width, height).data, width, height };
    } finally {
      image.release();
    }
  });
}
