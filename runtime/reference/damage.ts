import type { CaState } from './state.js';

/**
 * Zeroes, in place, every cell whose centre lies strictly inside the disc: cell (x, y) is cleared
 * iff `(x + 0.5 - cx)^2 + (y + 0.5 - cy)^2 < radius^2`. (cx, cy) are continuous cell coordinates
 * (cell (x, y) covers [x, x+1) x [y, y+1)), so a pointer position scaled to cells maps directly.
 * A radius <= 0 or a NaN argument clears nothing.
 */
export function damageDisc(state: CaState, cx: number, cy: number, radius: number): void {
  if (!(radius > 0) || Number.isNaN(cx) || Number.isNaN(cy)) return;
  const { width, height, channels, data } = state;
  const radiusSquared = radius * radius;
  // Only cells with x in (cx - r - 0.5, cx + r - 0.5) can be inside; clip that box to the grid.
  const x0 = Math.max(0, Math.floor(cx - radius - 0.5));
  const x1 = Math.min(width - 1, Math.ceil(cx + radius - 0.5));
  const y0 = Math.max(0, Math.floor(cy - radius - 0.5));
  const y1 = Math.min(height - 1, Math.ceil(cy + radius - 0.5));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      if (dx * dx + dy * dy < radiusSquared) data.fill(0, (y * width + x) * channels, (y * width + x + 1) * channels);
    }
  }
}
