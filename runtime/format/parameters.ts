import type { DenseLayer } from './types.js';

/** Weights plus biases of all layers (what the 4,194,304 cap counts). */
export function countParameters(layers: readonly Pick<DenseLayer, 'inputs' | 'outputs'>[]): number {
  let total = 0;
  for (const layer of layers) total += layer.inputs * layer.outputs + layer.outputs;
  return total;
}
