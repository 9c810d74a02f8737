/**
 * Adam with a piecewise-constant learning rate and per-variable gradient normalisation
 * (Distill's `g / (||g|| + 1e-8)`) or global-norm clipping. Written out (a dozen tensor ops)
 * rather than tf.train.adam so its whole state is plain arrays a checkpoint can hold and a resume
 * restores bit for bit.
 */
import * as tf from '@tensorflow/tfjs-core';

export type GradientTreatment =
  /** Each variable's gradient divided by its L2 norm (Distill). */
  | { readonly kind: 'normalize' }
  /** All gradients scaled down together when their global L2 norm exceeds `maxNorm`. */
  | { readonly kind: 'clip'; readonly maxNorm: number };

export interface AdamOptions {
  readonly learningRate: number;
  /** Iterations at which the rate is multiplied by `decayFactor` (Distill: [2000], 0.1). */
  readonly decayAt: readonly number[];
  readonly decayFactor: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly gradients: GradientTreatment;
}

/** Adam's moments and step count, as a checkpoint stores them. */
export interface AdamState {
  readonly step: number;
  readonly m: readonly Float32Array[];
  readonly v: readonly Float32Array[];
}

export function learningRateAt(options: AdamOptions, iteration: number): number {
  let rate = options.learningRate;
  for (const at of options.decayAt) if (iteration >= at) rate *= options.decayFactor;
  return rate;
}

/** The schedule with its first decay moved to `budgetAt` when that is sooner (or added when it has none). */
export function withBudgetDecay(decayAt: readonly number[], budgetAt: number): number[] {
  if (decayAt.length === 0) return [budgetAt];
  const first = Math.min(...decayAt);
  return decayAt.map((at) => (at === first ? Math.min(at, budgetAt) : at));
}

export class Adam {
  readonly options: AdamOptions;
  /**
   * A multiplier on the schedule's rate: 1, lowered by each recovery of a dead or diverged run
   * (recovery.ts) and kept in checkpoints.
   */
  rateScale = 1;
  /**
   * Set once a --minutes run has used BUDGET_DECAY_SHARE of its budget (train.ts): the iteration
   * from which the schedule's first decay applies, if that is sooner than its own. Kept in
   * checkpoints.
   */
  budgetDecayAt: number | undefined;
  private step = 0;
  private m: tf.Tensor[] = [];
  private v: tf.Tensor[] = [];

  constructor(options: AdamOptions) {
    this.options = options;
  }

  /** The rate applied at training iteration `iteration` (counted from 0). */
  rateAt(iteration: number): number {
    const budget = this.budgetDecayAt;
    const options = budget === undefined ? this.options : { ...this.options, decayAt: withBudgetDecay(this.options.decayAt, budget) };
    return learningRateAt(options, iteration) * this.rateScale;
  }

  /** L2 norm of every gradient (reported, and checked for NaN/Inf before any update). */
  static norms(gradients: readonly tf.Tensor[]): number[] {
    return gradients.map((g) => {
      const squared = tf.tidy(() => tf.sum(tf.square(g)));
      const norm = Math.sqrt(squared.dataSync()[0]!);
      squared.dispose();
      return norm;
    });
  }

  /**
   * Applies one update to `variables` with `gradients` (same order) whose norms are `norms`,
   * at training iteration `iteration` (for the learning-rate schedule).
   */
  apply(variables: readonly tf.Variable[], gradients: readonly tf.Tensor[], norms: readonly number[], iteration: number): void {
    const { beta1, beta2, epsilon, gradients: treatment } = this.options;
    if (this.m.length === 0) {
      this.m = variables.map((v) => tf.zeros(v.shape));
      this.v = variables.map((v) => tf.zeros(v.shape));
    }
    this.step += 1;
    const rate = this.rateAt(iteration);
    const correction1 = 1 - beta1 ** this.step;
    const correction2 = 1 - beta2 ** this.step;
    const globalNorm = Math.sqrt(norms.reduce((sum, n) => sum + n * n, 0));
    variables.forEach((variable, i) => {
      let factor = 1;
      if (treatment.kind === 'normalize') factor = 1 / (norms[i]! + 1e-8);
      else if (globalNorm > treatment.maxNorm) factor = treatment.maxNorm / globalNorm;
      const [m, v] = tf.tidy(() => {
        const g = tf.mul(gradients[i]!, factor);
        const m = tf.add(tf.mul(this.m[i]!, beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(this.v[i]!, beta2), tf.mul(tf.square(g), 1 - beta2));
        const update = tf.div(tf.mul(m, rate / correction1), tf.add(tf.sqrt(tf.div(v, correction2)), epsilon));
        variable.assign(tf.sub(variable, update));
        return [m, v];
      });
      this.m[i]!.dispose();
      this.v[i]!.dispose();
      this.m[i] = m!;
      this.v[i] = v!;
    });
  }

  get state(): AdamState {
    return {
      step: this.step,
      m: this.m.map((t) => Float32Array.from(t.dataSync() as Float32Array)),
      v: this.v.map((t) => Float32Array.from(t.dataSync() as Float32Array)),
    };
  }

  /** Restores moments saved by `state` for variables of the given shapes. */
  restore(state: AdamState, shapes: readonly number[][]): void {
    this.dispose();
    this.step = state.step;
    if (state.m.length === 0) return;
    this.m = state.m.map((values, i) => tf.tensor(values, shapes[i]));
    this.v = state.v.map((values, i) => tf.tensor(values, shapes[i]));
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
    this.m = [];
    this.v = [];
  }
}
