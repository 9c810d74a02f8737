/**
 * Drawing one iteration's batch from the run's RNG: start states (fresh or from the sample
 * pool, Distill's way), the rollout length, late bites and the fire-mask seed. The order of the
 * draws is part of a run's identity: a resumed run repeats an uninterrupted one only if every
 * draw comes in the same order.
 */
import type { Difficulty } from './curriculum.js';
import type { Rng } from './rng.js';
import type { TaskSetting } from './samples.js';

export interface Batch {
  /** Start states, [batch, height, width, channels]. */
  readonly starts: Float32Array;
  /** The pool slots the samples came from, in batch order (empty without a pool). */
  readonly drawn: readonly number[];
  readonly steps: number;
  /** A bite during the rollout: the state entering `step` is multiplied by `keep`, [batch, height, width]. */
  readonly damage?: { readonly step: number; readonly keep: Float32Array };
  /** uint32 seed of this iteration's fire masks. */
  readonly maskSeed: number;
}

export interface BatchOptions {
  readonly batch: number;
  readonly poolSize: number;
  /** How many of the best pool samples are bitten. */
  readonly poolDamage: number;
}

/** Start states from the pool: the worst sample restarts, the best few are bitten (regeneration). */
function fromPool(drawn: readonly number[], pool: readonly (Float32Array | null)[], setting: TaskSetting, difficulty: Difficulty, rng: Rng, poolDamage: number): Float32Array[] {
  const samples = drawn.map((slot) => pool[slot] ?? setting.start(difficulty, rng));
  const order = samples.map((sample, b) => ({ b, loss: setting.loss(sample) })).sort((p, q) => q.loss - p.loss);
  samples[order[0]!.b] = setting.start(difficulty, rng);
  for (const { b } of poolDamage > 0 ? order.slice(-poolDamage) : []) {
    const sample = samples[b]!.slice();
    setting.bite(sample, difficulty.biteRadius > 0 ? difficulty.biteRadius : rng.range(0.1, 0.4), rng);
    samples[b] = sample;
  }
  return samples;
}

/** Draws the batch of one iteration at `difficulty`. */
export function drawBatch(setting: TaskSetting, pool: readonly (Float32Array | null)[], difficulty: Difficulty, rng: Rng, options: BatchOptions): Batch {
  const { batch } = options;
  const cellValues = setting.cellValues;
  const cells = setting.width * setting.height;
  const starts = new Float32Array(batch * cellValues);
  const drawn = options.poolSize > 0 ? rng.sample(options.poolSize, batch) : [];
  if (drawn.length > 0) {
    fromPool(drawn, pool, setting, difficulty, rng, options.poolDamage).forEach((sample, b) => starts.set(sample, b * cellValues));
  } else {
    for (let b = 0; b < batch; b++) starts.set(setting.start(difficulty, rng), b * cellValues);
  }
  const steps = rng.int(difficulty.minSteps, difficulty.maxSteps);
  let keep: Float32Array | undefined;
  if (difficulty.lateDamage > 0) {
    for (let b = 0; b < batch; b++) {
      if (rng.uniform() >= difficulty.lateDamage) continue;
      keep ??= new Float32Array(batch * cells).fill(1);
      keep.set(setting.keepMask(difficulty.biteRadius, rng), b * cells);
    }
  }
  const damageStep = keep ? rng.int(1, Math.max(1, Math.floor(steps / 2))) : 0;
  const maskSeed = rng.nextUint32();
  return { starts, drawn, steps, ...(keep ? { damage: { step: damageStep, keep } } : {}), maskSeed };
}

/** Puts the batch's final states back into the pool slots they were drawn from. */
export function returnToPool(pool: (Float32Array | null)[], drawn: readonly number[], finals: Float32Array, cellValues: number): void {
  drawn.forEach((slot, b) => {
    pool[slot] = finals.slice(b * cellValues, (b + 1) * cellValues);
  });
}
