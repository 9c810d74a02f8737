import type { Architecture } from '../format/types.js';
import { checkState, createState, type CaState } from './state.js';

/**
 * Writes one seed cell at (floor(x), floor(y)), in place: channels below the alpha channel (the
 * colour) become 0, the alpha channel and every channel above it (the hidden state) become 1.
 * This is the seed of both rule families. A position outside the grid (or NaN) is ignored.
 */
export function plantSeed(state: CaState, arch: Architecture, x: number, y: number): void {
  checkState(state, arch.channels);
  const cx = Math.floor(x);
  const cy = Math.floor(y);
  if (!(cx >= 0 && cx < state.width && cy >= 0 && cy < state.height)) return;
  const base = (cy * state.width + cx) * state.channels;
  for (let c = 0; c < state.channels; c++) state.data[base + c] = c >= arch.alphaChannel ? 1 : 0;
}

/**
 * An otherwise empty W x H state with one seed cell (see `plantSeed`), by default in the centre
 * (floor(W/2), floor(H/2)).
 */
export function seedState(arch: Architecture, width: number, height: number, x?: number, y?: number): CaState {
  const state = createState(width, height, arch.channels);
  plantSeed(state, arch, x ?? Math.floor(width / 2), y ?? Math.floor(height / 2));
  return state;
}
