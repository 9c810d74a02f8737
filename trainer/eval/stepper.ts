/**
 * The one thing eval and render need from an engine: advance, look, bite, start over. The
 * reference step implements it here; another engine (gpu.js under headless-gl, say) plugs in with
 * one adapter of these four methods. Methods may return promises so an engine whose read-back is
 * asynchronous fits too; callers always `await`.
 */
import type { Architecture, NcaModel } from '../../runtime/format/types.js';
import { cloneState, damageDisc, runSteps, type CaState } from '../../runtime/reference/index.js';

/** Callers step in chunks of at most this many steps, so progress can be reported between them. */
export const PROGRESS_CHUNK = 25;

export interface Stepper {
  /** Advances `n` >= 0 steps. Step indices continue across calls and bites (0 after `reset`). */
  step(n: number): void | Promise<void>;
  /** A copy of the current state, which the caller may keep or change. */
  readState(): CaState | Promise<CaState>;
  /** Clears the cells of a disc, as `damageDisc` does (cell coordinates, radius in cells). */
  damage(x: number, y: number, radius: number): void | Promise<void>;
  /** Back to the start state and step index 0. */
  reset(): void | Promise<void>;
}

/** Builds a stepper that runs `model` from `start` with fire-mask seed `seed`. */
export type StepperFactory = (model: NcaModel, start: CaState, seed: number) => Stepper;

/** The reference step (`runSteps`): exact, single-threaded, tens of ms per step at 64 x 64. */
export class ReferenceStepper implements Stepper {
  private readonly architecture: Architecture;
  private readonly start: CaState;
  private readonly seed: number;
  private state: CaState;
  private stepIndex = 0;

  constructor(architecture: Architecture, start: CaState, seed: number) {
    this.architecture = architecture;
    this.start = cloneState(start);
    this.seed = seed;
    this.state = cloneState(start);
  }

  step(n: number): void {
    this.state = runSteps(this.architecture, this.state, { seed: this.seed, steps: n, startStep: this.stepIndex });
    this.stepIndex += n;
  }

  readState(): CaState {
    return cloneState(this.state);
  }

  damage(x: number, y: number, radius: number): void {
    damageDisc(this.state, x, y, radius);
  }

  reset(): void {
    this.state = cloneState(this.start);
    this.stepIndex = 0;
  }
}

export const referenceStepper: StepperFactory = (model, start, seed) => new ReferenceStepper(model.architecture, start, seed);
