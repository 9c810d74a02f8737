import type { Activation, DenseLayer } from '../format/types.js';

/** The activation functions, evaluated in doubles. relu keeps NaN (so divergence stays visible). */
export const ACTIVATION_FUNCTIONS: Readonly<Record<Activation, (v: number) => number>> = {
  identity: (v) => v,
  relu: (v) => Math.max(0, v),
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  tanh: Math.tanh,
  atan: Math.atan,
};

/**
 * One dense layer: `out[o] = act(sum_i W[o][i] * input[i] + b[o])`, the sum taken in doubles in
 * ascending i, the bias added after it, the activation applied in doubles, the result stored as
 * float32.
 */
export function denseForward(layer: DenseLayer, input: Float32Array, out: Float32Array): void {
  const { inputs, outputs, weights, bias } = layer;
  const activate = ACTIVATION_FUNCTIONS[layer.activation];
  for (let o = 0; o < outputs; o++) {
    const row = o * inputs;
    let sum = 0;
    for (let i = 0; i < inputs; i++) sum += weights[row + i]! * input[i]!;
    out[o] = activate(sum + bias[o]!);
  }
}

/** Scratch buffers for `applyLayers`, one per layer, reusable across cells. */
export function layerBuffers(layers: readonly DenseLayer[]): Float32Array[] {
  return layers.map((layer) => new Float32Array(layer.outputs));
}

/** Runs every layer from the perception vector; returns the last buffer (the C outputs). */
export function applyLayers(layers: readonly DenseLayer[], perception: Float32Array, buffers: Float32Array[]): Float32Array {
  let input = perception;
  layers.forEach((layer, l) => {
    const out = buffers[l]!;
    denseForward(layer, input, out);
    input = out;
  });
  return input;
}
