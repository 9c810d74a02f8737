/**
 * The --minutes budget: when training time runs out the run stops and exports the best weights
 * seen so far (the best-scoring ones that passed a held-in check, else the highest curriculum
 * level, then the lowest smoothed loss), not the last ones, since a
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
  /** Weights that passed a held-in check, the best-scoring one: preferred over `best`. */
  private passed: { readonly weights: Float32Array[]; readonly iteration: number; readonly score: number } | undefined;

  /** `minutes` 0: no budget. */
  constructor(readonly minutes: number) {}

  get limited(): boolean {
    return this.minutes > 0;
  }

  /** True once `seconds` of training have used the budget up. */
  spent(seconds: number): boolean {
    return this.reached(seconds, 1);
  }

  /** True once `seconds` of training have used `share` of the budget (never without one). */
  reached(seconds: number, share: number): boolean {
    return this.limited && seconds >= share * this.minutes * 60;
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

  /** Keeps weights that passed a held-in check when they score best among those that passed. */
  considerPassed(network: TrainableNetwork, iteration: number, score: number): void {
    if (this.limited && (!this.passed || score > this.passed.score)) this.passed = { weights: network.read(), iteration, score };
  }

  /** Puts the best weights back into `network` and says what was stopped and exported. */
  restoreBest(network: TrainableNetwork, iteration: number): string {
    const passed = this.passed;
    if (passed) {
      network.assign(passed.weights);
      return (
        `training budget of ${this.minutes} min reached after ${iteration} iterations; exporting the best weights that passed ` +
        `a held-in check (iteration ${passed.iteration}, ${passed.score.toFixed(2)} dB)`
      );
    }
    const best = this.best;
    if (best) network.assign(best.weights);
    return (
      `training budget of ${this.minutes} min reached after ${iteration} iterations; exporting the best weights so far` +
      (best ? ` (iteration ${best.iteration}, level ${best.level}, smoothed loss ${best.smoothed.toPrecision(3)})` : '')
    );
  }
}
