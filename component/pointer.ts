/**
 * Maps a pointer position to CA cell coordinates. Pure (no DOM) so it is unit-tested in Node.
 *
 * Everything is in CSS pixels: `clientX/Y` and `getBoundingClientRect()` already are, whatever the
 * devicePixelRatio, so the ratio never enters the arithmetic; it only makes rects fractional
 * (1/3 px steps at DPR 3), which is why nothing here rounds before the final `Math.floor`.
 */
import type { GridSize } from './attributes.js';

/** The content box of the canvas in client (CSS pixel) coordinates. */
export interface ClientRect {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** `contain`: the grid keeps its aspect and is centred (object-fit: contain); `fill`: stretched. */
export type Fit = 'contain' | 'fill';

/** Continuous cell coordinates: cell (i, j) covers [i, i+1) x [j, j+1), the engine's convention. */
export interface CellPoint {
  readonly x: number;
  readonly y: number;
}

/** Where the grid is drawn inside `rect`, in client coordinates. */
export function drawnRect(rect: ClientRect, grid: GridSize, fit: Fit = 'contain'): ClientRect {
  if (fit === 'fill') return rect;
  const scale = Math.min(rect.width / grid.width, rect.height / grid.height);
  const width = grid.width * scale;
  const height = grid.height * scale;
  return { left: rect.left + (rect.width - width) / 2, top: rect.top + (rect.height - height) / 2, width, height };
}

/**
 * The cell point under (clientX, clientY), or null when it lies outside the drawn grid (in the
 * letterbox bars, or beyond the edge by more than `edgeSlop` CSS pixels). Points within the slop
 * are clamped onto the grid, so a press on the outermost device pixel row still hits the edge cells.
 */
export function clientToCell(
  clientX: number,
  clientY: number,
  rect: ClientRect,
  grid: GridSize,
  fit: Fit = 'contain',
  edgeSlop = 1,
): CellPoint | null {
  if (![clientX, clientY, rect.left, rect.top, rect.width, rect.height].every(Number.isFinite)) return null;
  if (!(rect.width > 0 && rect.height > 0 && grid.width > 0 && grid.height > 0)) return null;
  const drawn = drawnRect(rect, grid, fit);
  const localX = clientX - drawn.left;
  const localY = clientY - drawn.top;
  if (localX < -edgeSlop || localY < -edgeSlop || localX > drawn.width + edgeSlop || localY > drawn.height + edgeSlop) {
    return null;
  }
  return {
    x: clampBelow((localX / drawn.width) * grid.width, grid.width),
    y: clampBelow((localY / drawn.height) * grid.height, grid.height),
  };
}

/** Clamps to [0, size): the far edge itself belongs to the last cell. */
function clampBelow(value: number, size: number): number {
  if (value < 0) return 0;
  return value >= size ? size - size * Number.EPSILON * 4 : value;
}

/** The integer cell containing a point. */
export function cellIndex(point: CellPoint): { readonly column: number; readonly row: number } {
  return { column: Math.floor(point.x), row: Math.floor(point.y) };
}
