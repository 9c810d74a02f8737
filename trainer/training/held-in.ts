/**
 * The held-in check: every few hundred iterations the weights as they stand are scored the way
 * `nca eval` scores a model (the same criteria and thresholds, on the training target), with a
 * shorter long run. Its verdict drives the early stop and its score the progress line.
 *
 * A pass is then confirmed by the undamaged run to the eval's horizon (`--check-long`, `nca
 * eval`'s 1,000 steps by default): models of the essay rule drift slowly, and one that holds 500
 * steps can fall below the bar by 1,000 or 2,000 (a hamster healing model measured 20.5 dB at 500,
 * 19.6 at 2,000). Only passes pay for it, and they are rare, so checks stay cheap; what a pass
 * exports then passes `nca eval` at that horizon.
 *
 * A check first screens the model on the fused kernel (fused/stepper.ts: the same step in float32
 * SIMD, other fire-mask coin flips), to the confirmation's horizon: about a hundred times faster
 * than the reference step (the gallery's 24-pixel lizard: 0.5 s against 61 s). Only a model that
 * passes the screen pays for the exact check, on the reference step that `nca eval` runs, so a
 * pass means what `nca eval` says, while most checks cost seconds even at 72 x 72, where the
 * reference alone took 4 minutes. Checks run in this thread, spaced to cost at most about
 * 1 / (CHECK_SPACING + 1) of the training time: a check that took t seconds is followed by at
 * least CHECK_SPACING x t seconds of training before the next.
 */
import type { NcaModel, Task } from '../../runtime/format/types.js';
import { DEFAULT_HEAL_STEPS, DEFAULT_LONG_STEPS, defaultSteps, evaluateModel, targetFromState, type EvalResult } from '../eval/evaluate.js';
import type { StepperFactory } from '../eval/stepper.js';
import { fusedCanRun, fusedStepper } from '../fused/stepper.js';

/** Training seconds between checks, as a multiple of the last check's own time. */
export const CHECK_SPACING = 7;
/** The check's undamaged run for persistence and healing (`nca eval` runs 1,000 by default). */
export const CHECK_LONG_STEPS = 500;

export interface CheckResult {
  readonly iteration: number;
  readonly verdict: 'pass' | 'fail';
  /** The task's headline figure in dB: PSNR at N (growth), at the long run's end (persistence), mean healed PSNR (healing). */
  readonly score: number;
  /** "PSNR 23.4 dB at step 500" and so on. */
  readonly scoreText: string;
  /** Why it failed (empty on a pass). */
  readonly reasons: readonly string[];
  readonly seconds: number;
  /** Whether the verdict is the reference step's (what `nca eval` runs), not the fused screen's. */
  readonly exact: boolean;
}

/** The check's step counts for a task: `nca eval`'s N and K, a shorter long run. */
export function checkSteps(task: Task): { steps: number; healSteps: number; longSteps: number } {
  const steps = defaultSteps(task);
  if (task === 'growth') return { steps, healSteps: 0, longSteps: steps };
  return { steps, healSteps: task === 'healing' ? DEFAULT_HEAL_STEPS : 0, longSteps: Math.max(CHECK_LONG_STEPS, steps) };
}

function headline(task: Task, result: EvalResult): { score: number; scoreText: string } {
  if (task === 'growth') {
    const s = result.growth.snapshot;
    return { score: s.psnr, scoreText: `PSNR ${s.psnr.toFixed(1)} dB at step ${s.step}` };
  }
  if (task === 'persistence') {
    const last = result.persistence.checkpoints[result.persistence.checkpoints.length - 1]!;
    return { score: last.psnr, scoreText: `PSNR ${last.psnr.toFixed(1)} dB at step ${last.step}` };
  }
  const bites = result.healing.bites;
  const healed = bites.reduce((sum, b) => sum + b.after.psnr, 0) / Math.max(1, bites.length);
  return { score: healed, scoreText: `healed ${healed.toFixed(1)} dB (${bites.filter((b) => b.verdict === 'pass').length}/${bites.length} bites)` };
}

