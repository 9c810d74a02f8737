import type { PerceptionOrder } from '../format/types.js';
import type { CaState } from './state.js';

/**
 * Perception of one cell: for every kernel k and channel c,
 * `q_k,c = sum_{dy,dx in -1..1} K_k[dy+1][dx+1] * s_c(x+dx, y+dy)` (a correlation, zero padding),
 * summed in doubles with dy outer and dx inner, each value stored as float32 into `out` at
 * `c*K + k` (channel-major) or `k*C + c` (kernel-major).
 *
 * `out` must hold K*C values; (x, y) must be inside the grid.
 */
export function perceive(
  state: CaState,
  kernels: readonly Float32Array[],
  order: PerceptionOrder,
  x: number,
  y: number,
  out: Float32Array,
): void {
  const { width, height, channels, data } = state;
  const kernelCount = kernels.length;
  for (let k = 0; k < kernelCount; k++) {
    const kernel = kernels[k]!;
    for (let c = 0; c < channels; c++) {
      let sum = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        // Zero padding: a neighbour outside the grid contributes K * 0 = 0, so it is skipped.
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          sum += kernel[(dy + 1) * 3 + (dx + 1)]! * data[(ny * width + nx) * channels + c]!;
        }
      }
      out[order === 'channel-major' ? c * kernelCount + k : k * channels + c] = sum;
    }
  }
}
