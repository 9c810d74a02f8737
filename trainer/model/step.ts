/**
 * The CA step in TensorFlow.js, forward and backward, built only from forward kernels that every
 * tfjs backend has (wasm lacks several gradient kernels, e.g. depthwiseConv2d's input gradient,
 * and its matMul with transpose flags falls off the fast XNNPACK path). The backward pass is
 * written by hand and driven by `training/rollout.ts` (back-propagation through time), which also lets it
 * free each step's tensors as soon as they are used.
 *
 * Semantics are those of docs/format.md ("Running a model: the step"); the fire mask is an input
 * (the trainer's own RNG). The alive masks are constants for the gradient, as in the essay and
 * Distill, except for own-alpha masking with `aliveGradient: 'ramp'` (see `AliveGradient`).
 *
 * The dense layers, the costly part, run only on the rows (cells) that matter: forward on cells
 * whose output can be used (per-cell masks: fired; max-pool: alive before), backward on cells
 * whose output reaches the next state (alive after, and fired for per-cell masks). A growing
 * sprite is a fraction of its grid, so this skips most of the work early on.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation, Architecture } from '../../runtime/format/types.js';
import type { TrainableNetwork } from './network.js';
import { gatherRows, rowsWhere, scatterRows } from './rows.js';

/**
 * How much of a forward step is kept for its backward pass.
 * - `save`: the perception and layer outputs (and atan slopes) of the rows the network ran on.
 * - `recompute`: only the step's input; backward runs the perception and the network again
 *   (slower, several times less memory: a 72x72 batch of 8 over 96 steps needs ~0.5 GB instead
 *   of up to ~3.5 GB, near the end of the 4 GB wasm heap).
 */
export type ActivationMemory = 'save' | 'recompute';

/**
 * How the alive mask of own-alpha models (the essay's rule) passes gradients.
 * - `constant`: not at all (the essay's and Distill's treatment). A cell that died passes no
 *   gradient, so a replace-update model whose alpha outputs all drop below the threshold (the
 *   usual first move: fresh essay weights fill the grid, and the loss pushes alpha down) can
 *   never learn to live again: its gradient is exactly 0 from then on.
 * - `ramp`: a surrogate gradient. The forward pass is unchanged (the hard threshold), but the
 *   backward pass treats the mask of a dead cell as the ramp clamp(alpha / threshold, 0, 1),
 *   so dL/d alpha gains sum_c dL/dnext_c x updated_c / threshold: a dead cell whose values
 *   would lower the loss is pushed to live. Living cells (ramp at 1) are unaffected.
 * Max-pool models (Distill's rule) always use `constant`.
 */
export type AliveGradient = 'constant' | 'ramp';

/** What one step's backward pass needs. Owned by the rollout, disposed with `disposeRecord`. */
export interface StepRecord {
  /** The step's input state s_t, [B,H,W,C]. */
  readonly input: tf.Tensor4D;
  /** 1 where an element (or a cell, [B,H,W,1]) fires. */
  readonly fire: tf.Tensor4D;
  /** 1 where the cell is alive after the step (both masks for max-pool), [B,H,W,1]. */
  readonly alive: tf.Tensor4D;
  /** The cells the network ran on (ascending indices into B*H*W); undefined: all of them. */
  readonly rows?: Int32Array;
  /** The state after the update, before the alive mask (only with the `ramp` alive gradient). */
  readonly updated?: tf.Tensor4D;
  /** Saved activations (memory 'save'), one row per entry of `rows`: the perception... */
  readonly perception?: tf.Tensor2D;
  /** ...each layer's output (kept when the next layer or its own slope needs it)... */
  readonly outputs?: readonly (tf.Tensor2D | undefined)[];
  /** ...and d act / d z for atan layers (which would need z). */
  readonly slopes?: readonly (tf.Tensor2D | undefined)[];
}

/** Where each of `subset` (ascending) sits in `rows` (ascending); undefined if one is missing. */
function positionsIn(rows: Int32Array, subset: Int32Array): Int32Array | undefined {
  const positions = new Int32Array(subset.length);
  let j = 0;
  for (let i = 0; i < subset.length; i++) {
    while (j < rows.length && rows[j]! < subset[i]!) j++;
    if (rows[j] !== subset[i]) return undefined;
    positions[i] = j;
  }
  return positions;
}

