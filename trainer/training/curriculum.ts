/**
 * The curriculum: training starts easy (short rollouts, mild perturbations) and gets harder each
 * time the smoothed loss passes a threshold, up to the task's caps.
 *
 * Difficulty is a level 0..levels-1; every setting is interpolated linearly between the task's
 * `easy` and `hard` ends at fraction level / (levels - 1). The threshold is relative to the
 * trivial loss (the loss of an empty grid against the target), so it means the same for every
 * sprite and grid: with threshold 0.1 a level is passed once the smoothed error is a tenth of
 * "draw nothing".
 */
import type { Task } from '../../runtime/format/types.js';

/** The difficulty knobs of one level. Radii are fractions of the target's radius (half its diagonal). */
export interface Difficulty {
  /** Rollout length is drawn uniformly from [minSteps, maxSteps]. */
  readonly minSteps: number;
  readonly maxSteps: number;
  /** Standard deviation of the Gaussian noise added to the living cells of the start state. */
  readonly noise: number;
  /**
   * Growth: the start keeps the target only within this fraction of its radius around the
   * centre, plus the seed cell (0 = the bare seed, the model's real start).
   */
  readonly truncation: number;
  /** Healing: discs cut out of the start state, count and radius. */
  readonly bites: number;
  readonly biteRadius: number;
  /** Probability that a rollout is also bitten once at a random step in its first half. */
  readonly lateDamage: number;
}

export interface CurriculumOptions {
  readonly levels: number;
  /** Pass a level when the smoothed loss is below threshold x the trivial loss... */
  readonly threshold: number;
  /** ...after at least this many iterations at the level. */
  readonly patience: number;
  /** Weight of the newest loss in the exponential moving average. */
  readonly smoothing: number;
  readonly easy: Difficulty;
  readonly hard: Difficulty;
}

/** What a checkpoint stores to continue the curriculum exactly. */
export interface CurriculumState {
  readonly level: number;
  readonly iterationsAtLevel: number;
  /** Smoothed loss, or null before the first iteration at this level. */
  readonly smoothed: number | null;
}

/** The default easy and hard ends of each task (docs/training.md explains them). */
export function defaultDifficulty(task: Task): { easy: Difficulty; hard: Difficulty } {
  switch (task) {
    case 'growth':
      return {
        easy: { minSteps: 32, maxSteps: 48, noise: 0, truncation: 0.6, bites: 0, biteRadius: 0, lateDamage: 0 },
        hard: { minSteps: 64, maxSteps: 96, noise: 0, truncation: 0, bites: 0, biteRadius: 0, lateDamage: 0 },
      };
    case 'persistence':
      return {
        easy: { minSteps: 16, maxSteps: 32, noise: 0.02, truncation: 1, bites: 0, biteRadius: 0, lateDamage: 0 },
        hard: { minSteps: 96, maxSteps: 160, noise: 0.2, truncation: 1, bites: 0, biteRadius: 0, lateDamage: 0 },
      };
    case 'healing':
      return {
        easy: { minSteps: 24, maxSteps: 40, noise: 0, truncation: 1, bites: 1, biteRadius: 0.15, lateDamage: 0 },
        hard: { minSteps: 64, maxSteps: 96, noise: 0.05, truncation: 1, bites: 3, biteRadius: 0.4, lateDamage: 0.5 },
      };
  }
}

/**
 * The essay's curriculum (`--preset essay`): every perturbation at step 0, none later. Training
 * starts from "essentially a slightly noisy version of the target image" and ends at "a heavily
 * cropped version with substantial noise and missing pixels" (growth: cropped to the run's
 * --crop, the model's start), the step count growing with the level.
 */
