/**
 * Recovery of a dead or diverged run: instead of stopping (divergence) or only warning (every
 * sample dead), the run goes back to its last healthy state (weights, Adam moments, curriculum
 * and pool as they were), halves its learning rate and trains on, a bounded number of times.
 * The iteration counter and the random stream go on, so the run does not repeat the same batches
 * and its --minutes budget still counts wall-clock time.
 *
 * The healthy state is kept in memory (the pool by reference: its slots are replaced, never
 * written into), taken after the first iteration whose samples live (none overgrown, the smoothed
 * loss below an empty grid's) and then at each checkpoint interval while that holds. A run that was never healthy has nothing to go back to.
 */
import type { AdamState } from './optimizer.js';
import type { CurriculumState } from './curriculum.js';
import type { Session } from './session.js';

/** Each recovery multiplies the learning rate by this. */
export const RECOVERY_RATE_FACTOR = 0.5;

interface HealthyState {
  readonly iteration: number;
  readonly weights: Float32Array[];
  readonly adam: AdamState;
  readonly curriculum: CurriculumState;
  readonly pool: (Float32Array | null)[];
}

export type RecoveryCause = 'dead' | 'diverged' | 'overgrown';

export interface RecoveryReport {
  /** The iteration whose state the run went back to. */
  readonly restoredFrom: number;
  readonly learningRateScale: number;
  readonly recoveriesLeft: number;
}

export class Recovery {
  private healthy: HealthyState | undefined;

  constructor(
    private readonly session: Session,
    private readonly maxRecoveries: number,
  ) {}

  get left(): number {
    return Math.max(0, this.maxRecoveries - this.session.history.recoveries);
  }

  get hasHealthy(): boolean {
    return this.healthy !== undefined;
  }

  /** Remembers the session as it stands (after `iteration` completed iterations) as healthy. */
  remember(): void {
    const { network, adam, curriculum, pool, history } = this.session;
    this.healthy = { iteration: history.iteration, weights: network.read(), adam: adam.state, curriculum: curriculum.state, pool: [...pool] };
  }

  /**
   * Goes back to the last healthy state with a lower learning rate, or returns null when the run
   * has no recovery left (the caller stops or warns as before).
   */
  recover(): RecoveryReport | null {
    const healthy = this.healthy;
    if (!healthy || this.left === 0) return null;
    const { network, adam, curriculum, pool, history } = this.session;
    network.assign(healthy.weights);
    adam.restore(healthy.adam, network.variables.map((v) => v.shape));
    curriculum.restore(healthy.curriculum);
    pool.splice(0, pool.length, ...healthy.pool);
    adam.rateScale *= RECOVERY_RATE_FACTOR;
    history.recoveries += 1;
    return { restoredFrom: healthy.iteration, learningRateScale: adam.rateScale, recoveriesLeft: this.left };
  }
}
