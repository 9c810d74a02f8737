/**
 * The overgrowth watch: a replace-update rule (the essay's) can flip into filling its whole world
 * (the essay's "Pikagoo") in a few iterations, and the loss of a flooded grid need not exceed the
 * divergence guard's bound (a flooded chick costs less than an empty grid). When the share of
 * living cells outside the target's box (grown by eval's margin) stays high, the run is treated
 * like a dead one: recovery.ts sends it back to its last healthy state with a lower rate.
 *
 * Only a run that has been healthy can flood. The essay's random first weights (`--init random`,
 * `--preset essay`) output sigmoid(~0) = 0.5 > 0.1 everywhere, so such a run starts with every cell
 * alive and spends its first iterations learning to clear its background: sending it back to
 * "iteration 20" with a halved rate (what a single lucky batch under the threshold used to allow)
 * only slowed that down, three times over, until the rate was an eighth.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Architecture } from '../../runtime/format/types.js';
import { overgrowthMargin } from '../eval/metrics.js';
import type { TaskSetting } from './samples.js';

/** Weight of the newest share in the moving average. */
const SMOOTHING = 0.1;
/** A run is flooded when the average share of living cells outside the box passes this... */
export const FLOODED_SHARE = 0.3;
/** ...after at least this many iterations (since the start or the last recovery). */
export const FLOOD_PATIENCE = 20;
/** A state is healthy enough to go back to when at most this share outside is alive. */
const HEALTHY_SHARE = 0.1;

export class OvergrowthWatch {
  /** Indices (y * width + x) of the cells outside the grown box. */
  private readonly outside: Uint32Array;
  private readonly threshold: number;
  private readonly alpha: number;
  private average = 0;
  private seen = 0;
  private last = 0;
  private wasHealthy = false;

  constructor(setting: Pick<TaskSetting, 'box' | 'width' | 'height'>, arch: Architecture) {
    const { x0, y0, x1, y1 } = setting.box;
    const margin = overgrowthMargin({ x: x0, y: y0, width: x1 - x0, height: y1 - y0 });
    const outside: number[] = [];
    for (let y = 0; y < setting.height; y++) {
      for (let x = 0; x < setting.width; x++) {
        if (!(x >= x0 - margin && x < x1 + margin && y >= y0 - margin && y < y1 + margin)) outside.push(y * setting.width + x);
      }
    }
    this.outside = Uint32Array.from(outside);
    this.threshold = arch.aliveThreshold;
    this.alpha = arch.alphaChannel;
  }

  /** Share of the cells outside the box whose own alpha passes the alive threshold, over the batch [B,H,W,C]. */
  shareOf(state: tf.Tensor4D): number {
    if (this.outside.length === 0) return 0;
    const [batch, height, width] = state.shape;
    const alpha = tf.tidy(() => tf.slice(state, [0, 0, 0, this.alpha], [-1, -1, -1, 1]).dataSync());
    let alive = 0;
    for (let b = 0; b < batch; b++) {
      const base = b * height * width;
      for (const cell of this.outside) if (alpha[base + cell]! > this.threshold) alive++;
    }
    return alive / (this.outside.length * batch);
  }

  /** Whether the last observed batch, and the average, are close enough to the box to go back to. */
  get healthy(): boolean {
    return this.last <= HEALTHY_SHARE && this.average <= HEALTHY_SHARE;
  }

  /** Whether the run's average has ever been healthy: before that, a flood is its start, not a fault. */
  get everHealthy(): boolean {
    return this.wasHealthy;
  }

  /** Records one iteration's share; returns the reason when the run counts as flooded. */
  observe(share: number, iteration: number): string | undefined {
    this.last = share;
    this.seen += 1;
    this.average = this.seen === 1 ? share : (1 - SMOOTHING) * this.average + SMOOTHING * share;
    if (this.healthy) this.wasHealthy = true;
    if (this.seen < FLOOD_PATIENCE || this.average <= FLOODED_SHARE) return undefined;
    return `the grid overgrew (iteration ${iteration}): on average ${(this.average * 100).toFixed(0)}% of the cells outside the target's box were alive at the end of the rollouts`;
  }

  /** Starts counting afresh (after a recovery, which went back to a healthy state). */
  reset(): void {
    this.average = 0;
    this.seen = 0;
    this.last = 0;
  }
}
