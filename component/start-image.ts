/**
 * Loads the image named by `start="url"` and turns it into straight-alpha RGBA8 that
 * `engine.setStateFromImage` takes. An image larger than the grid is scaled down to fit (keeping
 * its aspect); a smaller one is kept at its size and centred by the engine.
 */
import type { GridSize } from './attributes.js';
import { fetchBytes, stage } from './model-loader.js';
import { scratch2d } from './scratch-canvas.js';

export interface RgbaImage {
  readonly rgba: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

type Drawable = ImageBitmap | HTMLImageElement;

async function decodeImage(bytes: Uint8Array, type: string): Promise<{ source: Drawable; width: number; height: number; release: () => void }> {
  const blob = new Blob([bytes as BlobPart], type ? { type } : {});
  try {
    const bitmap = await createImageBitmap(blob);
    return { source: bitmap, width: bitmap.width, height: bitmap.height, release: () => bitmap.close() };
  } catch (bitmapError) {
    // NOTE: Chromium's createImageBitmap rejects SVG blobs; an <img> decodes them.
    if (typeof Image === 'undefined') throw bitmapError;
    const url = URL.createObjectURL(blob);
    try {
      const img = new Image();
      img.src = url;
      await img.decode();
      return { source: img, width: img.naturalWidth, height: img.naturalHeight, release: () => undefined };
    } catch {
      throw bitmapError;
    } finally {
      URL.revokeObjectURL(url);
    }
  }
}

/**
 * Fetches and decodes an image (fetch failures reject as `LoadFailure` type `load`, undecodable
 * bytes as type `format`), scaled to fit inside `fit` cells.
 */
export async function loadStartImage(url: string, fit: GridSize, signal: AbortSignal): Promise<RgbaImage> {
  const bytes = await stage('load', () => fetchBytes(url, signal));
  return stage('format', async () => {
    const type = /\.svg(?:[?#]|$)/i.test(url) ? 'image/svg+xml' : '';
    const image = await decodeImage(bytes, type);
    try {
      if (!(image.width > 0 && image.height > 0)) throw new Error(`${url} decodes to an empty image`);
      const scale = Math.min(1, fit.width / image.width, fit.height / image.height);
      const width = Math.max(1, Math.round(image.width * scale));
      const height = Math.max(1, Math.round(image.height * scale));
      const context = scratch2d(width, height, 'to read the start image');
      context.drawImage(image.source, 0, 0, width, height);
      // getImageData returns straight (un-premultiplied) alpha, as setStateFromImage expects.
      return { rgba: context.getImageData(0, 0, width, height).data, width, height };
    } finally {
      image.release();
    }
  });
}
