/**
 * Where the trainer keeps a weight: matrices transposed against the file ([inputs, outputs]) and
 * layer 0's rows in channel-major perception order. No tfjs here, so the fused engine's callers
 * can use it too.
 */
import type { Architecture } from '../../runtime/format/types.js';

/** File index of the layer-0 input that the trainer's channel-major row `row` holds. */
export function fileInputIndex(arch: Architecture, layerIndex: number, row: number): number {
  if (layerIndex !== 0 || arch.perceptionOrder === 'channel-major') return row;
  const kernels = arch.kernels.length;
  const c = Math.floor(row / kernels);
  const k = row % kernels;
  return k * arch.channels + c;
}

/**
 * The architecture's weights in the trainer's layout and order, [W0, b0, W1, b1, ...]: each
 * matrix transposed to [inputs, outputs], layer 0's rows channel-major. Plain arrays (no tfjs),
 * so the fused engine can take a decoded model's weights as they stand.
 */
export function trainerLayout(arch: Architecture): Float32Array[] {
  return arch.layers.flatMap((layer, l) => {
    const transposed = new Float32Array(layer.inputs * layer.outputs);
    for (let row = 0; row < layer.inputs; row++) {
      const i = fileInputIndex(arch, l, row);
      for (let o = 0; o < layer.outputs; o++) transposed[row * layer.outputs + o] = layer.weights[o * layer.inputs + i]!;
    }
    return [transposed, Float32Array.from(layer.bias)];
  });
}
