import type { Architecture } from '../format/types.js';
import type { CaState } from './state.js';

/**
 * Max of channel `alpha` over the 3x3 neighbourhood of (x, y); cells outside the grid count as 0
 * (zero padding, as the spec says; TensorFlow's SAME max-pool ignores them instead, which differs
 * only for a negative alive threshold).
 */
export function neighbourhoodMaxAlpha(state: CaState, alpha: number, x: number, y: number): number {
  const { width, height, channels, data } = state;
  let max = -Infinity;
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      const nx = x + dx;
      const ny = y + dy;
      const value = nx < 0 || nx >= width || ny < 0 || ny >= height ? 0 : data[(ny * width + nx) * channels + alpha]!;
      // NOTE: written as a comparison rather than Math.max so a NaN alpha never wins.
      if (value > max) max = value;
    }
  }
  return max;
}

/**
 * The alive threshold as float32, as the file stores it and a GPU compares it: a hand-built
 * architecture's 0.1 and a decoded one's float32(0.1) then judge an alpha of float32(0.1) alike.
 */
export function aliveThreshold32(arch: Architecture): number {
  return Math.fround(arch.aliveThreshold);
}

/**
 * Per-cell alive flags (1 alive, 0 dead), row-major W*H, judged on `state` alone:
 * own-alpha: `alpha > threshold`; max-pool: `max over 3x3 of alpha > threshold` (zero padding);
 * the threshold taken as float32.
 * The step combines them: own-alpha uses the flags of the updated state; max-pool needs the
 * flags of both the state before and the updated state.
 */
export function aliveMask(state: CaState, arch: Architecture): Uint8Array {
  const { width, height, channels, data } = state;
  const { alphaChannel } = arch;
  const threshold = aliveThreshold32(arch);
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const value =
        arch.aliveMode === 'max-pool'
          ? neighbourhoodMaxAlpha(state, alphaChannel, x, y)
          : data[(y * width + x) * channels + alphaChannel]!;
      mask[y * width + x] = value > threshold ? 1 : 0;
    }
  }
  return mask;
}

/**
 * True if no cell's alpha exceeds the alive threshold (as float32), i.e. every cell fails the alive test on
 * its own alpha (a NaN alpha counts as dead). Under max-pool with a threshold >= 0 the next step
 * then zeroes everything; under own alpha the next step can still bring cells back, since a
 * cell's new alpha is the network's output, not tied to its old alpha (see docs/format.md,
 * "Helpers").
 */
export function isAllDead(state: CaState, arch: Architecture): boolean {
  const { channels, data } = state;
  const threshold = aliveThreshold32(arch);
  for (let i = arch.alphaChannel; i < data.length; i += channels) {
    if (data[i]! > threshold) return false;
  }
  return true;
}
