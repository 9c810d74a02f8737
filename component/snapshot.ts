/**
 * Copies of the element's canvas as pixels or an image file, made through a 2D canvas of our
 * own: the visible canvas may hold a WebGL context, whose pixels only a draw can read.
 */
import { scratch2d } from './scratch-canvas.js';

/** The canvas's pixels, one per cell. */
export function copyPixels(canvas: HTMLCanvasElement): ImageData {
  const context = scratch2d(canvas.width, canvas.height, 'for a snapshot');
  context.drawImage(canvas, 0, 0);
  return context.getImageData(0, 0, canvas.width, canvas.height);
}

/** `image` encoded as `type` (PNG by default, as `toBlob`). */
export async function encodeImage(image: ImageData, type: string): Promise<Blob | null> {
  if (typeof OffscreenCanvas === 'function') {
    const canvas = new OffscreenCanvas(image.width, image.height);
    canvas.getContext('2d')?.putImageData(image, 0, 0);
    return canvas.convertToBlob({ type });
  }
  const canvas = Object.assign(document.createElement('canvas'), { width: image.width, height: image.height });
  canvas.getContext('2d')?.putImageData(image, 0, 0);
  return new Promise((resolve) => canvas.toBlob(resolve, type));
}
