/**
 * A `Stepper` (eval/stepper.ts) on the fused WebAssembly kernel: the held-in check's fast screen.
 *
 * It runs the format's step (perception, layers, update, alive masking) in float32 SIMD, with one
 * difference from `nca eval`'s reference step: the fire mask is the trainer's counter-based hash
 * (fire-mask.ts), not NCA-Hash-4091. The same rate, other coin flips: a run on it is what `nca
 * eval` would see with another fire-mask seed, not the same run. So a verdict from here is a
 * screen; a pass is confirmed on the reference step (training/held-in.ts).
 */
import type { NcaModel } from '../../runtime/format/types.js';
import type { CaState } from '../../runtime/reference/index.js';
import { LocalStepper, type StepperFactory } from '../eval/stepper.js';
import { trainerLayout } from '../model/layout.js';
import { FusedEngine, fusedSupport } from './engine.js';

export class FusedStepper extends LocalStepper {
  private readonly engine: FusedEngine;
  private readonly weights: Float32Array[];
  private readonly seed: number;

  /** @throws RangeError when the fused kernel cannot run this model (`fusedSupport`). */
  constructor(model: NcaModel, start: CaState, seed: number) {
    super(start);
    this.engine = new FusedEngine(model.architecture);
    this.weights = trainerLayout(model.architecture);
    this.seed = seed >>> 0;
  }

  protected advance(state: CaState, firstStep: number, steps: number): CaState {
    const data = Float32Array.from(state.data);
    this.engine.advance(data, state.width, state.height, this.weights, this.seed, firstStep, steps);
    return { ...state, data };
  }
}

export const fusedStepper: StepperFactory = (model, start, seed) => new FusedStepper(model, start, seed);

/** Whether `fusedStepper` can run `model`. */
export function fusedCanRun(model: NcaModel): boolean {
  return fusedSupport(model.architecture) === undefined;
}
