/**
 * Rollouts of the tfjs step: forward only (previews, parity checks) and with back-propagation
 * through time for training. The loss is the mean squared error of RGBA (premultiplied colour
 * and alpha) against the target, averaged over the last `lossSteps` states of the rollout and
 * over the batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { disposeRecord, type ActivationMemory, type StepRecord, type TfStep } from '../model/step.js';

/** A rollout to differentiate. Tensors passed in stay the caller's; masks returned by `fireMask` become the rollout's. */
export interface RolloutPlan {
  /** The start states, [B,H,W,C]. */
  readonly start: tf.Tensor4D;
  readonly steps: number;
  /** The fire mask of step t (0-based), a fresh tensor per call, called once per step in order. */
  readonly fireMask: (step: number) => tf.Tensor4D;
  /** Damage during the rollout: the state entering `step` (>= 1) is multiplied by `keep` [B,H,W,1]. */
  readonly damage?: { readonly step: number; readonly keep: tf.Tensor4D };
}

export interface LossSpec {
  /** Target RGBA, premultiplied, [1,H,W,4]. */
  readonly target: tf.Tensor4D;
  /** How many of the last states the loss averages (clamped to the rollout length). */
  readonly lossSteps: number;
  /** Per-value loss weights [1,H,W,4] (training/loss-weights.ts); absent: all 1. */
  readonly weights?: tf.Tensor4D;
}

export interface RolloutResult {
  /** The mean loss over the batch. */
  readonly loss: number;
  /** Each sample's loss. */
  readonly perSample: Float32Array;
  /** The last state, [B,H,W,C] (the caller disposes it). */
  readonly final: tf.Tensor4D;
}

export interface RolloutGradients extends RolloutResult {
  /** d loss / d variable, in `network.variables` order (the caller disposes them). */
  readonly gradients: tf.Tensor[];
}

/** The RGBA channels: colour channels below alpha, then alpha (channels 0..3 in both rules). */
function rgbaOf(state: tf.Tensor4D, alphaChannel: number): tf.Tensor4D {
  return tf.slice(state, [0, 0, 0, 0], [-1, -1, -1, alphaChannel + 1]);
}

/** Each sample's mean squared RGBA error against the target, [B]. */
export function sampleLoss(state: tf.Tensor4D, target: tf.Tensor4D, alphaChannel: number, weights?: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => {
    const squared = tf.square(tf.sub(rgbaOf(state, alphaChannel), target));
    return tf.mean(weights ? tf.mul(squared, weights) : squared, [1, 2, 3]);
  });
}

/** Runs `steps` steps without recording anything; calls `onState` with every new state (borrowed). */
export function rollout(
  step: TfStep,
  start: tf.Tensor4D,
  steps: number,
  fireMask: (step: number) => tf.Tensor4D,
  onState?: (state: tf.Tensor4D, index: number) => void,
): tf.Tensor4D {
  let state = tf.clone(start);
  for (let t = 0; t < steps; t++) {
    const fire = fireMask(t);
    const { next } = step.forward(state, fire);
    fire.dispose();
    state.dispose();
    state = next;
    onState?.(state, t + 1);
  }
  return state;
}

/**
 * Forward through the whole plan, keeping what backward needs, then back-propagation through
 * time: the loss gradient of each of the last `lossSteps` states joins the running gradient as
 * the backward pass reaches it. Peak memory is the forward's records (see `ActivationMemory`).
 * `poison` multiplies the start by NaN (the fault-injection hook for the divergence guard).
 */
export function rolloutGradients(
  step: TfStep,
  plan: RolloutPlan,
  lossSpec: LossSpec,
  memory: ActivationMemory,
  poison = false,
): RolloutGradients {
  const { steps } = plan;
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`a rollout needs at least 1 step, got ${steps}`);
  const alpha = step.arch.alphaChannel;
  const lossSteps = Math.max(1, Math.min(lossSpec.lossSteps, steps));
  const firstLossState = steps - lossSteps + 1;
  const [batch, height, width, channels] = plan.start.shape;
  const scale = 2 / (lossSteps * batch * height * width * (alpha + 1));

  const states: tf.Tensor4D[] = [poison ? (tf.mul(plan.start, NaN) as tf.Tensor4D) : tf.clone(plan.start)];
  const records: StepRecord[] = [];
  let perSampleSum: tf.Tensor1D = tf.zeros([batch]);
  for (let t = 0; t < steps; t++) {
    const damaged = plan.damage && plan.damage.step === t && t > 0;
    const input = damaged ? (tf.mul(states[t]!, plan.damage!.keep) as tf.Tensor4D) : states[t]!;
    const { next, record } = step.forward(input, plan.fireMask(t), memory);
    records.push(record!);
    states.push(next);
    if (t + 1 >= firstLossState) {
      const before = perSampleSum;
      perSampleSum = tf.tidy(() => tf.add(before, sampleLoss(next, lossSpec.target, alpha, lossSpec.weights)));
      before.dispose();
    }
  }
  const perSample = Float32Array.from(perSampleSum.dataSync() as Float32Array, (sum) => sum / lossSteps);
  perSampleSum.dispose();
  const loss = perSample.reduce((sum, v) => sum + v, 0) / batch;

  const lossGradient = (state: tf.Tensor4D): tf.Tensor4D =>
    tf.tidy(() => {
      const error = tf.sub(rgbaOf(state, alpha), lossSpec.target);
      const diff = tf.mul(lossSpec.weights ? tf.mul(error, lossSpec.weights) : error, scale);
      return tf.pad(diff, [[0, 0], [0, 0], [0, 0], [0, channels - alpha - 1]]) as tf.Tensor4D;
    });

  const gradients: tf.Tensor[] = step.network.variables.map((v) => tf.zeros(v.shape));
  let grad = lossGradient(states[steps]!);
  const final = states[steps]!;
  for (let t = steps - 1; t >= 0; t--) {
    const record = records[t]!;
    const inputGrad = step.backward(record, grad, gradients, t > 0);
    grad.dispose();
    disposeRecord(record);
    if (record.input !== states[t]) record.input.dispose();
    if (t + 1 < steps) states[t + 1]!.dispose();
    if (t === 0) break;
    const damaged = plan.damage !== undefined && plan.damage.step === t;
    if (!damaged && t < firstLossState) {
      grad = inputGrad!;
      continue;
    }
    grad = tf.tidy(() => {
      const g = damaged ? tf.mul(inputGrad!, plan.damage!.keep) : inputGrad!;
      return (t >= firstLossState ? tf.add(g, lossGradient(states[t]!)) : tf.clone(g)) as tf.Tensor4D;
    });
    inputGrad!.dispose();
  }
  states[0]!.dispose();
  return { loss, perSample, final, gradients };
}
