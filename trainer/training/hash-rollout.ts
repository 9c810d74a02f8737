/**
 * Rollouts of the tfjs step as a page runs a model: the NCA-Hash-4091 fire mask of the reference
 * step and the browser runtime (training draws its own masks). The previews show these frames,
 * and the parity tests hold them against the reference step.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Architecture } from '../../runtime/format/types.js';
import { hashFireMask, type CaState } from '../../runtime/reference/index.js';
import type { TfStep } from '../model/step.js';
import { rollout } from './rollout.js';

/**
 * The inference fire mask of step `step` as a [1,H,W,C] (per element) or [1,H,W,1] (per cell)
 * tensor: exactly what the reference step and the browser runtime use for `seed`.
 */
export function hashFireTensor(arch: Architecture, width: number, height: number, seed: number, step: number): tf.Tensor4D {
  const fires = hashFireMask(seed, step, arch.fireRate);
  const depth = arch.fireGranularity === 'cell' ? 1 : arch.channels;
  const mask = new Float32Array(width * height * depth);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < depth; c++) mask[(y * width + x) * depth + c] = fires(x, y, c) ? 1 : 0;
    }
  }
  return tf.tensor4d(mask, [1, height, width, depth]);
}

/**
 * Runs the tfjs step from `start` for `steps` steps with the hash mask of `seed` (step indices
 * 0, 1, ...) and returns the states after each step listed in `keep` (0 = the start). `damage`
 * is applied to the state entering its step (preview of healing).
 */
export function hashRollout(
  step: TfStep,
  start: CaState,
  steps: number,
  seed: number,
  keep: readonly number[],
  damage?: { readonly step: number; readonly apply: (state: CaState) => void },
): CaState[] {
  const { width, height, channels } = start;
  const frames = new Map<number, CaState>();
  const read = (tensor: tf.Tensor4D): CaState => ({ width, height, channels, data: Float32Array.from(tensor.dataSync() as Float32Array) });
  if (keep.includes(0)) frames.set(0, { ...start, data: start.data.slice() });
  let state = tf.tensor4d(start.data, [1, height, width, channels]);
  let done = 0;
  const segments = damage && damage.step > 0 && damage.step < steps ? [damage.step, steps] : [steps];
  for (const end of segments) {
    const from = done;
    const next = rollout(
      step,
      state,
      end - from,
      (t) => hashFireTensor(step.arch, width, height, seed, from + t),
      (s, index) => {
        if (keep.includes(from + index)) frames.set(from + index, read(s));
      },
    );
    state.dispose();
    state = next;
    done = end;
    if (damage && end === damage.step) {
      const damaged = read(state);
      damage.apply(damaged);
      state.dispose();
      state = tf.tensor4d(damaged.data, [1, height, width, channels]);
    }
  }
  state.dispose();
  return keep.map((index) => frames.get(index)!).filter((frame) => frame !== undefined);
}
