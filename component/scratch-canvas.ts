/** A 2D context on a canvas of our own (offscreen where possible), for reading pixels back. */
export function scratch2d(width: number, height: number, purpose: string): OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D {
  const canvas: OffscreenCanvas | HTMLCanvasElement =
    typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(width, height) : Object.assign(document.createElement('canvas'), { width, height });
  const context = canvas.getContext('2d', { willReadFrequently: true }) as OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
  if (context === null) throw new Error(`no 2D canvas context ${purpose}`);
  return context;
}
