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

/**
 * A stepper whose state lives in this thread as a `CaState`: bites, reads and resets are the
 * same for every such engine; a subclass says only how to advance the state.
 */
export abstract class LocalStepper implements Stepper {
  private readonly start: CaState;
  private state: CaState;
  private stepIndex = 0;

  constructor(start: CaState) {
    this.start = cloneState(start);
    this.state = cloneState(start);
  }

  /** The state `steps` steps on from `state`, whose first step has index `firstStep`. */
  protected abstract advance(state: CaState, firstStep: number, steps: number): CaState;

  step(n: number): void {
    this.state = this.advance(this.state, this.stepIndex, n);
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

/** The reference step (`runSteps`): exact, single-threaded, tens of ms per step at 64 x 64. */
export class ReferenceStepper extends LocalStepper {
  constructor(
    private readonly architecture: Architecture,
    start: CaState,
    private readonly seed: number,
  ) {
    super(start);
  }

  protected advance(state: CaState, firstStep: number, steps: number): CaState {
    return runSteps(this.architecture, state, { seed: this.seed, steps, startStep: firstStep });
  }
}

export const referenceStepper: StepperFactory = (model, start, seed) => new ReferenceStepper(model.architecture, start, seed);
