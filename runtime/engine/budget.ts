/**
 * The engine's memory budget, the same for every backend and checked before anything is
 * allocated: a decodable model may ask for a 1024x1024 grid with 1024-wide layers (2^30 floats
 * per buffer), which the GPU backends refuse through their own limits but webasm and cpu would
 * try to allocate. Backends may refuse earlier still (GL: 2^24 values per buffer, for float32
 * indexing; WebGPU: the adapter's largest storage buffer).
 */
import type { Architecture } from '../format/types.js';
import { NcaEngineError } from './errors.js';

/**
 * Most float32 values one buffer of a step may hold (2^26: 256 MB): the state (cells x channels)
 * and the widest per-cell vector of a step (perception K x C or a layer's outputs, x cells). A
 * 1024x1024 grid fits with vectors of up to 64 values; 512x512 with up to 256.
 */
export const MAX_ENGINE_BUFFER_VALUES = 2 ** 26;

/** Throws `NcaEngineError` code `too-large`, naming the numbers, when a step's buffers exceed the budget. */
export function checkBudget(arch: Architecture, width: number, height: number): void {
  const cells = width * height;
  const stateValues = cells * arch.channels;
  const perception = arch.kernels.length * arch.channels;
  const widest = Math.max(perception, ...arch.layers.map((layer) => layer.outputs));
  const widestValues = cells * widest;
  if (stateValues <= MAX_ENGINE_BUFFER_VALUES && widestValues <= MAX_ENGINE_BUFFER_VALUES) return;
  throw new NcaEngineError(
    'too-large',
    `grid ${width}x${height} (${cells} cells) is too large for this model: the state needs ${cells} x ${arch.channels} channels = ${stateValues} values ` +
      `and the widest buffer ${cells} x ${widest} = ${widestValues} values, over the budget of ${MAX_ENGINE_BUFFER_VALUES} values per buffer`,
  );
}