interface NetworkPass {
  readonly outputs: (tf.Tensor2D | undefined)[];
  readonly slopes: (tf.Tensor2D | undefined)[];
  readonly last: tf.Tensor2D;
}

function activate(activation: Activation, z: tf.Tensor2D): tf.Tensor2D {
  switch (activation) {
    case 'identity':
      return z;
    case 'relu':
      return tf.relu(z);
    case 'sigmoid':
      return tf.sigmoid(z);
    case 'tanh':
      return tf.tanh(z);
    case 'atan':
      return tf.atan(z);
  }
}

/** Whether the derivative of `activation` is computed from the layer's output. */
function slopeFromOutput(activation: Activation): boolean {
  return activation === 'relu' || activation === 'sigmoid' || activation === 'tanh';
}

/** d act / d z from the layer output h (relu, sigmoid, tanh) or the saved atan slope. */
function slopeOf(activation: Activation, output: tf.Tensor2D | undefined, saved: tf.Tensor2D | undefined): tf.Tensor2D | undefined {
  switch (activation) {
    case 'identity':
      return undefined;
    case 'relu':
      return tf.step(output!);
    case 'sigmoid':
      return tf.mul(output!, tf.sub(1, output!)) as tf.Tensor2D;
    case 'tanh':
      return tf.sub(1, tf.square(output!)) as tf.Tensor2D;
    case 'atan':
      return saved;
  }
}

/** Row-major 3x3 kernels as a depthwise filter [3,3,C,K]: output channel c*K + k. */
function perceptionFilter(kernels: readonly Float32Array[], channels: number): tf.Tensor4D {
  const k = kernels.length;
  const values = new Float32Array(9 * channels * k);
  for (let tap = 0; tap < 9; tap++) {
    for (let c = 0; c < channels; c++) {
      for (let j = 0; j < k; j++) values[(tap * channels + c) * k + j] = kernels[j]![tap]!;
    }
  }
  return tf.tensor4d(values, [3, 3, channels, k]);
}

/**
 * The adjoint of the perception: a correlation with each kernel rotated by 180 degrees, one
 * filter per perception channel [3,3,C*K,1]; summing each channel's K results gives ds.
 */
function transposedPerceptionFilter(kernels: readonly Float32Array[], channels: number): tf.Tensor4D {
  const k = kernels.length;
  const values = new Float32Array(9 * channels * k);
  for (let tap = 0; tap < 9; tap++) {
    for (let c = 0; c < channels; c++) {
      for (let j = 0; j < k; j++) values[tap * channels * k + c * k + j] = kernels[j]![8 - tap]!;
    }
  }
  return tf.tensor4d(values, [3, 3, channels * k, 1]);
}

/**
 * One architecture's step on tensors of shape [B,H,W,C]. Holds the constant filter tensors;
 * the weights live in the `TrainableNetwork` so the same step serves every iteration.
 */
export class TfStep {
  readonly arch: Architecture;
  readonly network: TrainableNetwork;
  private readonly filter: tf.Tensor4D;
  private readonly adjointFilter: tf.Tensor4D;
  private readonly alphaPicker: tf.Tensor2D;
  private ones: tf.Tensor2D | undefined;
  /** Whether backward applies the `ramp` surrogate (own-alpha models that asked for it). */
  readonly rampAliveGradient: boolean;

  constructor(arch: Architecture, network: TrainableNetwork, options: { readonly aliveGradient?: AliveGradient } = {}) {
    this.arch = arch;
    this.network = network;
    this.rampAliveGradient = options.aliveGradient === 'ramp' && arch.aliveMode === 'own-alpha' && arch.aliveThreshold > 0;
    this.filter = perceptionFilter(arch.kernels, arch.channels);
    this.adjointFilter = transposedPerceptionFilter(arch.kernels, arch.channels);
    this.alphaPicker = tf.tensor2d(Array.from({ length: arch.channels }, (_, c) => (c === arch.alphaChannel ? 1 : 0)), [arch.channels, 1]);
  }

