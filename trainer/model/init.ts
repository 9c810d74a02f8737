/**
 * Starting weights for the essay's rule (replace update, sigmoid output, own-alpha masking).
 *
 * Glorot weights with zero biases make every cell output sigmoid(~0) = 0.5 > 0.1: the first step
 * brings the whole grid to life, and the first thing training learns is to push alpha down, which
 * kills the sprite too. Distill's rule avoids this with a zero last layer (a residual update that
 * starts by doing nothing); a replace update cannot do nothing, but it can start close to it.
 *
 * `keepInit` gives each state channel c one hidden unit that reads the cell's own value through
 * the identity kernel, u_c = atan(4 (s_c - 1/2)), and an output that reads it back,
 * s'_c = sigmoid(2.5 u_c). That maps 0 to 0.06 and 1 to 0.94 (fixed point 0.93): a living cell
 * (alpha near 1) stays alive, an empty cell stays dead (0.06 <= 0.1), and an all-zero
 * neighbourhood outputs the same 0.06, so the background starts dead. The other hidden units keep
 * their Glorot weights and the rest of the output layer is scaled to a tenth, so training has
 * every direction to move in but starts from "keep what is there".
 *
 * `keep` snaps every value to 0.06 or 0.93 (0.73 becomes 0.87 in one step): a sprite's mid tones,
 * outlines and eyes are gone before training starts, and the short runs that pass (a persistence
 * model early-stops after 200 iterations) inherit that. `identityInit` starts from the identity
 * itself, or as close as atan and sigmoid come: three hidden units per channel read the cell's own
 * value, s'_c = sigmoid(sum_u a_u atan(g_u (s_c - c_u))), two steep ones just outside [0, 1]
 * (the logit's two ends) and one nearly linear one (its middle). The other hidden units keep their
 * Glorot input weights and get output weights of zero, so the rule starts by keeping every value
 * (Distill's zero last layer, for a replace update) and training has every direction to move in.
 */
import type { Architecture, DenseLayer } from '../../runtime/format/types.js';

/** Slope and centre of the identity unit, u = atan(GAIN (s - 1/2)). */
const GAIN = 4;
/** Output weight on the identity unit. */
const READBACK = 2.5;
/** Scale of the random remainder of the output layer. */
const RANDOM_OUTPUT_SCALE = 0.1;

/**
 * The identity units (gain g, centre c, output weight a), fitted by least squares of the map
 * above to s clamped to [0.01, 0.99] on s in [0, 1], |g| and |a| at most 16 (larger weights
 * would be a worse start for Adam and the int8 export). Within 0.0065 of the clamped identity
 * everywhere, 0.001 on [0.1, 0.9], slope 0.95..1.04; 0 maps to 0.011, so empty cells stay dead.
 * Untrained, it holds the 24-pixel hamster at 33.3 dB for 100 steps and 27.7 dB at 1,000, where
 * `keep` holds 19.0 dB.
 */
export const IDENTITY_UNITS: readonly { readonly gain: number; readonly centre: number; readonly weight: number }[] = [
  { gain: 16, centre: -0.028, weight: 2.84 },
  { gain: 16, centre: 1.028, weight: 2.84 },
  { gain: 0.174, centre: 0.5, weight: 16 },
];

/** Index of the identity kernel (centre tap 1, all others 0), or -1. */
function identityKernel(arch: Architecture): number {
  return arch.kernels.findIndex((k) => k.every((v, i) => (i === 4 ? v === 1 : v === 0)));
}

/** Whether `keepInit` applies: two layers, sigmoid output, replace update, an identity kernel, enough hidden units. */
export function canKeepInit(arch: Architecture): boolean {
  const [hidden, output] = arch.layers;
  return (
    arch.layers.length === 2 &&
    arch.update === 'replace' &&
    output!.activation === 'sigmoid' &&
    hidden!.outputs >= arch.channels &&
    identityKernel(arch) >= 0
  );
}

/** Whether `identityInit` applies: as `keepInit`, with three hidden units per channel. */
export function canIdentityInit(arch: Architecture): boolean {
  return canKeepInit(arch) && arch.layers[0]!.outputs >= IDENTITY_UNITS.length * arch.channels;
}

/** The near-identity weights described above, on top of `arch`'s random ones; `arch` unchanged if it does not apply. */
export function identityInit(arch: Architecture): Architecture {
  if (!canIdentityInit(arch)) return arch;
  const [hidden, output] = arch.layers as [DenseLayer, DenseLayer];
  const w0 = Float32Array.from(hidden.weights);
  const b0 = Float32Array.from(hidden.bias);
  const w1 = new Float32Array(output.weights.length);
  for (let c = 0; c < arch.channels; c++) {
    IDENTITY_UNITS.forEach(({ gain, centre, weight }, u) => {
      const unit = c * IDENTITY_UNITS.length + u;
      readOwnValue(arch, w0, b0, unit, c, gain, centre);
      w1[c * output.inputs + unit] = weight;
    });
  }
  return withFirstWeights(arch, w0, b0, w1);
}

/** The weights described above, on top of `arch`'s random ones; `arch` unchanged if it does not apply. */
export function keepInit(arch: Architecture): Architecture {
  if (!canKeepInit(arch)) return arch;
  const [hidden, output] = arch.layers as [DenseLayer, DenseLayer];
  const w0 = Float32Array.from(hidden.weights);
  const b0 = Float32Array.from(hidden.bias);
  const w1 = Float32Array.from(output.weights, (w) => w * RANDOM_OUTPUT_SCALE);
  for (let c = 0; c < arch.channels; c++) {
    readOwnValue(arch, w0, b0, c, c, GAIN, 1 / 2);
    for (let o = 0; o < output.outputs; o++) w1[o * output.inputs + c] = o === c ? READBACK : 0;
  }
  return withFirstWeights(arch, w0, b0, w1);
}

/** Makes hidden unit `unit` read channel `c`'s own value alone: atan(gain (s_c - centre)). */
function readOwnValue(arch: Architecture, w0: Float32Array, b0: Float32Array, unit: number, c: number, gain: number, centre: number): void {
  const inputs = arch.layers[0]!.inputs;
  const identity = identityKernel(arch);
  const input = arch.perceptionOrder === 'channel-major' ? c * arch.kernels.length + identity : identity * arch.channels + c;
  w0.fill(0, unit * inputs, (unit + 1) * inputs);
  w0[unit * inputs + input] = gain;
  b0[unit] = -gain * centre;
}

/** `arch` with these hidden weights and biases and output weights, the output biases zero. */
function withFirstWeights(arch: Architecture, w0: Float32Array, b0: Float32Array, w1: Float32Array): Architecture {
  const [hidden, output] = arch.layers as [DenseLayer, DenseLayer];
  return {
    ...arch,
    layers: [
      { ...hidden, weights: w0, bias: b0 },
      { ...output, weights: w1, bias: new Float32Array(output.outputs) },
    ],
  };
}