export interface CheckOptions {
  /** A pass is confirmed by the undamaged run to this step (0 or <= the check's own: no confirmation). */
  readonly confirmLongSteps?: number;
  /** The exact engine; default the reference step (tests put a scripted one here). */
  readonly createStepper?: StepperFactory;
  /**
   * The screen run before it; a failure there is the check's verdict. Default: the fused kernel
   * when it can run the model and `createStepper` is not given; null: no screen.
   */
  readonly screen?: StepperFactory | null;
}

function failureReasons(result: EvalResult): string[] {
  return result.required.flatMap((criterion) => result[criterion].reasons.map((r) => `${criterion}: ${r}`));
}

/** Scores `model` against `targetState` (the training target on the grid). */
export async function runCheck(
  model: NcaModel,
  targetState: Parameters<typeof targetFromState>[0],
  iteration: number,
  options: CheckOptions = {},
): Promise<CheckResult> {
  const started = performance.now();
  const task = model.metadata.task;
  const target = targetFromState(targetState, model);
  const steps = checkSteps(task);
  const confirmTo = options.confirmLongSteps ?? DEFAULT_LONG_STEPS;
  const seconds = (): number => (performance.now() - started) / 1000;
  const screen = options.screen === undefined ? (options.createStepper === undefined && fusedCanRun(model) ? fusedStepper : null) : options.screen;
  if (screen) {
    // The screen is cheap, so it runs straight to the confirmation's horizon.
    const longSteps = steps.longSteps > steps.steps ? Math.max(steps.longSteps, confirmTo) : steps.longSteps;
    const screened = await evaluateModel(model, target, { ...steps, longSteps, createStepper: screen });
    if (screened.verdict === 'fail') return { iteration, ...headline(task, screened), verdict: 'fail', reasons: failureReasons(screened), seconds: seconds(), exact: false };
  }

  const engine = options.createStepper ? { createStepper: options.createStepper } : {};
  const result = await evaluateModel(model, target, { ...steps, ...engine });
  const quick = { iteration, ...headline(task, result), exact: true };
  if (result.verdict === 'fail') return { ...quick, verdict: 'fail', reasons: failureReasons(result), seconds: seconds() };
  // Growth's verdict has no long run; the others' do, and only theirs can drift past the check's.
  if (!result.required.includes('persistence') || confirmTo <= steps.longSteps) return { ...quick, verdict: 'pass', reasons: [], seconds: seconds() };

  // The bites start from a fresh run at step N with the same fire-mask seed, so they score the
  // same at any horizon: the confirmation is the undamaged run alone.
  const long = await evaluateModel(model, target, { steps: steps.steps, healSteps: 0, longSteps: confirmTo, ...engine });
  const last = long.persistence.checkpoints[long.persistence.checkpoints.length - 1]!;
  const scoreText = task === 'persistence' ? `PSNR ${last.psnr.toFixed(1)} dB at step ${last.step}` : `${quick.scoreText}, ${last.psnr.toFixed(1)} dB at step ${last.step}`;
  const score = task === 'persistence' ? last.psnr : quick.score;
  const reasons = long.persistence.reasons.map((r) => `persistence (confirming to step ${confirmTo}): ${r}`);
  return { iteration, verdict: long.persistence.verdict === 'pass' ? 'pass' : 'fail', score, scoreText, reasons, seconds: seconds(), exact: true };
}

/** When the next check is due: every `every` iterations, and spaced by the last check's cost. */
export class CheckSchedule {
  private lastIteration: number;
  private trainingSecondsAtLast: number;
  private lastCost = 0;

  constructor(
    private readonly every: number,
    iteration: number,
    trainingSeconds: number,
  ) {
    this.lastIteration = iteration;
    this.trainingSecondsAtLast = trainingSeconds;
  }

  /** Whether a check is due after `iteration` completed iterations and `trainingSeconds` of training. */
  due(iteration: number, trainingSeconds: number): boolean {
    if (this.every <= 0 || iteration - this.lastIteration < this.every) return false;
    return trainingSeconds - this.trainingSecondsAtLast >= CHECK_SPACING * this.lastCost;
  }

  /** Records a check made after `iteration` that took `cost` seconds. */
  done(iteration: number, trainingSeconds: number, cost: number): void {
    this.lastIteration = iteration;
    this.trainingSecondsAtLast = trainingSeconds;
    this.lastCost = cost;
  }
}