  /** Perception of every cell, [B*H*W, C*K] in channel-major order. */
  perceive(state: tf.Tensor4D): tf.Tensor2D {
    const perception = tf.depthwiseConv2d(state, this.filter, 1, 'same');
    return tf.reshape(perception, [-1, this.arch.channels * this.arch.kernels.length]);
  }

  /** The alpha channel of `state`, [B,H,W,1]. */
  private alphaOf(state: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w, c] = state.shape;
    // NOTE: a matMul with a one-hot column picks the alpha channel ~10x faster than a strided
    // slice on wasm, and exactly (the other terms are x * 0).
    return tf.reshape(tf.matMul(tf.reshape(state, [b * h * w, c]), this.alphaPicker), [b, h, w, 1]);
  }

  /** 1 where the alive test passes on `state` alone (own alpha, or 3x3 max with zero padding). */
  aliveFlags(state: tf.Tensor4D): tf.Tensor4D {
    const { aliveThreshold } = this.arch;
    let alpha = this.alphaOf(state);
    if (this.arch.aliveMode === 'max-pool') {
      // NOTE: tf's SAME max-pool ignores outside cells; the spec pads with 0 (matters only for a
      // negative threshold), so pad explicitly and pool VALID.
      alpha = tf.maxPool(tf.pad(alpha, [[0, 0], [1, 1], [1, 1], [0, 0]]), 3, 1, 'valid');
    }
    return tf.cast(tf.greater(alpha, aliveThreshold), 'float32') as tf.Tensor4D;
  }

  private runNetwork(perception: tf.Tensor2D, keep: boolean): NetworkPass {
    const layers = this.network.layers;
    const outputs: (tf.Tensor2D | undefined)[] = [];
    const slopes: (tf.Tensor2D | undefined)[] = [];
    let x = perception;
    layers.forEach((layer, l) => {
      const z = tf.add(tf.matMul(x, layer.weights), layer.bias) as tf.Tensor2D;
      const h = activate(layer.activation, z);
      const isLast = l === layers.length - 1;
      outputs.push(keep && (!isLast || slopeFromOutput(layer.activation)) ? h : undefined);
      // atan' = 1 / (1 + z^2) needs z; keep the slope itself rather than z.
      slopes.push(keep && layer.activation === 'atan' ? (tf.reciprocal(tf.add(1, tf.square(z))) as tf.Tensor2D) : undefined);
      x = h;
    });
    return { outputs, slopes, last: x };
  }

  /**
   * The cells whose network output can matter this step: with per-cell masks only fired ones,
   * with max-pool alive masks only those alive before; undefined when every cell may change.
   */
  private activeRows(input: tf.Tensor4D, fire: tf.Tensor4D, before: tf.Tensor4D | undefined): Int32Array {
    const fired = this.arch.fireGranularity === 'cell' ? fire.dataSync() : undefined;
    // Own alpha: a cell whose 3x3 neighbourhood is all zero perceives exactly 0, so its output
    // is the same constant for all such cells (computed once, see forward).
    const occupied = before ? before.dataSync() : this.occupiedFlags(input).dataSync();
    return rowsWhere(occupied, fired);
  }

  /** 1 where any channel of any cell in the 3x3 neighbourhood is non-zero, [B,H,W,1]. */
  private occupiedFlags(state: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w, c] = state.shape;
    const magnitude = tf.reshape(tf.matMul(tf.reshape(tf.abs(state), [b * h * w, c]), tf.ones([c, 1])), [b, h, w, 1]) as tf.Tensor4D;
    return tf.cast(tf.greater(tf.maxPool(tf.pad(magnitude, [[0, 0], [1, 1], [1, 1], [0, 0]]), 3, 1, 'valid'), 0), 'float32') as tf.Tensor4D;
  }

  /**
   * One step. With `memory` set, also returns the record its backward pass needs (the caller
   * owns and disposes it); without, only the next state. `fire` is [B,H,W,C] for per-element
   * masks, [B,H,W,1] for per-cell ones.
   */
  forward(input: tf.Tensor4D, fire: tf.Tensor4D, memory?: ActivationMemory): { next: tf.Tensor4D; record?: StepRecord } {
    const keepActivations = memory === 'save';
    let record: StepRecord | undefined;
    const next = tf.tidy(() => {
      const before = this.arch.aliveMode === 'max-pool' ? this.aliveFlags(input) : undefined;
      const perception = this.perceive(input);
      const cells = perception.shape[0];
      const active = this.activeRows(input, fire, before);
      const rows = active.length === cells ? undefined : active;
      let output: tf.Tensor2D;
      let pass: NetworkPass | undefined;
      let perceived = perception;
      if (active.length === 0) {
        output = tf.zeros([cells, this.arch.channels]);
      } else {
        perceived = rows ? gatherRows(perception, rows) : perception;
        pass = this.runNetwork(perceived, keepActivations);
        output = rows ? scatterRows(pass.last, rows, cells) : pass.last;
      }
      if (rows && !before) {
        // Own alpha: every other cell perceives 0 and outputs network(0) (those that do not fire
        // keep their old value anyway). With max-pool they are dead before, so die: 0 will do.
        const inactive = new Float32Array(cells).fill(1);
        for (const row of active) inactive[row] = 0;
        const constant = this.runNetwork(tf.zeros([1, perception.shape[1]]), false).last;
        output = tf.add(output, tf.mul(tf.tensor2d(inactive, [cells, 1]), constant));
      }
      const updated =
        this.arch.update === 'replace'
          ? tf.add(tf.mul(tf.reshape(output, input.shape), fire), tf.mul(input, tf.sub(1, fire)))
          : tf.add(input, tf.mul(tf.reshape(output, input.shape), fire));
      const after = this.aliveFlags(updated as tf.Tensor4D);
      const alive = before ? tf.mul(before, after) : after;
      if (memory !== undefined) {
        // tf.keep: these outlive the tidy, owned by the record.
        const keep = (t: tf.Tensor2D | undefined): tf.Tensor2D | undefined => (t ? tf.keep(t) : undefined);
        record = {
          input,
          fire,
          alive: tf.keep(alive) as tf.Tensor4D,
          rows,
          ...(this.rampAliveGradient ? { updated: tf.keep(updated) as tf.Tensor4D } : {}),
          ...(keepActivations && pass
            ? { perception: tf.keep(perceived), outputs: pass.outputs.map(keep), slopes: pass.slopes.map(keep) }
            : {}),
        };
      }
      return tf.mul(updated, alive) as tf.Tensor4D;
    });
    return record ? { next, record } : { next };
  }

  private onesRow(n: number): tf.Tensor2D {
    if (this.ones?.shape[1] !== n) {
      this.ones?.dispose();
      // NOTE: created inside backward's tidy; keep it alive across steps.
      this.ones = tf.keep(tf.ones([1, n])) as tf.Tensor2D;
    }
    return this.ones!;
  }

  /**
   * The backward pass of the step in `record` for the gradient `grad` = dL/d(next state).
   * Adds the weight gradients into `accumulated` (same order as `network.variables`; the old
   * tensors are disposed and replaced) and returns dL/d(input), or undefined when `needInput`
   * is false (the first step: its input is a constant).
   */
  backward(record: StepRecord, grad: tf.Tensor4D, accumulated: tf.Tensor[], needInput: boolean): tf.Tensor4D | undefined {
    const layers = this.network.layers;
    const result = tf.tidy(() => {
      const { input, fire, alive, updated } = record;
      const [b, h, w, c] = input.shape;
      const cells = b * h * w;
      let g = tf.mul(grad, alive);
      let passing = alive;
      if (updated) {
        // The ramp surrogate (see AliveGradient): on dead cells with alpha >= 0 (where the
        // ramp's clamp passes a gradient), dL/d alpha = sum_c grad_c x updated_c / threshold.
        const window = tf.mul(tf.sub(1, alive), tf.cast(tf.greaterEqual(this.alphaOf(updated), 0), 'float32'));
        const reach = tf.reshape(tf.matMul(tf.reshape(tf.mul(grad, updated), [cells, c]), tf.ones([c, 1])), [b, h, w, 1]);
        const push = tf.div(tf.mul(reach, window), this.arch.aliveThreshold);
        g = tf.add(g, tf.mul(push, tf.reshape(this.alphaPicker, [c]))) as tf.Tensor4D;
        passing = tf.cast(tf.logicalOr(tf.greater(alive, 0), tf.notEqual(push, 0)), 'float32') as tf.Tensor4D;
      }
      const gDirect = this.arch.update === 'replace' ? tf.mul(g, tf.sub(1, fire)) : g;
      // Only cells alive after the step (or pushed by the surrogate; per-cell masks: and fired)
      // pass a gradient to the network.
      const rows = rowsWhere(passing.dataSync(), this.arch.fireGranularity === 'cell' ? fire.dataSync() : undefined);
      if (rows.length === 0) return [...accumulated.map((t) => tf.clone(t)), ...(needInput ? [gDirect] : [])];
      const all = rows.length === cells;
      const pick = (t: tf.Tensor2D): tf.Tensor2D => (all ? t : gatherRows(t, rows));
      let perception: tf.Tensor2D;
      let outputs: readonly (tf.Tensor2D | undefined)[];
      let slopes: readonly (tf.Tensor2D | undefined)[];
      // Saved activations cover the forward's rows; ours are usually among them (not when a
      // cell came alive from an all-zero neighbourhood).
      const positions = record.perception && (record.rows ? positionsIn(record.rows, rows) : rows);
      if (positions && record.perception && record.outputs && record.slopes) {
        const fromSaved = (t: tf.Tensor2D): tf.Tensor2D => (positions.length === t.shape[0] ? t : gatherRows(t, positions));
        perception = fromSaved(record.perception);
        outputs = record.outputs.map((t) => t && fromSaved(t));
        slopes = record.slopes.map((t) => t && fromSaved(t));
      } else {
        // Recompute mode: the perception and the network again, on these rows only.
        perception = pick(this.perceive(input));
        ({ outputs, slopes } = this.runNetwork(perception, true));
      }
      const n = rows.length;
      let dh = pick(tf.reshape(tf.mul(g, fire), [cells, c]));
      const updates: tf.Tensor[] = new Array<tf.Tensor>(accumulated.length);
      for (let l = layers.length - 1; l >= 0; l--) {
        const layer = layers[l]!;
        const slope = slopeOf(layer.activation, outputs[l], slopes[l]);
        const dz = slope ? tf.mul(dh, slope) : dh;
        const x = l === 0 ? perception : outputs[l - 1]!;
        // NOTE: transpose the narrower operand explicitly; matMul's transpose flags are ~7x
        // slower on wasm (naive loop instead of XNNPACK).
        const dW = layer.inputs <= layer.outputs ? tf.matMul(tf.transpose(x), dz) : tf.transpose(tf.matMul(tf.transpose(dz), x));
        // A row of ones times dz beats an axis-0 sum on wasm.
        const db = tf.reshape(tf.matMul(this.onesRow(n), dz), [layer.outputs]);
        updates[2 * l] = tf.add(accumulated[2 * l]!, dW);
        updates[2 * l + 1] = tf.add(accumulated[2 * l + 1]!, db);
        if (l > 0 || needInput) dh = tf.matMul(dz, tf.transpose(layer.weights));
      }
      if (!needInput) return updates;
      const k = this.arch.kernels.length;
      const dPerception = all ? dh : scatterRows(dh, rows, cells);
      const spread = tf.depthwiseConv2d(tf.reshape(dPerception, [b, h, w, c * k]) as tf.Tensor4D, this.adjointFilter, 1, 'same');
      const gPerception = tf.sum(tf.reshape(spread, [b, h, w, c, k]), 4);
      return [...updates, tf.add(gDirect, gPerception)];
    });
    for (const t of accumulated) t.dispose();
    accumulated.splice(0, accumulated.length, ...result.slice(0, accumulated.length));
    return needInput ? (result[accumulated.length] as tf.Tensor4D) : undefined;
  }

  dispose(): void {
    this.filter.dispose();
    this.adjointFilter.dispose();
    this.alphaPicker.dispose();
    this.ones?.dispose();
  }
}

/** Frees what a record holds apart from its input (the rollout owns the states). */
export function disposeRecord(record: StepRecord): void {
  record.fire.dispose();
  record.alive.dispose();
  record.updated?.dispose();
  for (const t of record.outputs ?? []) t?.dispose();
  for (const t of record.slopes ?? []) t?.dispose();
  record.perception?.dispose();
}