export function essayDifficulty(task: Task): { easy: Difficulty; hard: Difficulty } {
  const calm = { bites: 0, biteRadius: 0, lateDamage: 0 };
  switch (task) {
    case 'growth':
      return {
        easy: { minSteps: 16, maxSteps: 32, noise: 0.02, truncation: 1, ...calm },
        hard: { minSteps: 64, maxSteps: 96, noise: 0.1, truncation: 0, bites: 2, biteRadius: 0.1, lateDamage: 0 },
      };
    case 'persistence':
      return {
        easy: { minSteps: 16, maxSteps: 32, noise: 0.02, truncation: 1, ...calm },
        hard: { minSteps: 96, maxSteps: 160, noise: 0.2, truncation: 1, ...calm },
      };
    case 'healing':
      return {
        easy: { minSteps: 24, maxSteps: 40, noise: 0.02, truncation: 1, bites: 1, biteRadius: 0.15, lateDamage: 0 },
        hard: { minSteps: 64, maxSteps: 96, noise: 0.1, truncation: 1, bites: 3, biteRadius: 0.4, lateDamage: 0 },
      };
  }
}

function lerp(a: number, b: number, t: number): number {
  return a + (b - a) * t;
}

export class Curriculum {
  readonly options: CurriculumOptions;
  private levelValue = 0;
  private atLevel = 0;
  private smoothedValue: number | null = null;

  constructor(options: CurriculumOptions, state?: CurriculumState) {
    if (!Number.isInteger(options.levels) || options.levels < 1) throw new RangeError(`curriculum levels must be >= 1, got ${options.levels}`);
    this.options = options;
    if (state) {
      this.levelValue = Math.min(state.level, options.levels - 1);
      this.atLevel = state.iterationsAtLevel;
      this.smoothedValue = state.smoothed;
    }
  }

  get level(): number {
    return this.levelValue;
  }

  /** Puts the curriculum back to a state it reported earlier (a recovery, recovery.ts). */
  restore(state: CurriculumState): void {
    this.levelValue = Math.min(state.level, this.options.levels - 1);
    this.atLevel = state.iterationsAtLevel;
    this.smoothedValue = state.smoothed;
  }

  get smoothed(): number | null {
    return this.smoothedValue;
  }

  get state(): CurriculumState {
    return { level: this.levelValue, iterationsAtLevel: this.atLevel, smoothed: this.smoothedValue };
  }

  /** The settings of `level` (default: the current one). Step counts are rounded. */
  difficulty(level = this.levelValue): Difficulty {
    const { easy, hard, levels } = this.options;
    const t = levels === 1 ? 1 : level / (levels - 1);
    const minSteps = Math.round(lerp(easy.minSteps, hard.minSteps, t));
    return {
      minSteps,
      maxSteps: Math.max(minSteps, Math.round(lerp(easy.maxSteps, hard.maxSteps, t))),
      noise: lerp(easy.noise, hard.noise, t),
      truncation: lerp(easy.truncation, hard.truncation, t),
      bites: Math.round(lerp(easy.bites, hard.bites, t)),
      biteRadius: lerp(easy.biteRadius, hard.biteRadius, t),
      lateDamage: lerp(easy.lateDamage, hard.lateDamage, t),
    };
  }

  /** The hardest settings (what the exported model faces: its longest rollouts). */
  get hardest(): Difficulty {
    return this.difficulty(this.options.levels - 1);
  }

  /**
   * Records one iteration's loss; returns true if this raised the level. The moving average
   * restarts at a new level, so a level is judged only on its own losses.
   */
  record(loss: number, trivialLoss: number): boolean {
    const { smoothing, threshold, patience, levels } = this.options;
    this.smoothedValue = this.smoothedValue === null ? loss : (1 - smoothing) * this.smoothedValue + smoothing * loss;
    this.atLevel += 1;
    if (this.levelValue >= levels - 1 || this.atLevel < patience) return false;
    if (!(this.smoothedValue < threshold * trivialLoss)) return false;
    this.levelValue += 1;
    this.atLevel = 0;
    this.smoothedValue = null;
    return true;
  }
}
