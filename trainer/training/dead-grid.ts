/**
 * The dead-grid watch: a batch whose every sample has died by the end of its rollout teaches
 * nothing (the loss is an empty grid's), so a long streak of them is worth a warning with what
 * to change. The loop first tries a recovery (recovery.ts); it warns when none is left, and never
 * stops the run.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Architecture } from '../../runtime/format/types.js';
import type { TfStep } from '../model/step.js';

/** Iterations in a row with every sample dead before the run warns (once per streak). */
export const DEAD_STREAK_WARNING = 20;

/** Share of cells that pass the rule's alive test, [B,H,W,C] -> 0..1 (one readback). */
export function aliveShareOf(state: tf.Tensor4D, step: TfStep): number {
  return tf.tidy(() => tf.mean(step.aliveFlags(state)).dataSync()[0]!);
}

export class DeadGridWatch {
  private streak = 0;

  constructor(private readonly arch: Architecture) {}

  /** Whether the last iteration had living samples (no streak under way). */
  get healthy(): boolean {
    return this.streak === 0;
  }

  /** Starts counting afresh (after a recovery). */
  reset(): void {
    this.streak = 0;
  }

  /** Records iteration `iteration` (counted from 1); returns the warning when a streak reaches the limit. */
  observe(aliveShare: number, iteration: number): string | undefined {
    this.streak = aliveShare === 0 ? this.streak + 1 : 0;
    if (this.streak !== DEAD_STREAK_WARNING) return undefined;
    return (
      `every sample has died by the end of its rollout for ${DEAD_STREAK_WARNING} iterations in a row (iteration ${iteration}): ` +
      'a dead grid teaches nothing. Try a lower --lr, another --seed' +
      (this.arch.aliveMode === 'own-alpha' ? ', --init keep and --alive-gradient ramp (the defaults)' : '') +
      ', or an easier curriculum'
    );
  }
}
