import type { Architecture } from '../format/types.js';
import { aliveMask } from './alive.js';
import { checkArchitecture } from './architecture.js';
import { fireKey, fires, fireThreshold } from './fire-hash.js';
import { perceptionKernels } from './kernels.js';
import { applyLayers, layerBuffers } from './network.js';
import { perceive } from './perceive.js';
import { checkState, cloneState, type CaState } from './state.js';

/** Which elements update: true = fires. Per-cell granularity asks with c = 0 only. */
export type FireMask = (x: number, y: number, c: number) => boolean;

export interface StepOptions {
  /** Seed of the fire mask, a uint32. */
  readonly seed: number;
  /** Step index n, absorbed into the fire mask's key. */
  readonly step: number;
  /** Replaces `arch.fireRate`, in [0, 1]. */
  readonly fireRate?: number;
  /** Radians; rotates gradient-pair kernels (see `perceptionKernels`). */
  readonly rotation?: number;
  /**
   * Replaces the hash mask (and makes seed, step and fireRate unused), so the trainer can run the
   * reference with its own random mask. Per-cell granularity calls it with c = 0 only.
   */
  readonly fireMask?: FireMask;
}

export interface RunOptions {
  readonly seed: number;
  /** Number of steps, >= 0. */
  readonly steps: number;
  /** Index of the first step (default 0): step i uses index startStep + i. */
  readonly startStep?: number;
  readonly fireRate?: number;
  readonly rotation?: number;
}

/** The hash mask of one step (docs/format.md, "The fire mask: NCA-Hash-4091"). */
export function hashFireMask(seed: number, step: number, fireRate: number): FireMask {
  const key = fireKey(seed, step);
  const threshold = fireThreshold(fireRate);
  return (x, y, c) => fires(key, threshold, x, y, c);
}

/**
 * The step with everything resolved (kernels already rotated, mask chosen); `stepOnce` and
 * `runSteps` share it so a run computes its kernels once. Arguments are not checked.
 */
export function stepWithKernels(arch: Architecture, kernels: readonly Float32Array[], state: CaState, fireMask: FireMask): CaState {
  const { width, height, channels, data } = state;
  const { layers } = arch;
  // 1. max-pool's pre-update mask, judged on the incoming state.
  const before = arch.aliveMode === 'max-pool' ? aliveMask(state, arch) : undefined;
  const next = new Float32Array(data.length);
  const perception = new Float32Array(kernels.length * channels);
  const buffers = layerBuffers(layers);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // 2-3. perception and the network; float32 storage between stages.
      perceive(state, kernels, arch.perceptionOrder, x, y, perception);
      const output = applyLayers(layers, perception, buffers);
      // 4-5. fire mask and update.
      const cellFires = arch.fireGranularity === 'cell' ? fireMask(x, y, 0) : undefined;
      const base = (y * width + x) * channels;
      for (let c = 0; c < channels; c++) {
        const old = data[base + c]!;
        const fire = cellFires ?? fireMask(x, y, c);
        if (!fire) next[base + c] = old;
        else next[base + c] = arch.update === 'replace' ? output[c]! : old + output[c]!;
      }
    }
  }
  // 6. alive masking on the updated state; dead cells become all zero.
  const result: CaState = { width, height, channels, data: next };
  const after = aliveMask(result, arch);
  for (let cell = 0; cell < width * height; cell++) {
    if (after[cell] === 1 && (before === undefined || before[cell] === 1)) continue;
    next.fill(0, cell * channels, (cell + 1) * channels);
  }
  return result;
}

/**
 * One CA step as defined in docs/format.md ("Running a model: the step"): max-pool pre-mask,
 * perception with zero padding, the layers, the fire mask (NCA-Hash-4091 of `seed` and `step`
 * at `fireRate ?? arch.fireRate`, or the injected `fireMask`), replace or residual update,
 * alive masking. Pure: `state` is not modified; a new state is returned.
 *
 * Arithmetic: every sum and activation is computed in JS doubles; the perception vector, each
 * layer's output and the updated state are stored as float32 (one rounding per stage).
 * @throws RangeError for an inconsistent architecture, a state of another channel count, a seed
 * that is not a uint32, a bad step index, fire rate or rotation.
 */
export function stepOnce(arch: Architecture, state: CaState, options: StepOptions): CaState {
  checkArchitecture(arch);
  checkState(state, arch.channels);
  const kernels = perceptionKernels(arch, options.rotation);
  const mask = options.fireMask ?? hashFireMask(options.seed, options.step, options.fireRate ?? arch.fireRate);
  return stepWithKernels(arch, kernels, state, mask);
}

/**
 * `steps` steps from `state` with step indices startStep, startStep+1, ... (default from 0), all
 * with the same seed, fire rate and rotation. `steps = 0` returns a copy. Pure.
 */
export function runSteps(arch: Architecture, state: CaState, options: RunOptions): CaState {
  checkArchitecture(arch);
  checkState(state, arch.channels);
  const { seed, steps, startStep = 0 } = options;
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`steps must be a non-negative integer, got ${steps}`);
  const kernels = perceptionKernels(arch, options.rotation);
  const fireRate = options.fireRate ?? arch.fireRate;
  let current = cloneState(state);
  for (let i = 0; i < steps; i++) {
    current = stepWithKernels(arch, kernels, current, hashFireMask(seed, startStep + i, fireRate));
  }
  return current;
}
