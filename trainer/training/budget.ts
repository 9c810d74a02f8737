/**
 * The --minutes budget: when training time runs out the run stops and exports the best weights
 * seen so far (highest curriculum level, then lowest smoothed loss), not the last ones, since a
 * budget stop lands at an arbitrary iteration.
 */
import type { TrainableNetwork } from '../model/network.js';

interface BestWeights {
  readonly weights: Float32Array[];
  readonly iteration: number;
  readonly level: number;
  readonly smoothed: number;
}

export class Budget {
  private best: BestWeights | undefined;

  /** `minutes` 0: no budget. */
  constructor(readonly minutes: number) {}

  get limited(): boolean {
    return this.minutes > 0;
  }

  /** True once `seconds` of training have used the budget up. */
  spent(seconds: number): boolean {
    return this.limited && seconds >= this.minutes * 60;
  }

  /** Training seconds left (for the iteration event), undefined without a budget. */
  left(seconds: number): number | undefined {
    return this.limited ? Math.max(0, this.minutes * 60 - seconds) : undefined;
  }

  /** Keeps the network's weights after `iteration` when they are the best so far. */
  consider(network: TrainableNetwork, iteration: number, level: number, smoothed: number): void {
    const best = this.best;
    if (this.limited && (!best || level > best.level || (level === best.level && smoothed < best.smoothed))) {
      this.best = { weights: network.read(), iteration, level, smoothed };
    }
  }

  /** Puts the best weights back into `network` and says what was stopped and exported. */
  restoreBest(network: TrainableNetwork, iteration: number): string {
    const best = this.best;
    if (best) network.assign(best.weights);
    return (
      `training budget of ${this.minutes} min reached after ${iteration} iterations; exporting the best weights so far` +
      (best ? ` (iteration ${best.iteration}, level ${best.level}, smoothed loss ${best.smoothed.toPrecision(3)})` : '')
    );
  }
}
