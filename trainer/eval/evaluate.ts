/**
 * Scores a model without a browser: growth (PSNR after N steps), healing (three standard bites)
 * and persistence (a long undamaged run), each with a pass/fail verdict. Thresholds and bites are
 * documented in docs/cli.md ("nca eval"); change them here and there together.
 */
import type { NcaModel, Task } from '../../runtime/format/types.js';
import { startState, type CaState } from '../../runtime/reference/index.js';
import {
  aliveOutside,
  alphaBoundingBox,
  dilateBox,
  healthOf,
  overgrowthMargin,
  premultipliedRgba,
  psnr,
  type Box,
  type Health,
} from './metrics.js';
import { PROGRESS_CHUNK, referenceStepper, type StepperFactory } from './stepper.js';

export const THRESHOLDS = {
  /** Growth: PSNR after N steps; persistence: PSNR at the end of the long run. */
  minPsnrDb: 20,
  /** Healing: PSNR K steps after a bite must be at least the PSNR before it minus this... */
  healToleranceDb: 3,
  /**
   * ...and at least this share of the dB the bite cost must have come back, so a model that
   * does nothing cannot pass on a bite that cost less than the tolerance.
   */
  minRecoveredShare: 0.5,
  /** Persistence: from step N on, PSNR never falls more than this below its best so far. */
  maxDriftDb: 5,
  /** Any checkpoint: at most this share of the cells outside the dilated target box alive. */
  maxAliveOutside: 0.05,
} as const;

export const DEFAULT_HEAL_STEPS = 200;
export const DEFAULT_LONG_STEPS = 1000;
/** Long-run checkpoints: step 100, step N, every multiple of this, and the last step. */
export const LONG_RUN_INTERVAL = 500;

/** N: what a model of this task is trained to reach (growth from a seed takes longer). */
export function defaultSteps(task: Task): number {
  return task === 'growth' ? 200 : 100;
}

/** The criteria a task must pass: each task in the essay builds on the one before. */
export function requiredCriteria(task: Task): Criterion[] {
  if (task === 'growth') return ['growth'];
  if (task === 'persistence') return ['growth', 'persistence'];
  return ['growth', 'persistence', 'healing'];
}

export type Criterion = 'growth' | 'healing' | 'persistence';
export type Verdict = 'pass' | 'fail' | 'skipped';

/** What PSNR is measured against, on the model's grid. */
export interface EvalTarget {
  /** Premultiplied RGBA in [0, 1], 4 floats per grid cell. */
  readonly rgba: Float32Array;
  readonly gridWidth: number;
  readonly gridHeight: number;
  /** Cells with target alpha > 0. */
  readonly box: Box;
}

/** A target from a state on the model's grid (a loaded image or the start image). */
export function targetFromState(state: CaState, model: NcaModel): EvalTarget {
  const rgba = premultipliedRgba(state, model.architecture);
  const box = alphaBoundingBox(rgba, state.width, state.height);
  if (!box) throw new RangeError('the target is fully transparent');
  return { rgba, gridWidth: state.width, gridHeight: state.height, box };
}

/** The embedded start image as a target, or undefined for a seed start. */
export function startImageTarget(model: NcaModel): EvalTarget | undefined {
  if (model.metadata.start.kind !== 'image') return undefined;
  return targetFromState(startState(model), model);
}

export interface Bite {
  readonly name: string;
  /** Centre in cell coordinates (cell (x, y) covers [x, x+1) x [y, y+1)) and radius in cells. */
  readonly x: number;
  readonly y: number;
  readonly radius: number;
}

/**
 * The standard bites, relative to the target's box (x, y, w, h), radius w_min / 4 where w_min =
 * min(w, h) (at least 1 cell): centre-left (x + w/4, y + h/2), bottom (x + w/2, y + 3h/4),
 * top-right (x + 3w/4, y + h/4). They are applied one after another to the same run.
 */
export function standardBites(box: Box): Bite[] {
  const radius = Math.max(1, Math.min(box.width, box.height) / 4);
  const at = (fx: number, fy: number): { x: number; y: number } => ({ x: box.x + fx * box.width, y: box.y + fy * box.height });
  return [
    { name: 'centre-left', ...at(0.25, 0.5), radius },
    { name: 'bottom', ...at(0.5, 0.75), radius },
    { name: 'top-right', ...at(0.75, 0.25), radius },
  ];
}

export interface Snapshot {
  readonly step: number;
  /** dB, capped at PSNR_CAP_DB; NaN for a non-finite state. */
  readonly psnr: number;
  /** Share of cells outside the dilated target box that are alive, 0..1. */
  readonly aliveOutside: number;
  readonly health: Health;
}

export interface GrowthResult {
  readonly snapshot: Snapshot;
  readonly verdict: Verdict;
  readonly reasons: string[];
}

export interface BiteResult {
  readonly bite: Bite;
  /** Step at which the bite was taken. */
  readonly step: number;
  readonly before: number;
  readonly bitten: number;
  /** PSNR and health K steps after the bite. */
  readonly after: Snapshot;
  /** after - before, in dB. */
  readonly recovery: number;
  readonly verdict: 'pass' | 'fail';
}

export interface HealingResult {
  readonly healSteps: number;
  readonly bites: BiteResult[];
  readonly verdict: Verdict;
  readonly reasons: string[];
}

export interface PersistenceResult {
  readonly longSteps: number;
  readonly checkpoints: Snapshot[];
  /** Largest fall below the best PSNR so far, from step N on, in dB. */
  readonly drift: number;
  readonly verdict: Verdict;
  readonly reasons: string[];
}

export interface EvalResult {
  readonly task: Task;
  readonly seed: number;
  readonly steps: number;
  readonly box: Box;
  /** The box in which life is expected: `box` grown by the overgrowth margin. */
  readonly dilatedBox: Box;
  readonly growth: GrowthResult;
  readonly healing: HealingResult;
  readonly persistence: PersistenceResult;
  readonly required: Criterion[];
  readonly verdict: 'pass' | 'fail';
}

export interface EvalProgress {
  readonly phase: 'long run' | 'growth' | 'healing';
  /** Steps done and to do in this phase. */
  readonly done: number;
  readonly total: number;
}

export interface EvalOptions {
  /** N; default `defaultSteps(task)`. */
  readonly steps?: number;
  /** Fire-mask seed, a uint32. Default 0. */
  readonly seed?: number;
  /** K steps after each bite; 0 skips healing. Default 200. */
  readonly healSteps?: number;
  /** Length of the undamaged run; 0 skips persistence, otherwise >= N. Default 1000. */
  readonly longSteps?: number;
  /** The engine; default the reference step. */
  readonly createStepper?: StepperFactory;
  readonly onProgress?: (progress: EvalProgress) => void;
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
}

/** The long run's checkpoint steps: 100, N, multiples of LONG_RUN_INTERVAL and L, within 1..L. */
export function longRunCheckpoints(steps: number, longSteps: number): number[] {
  const set = new Set<number>([100, steps, longSteps]);
  for (let s = LONG_RUN_INTERVAL; s < longSteps; s += LONG_RUN_INTERVAL) set.add(s);
  return [...set].filter((s) => s >= 1 && s <= longSteps).sort((a, b) => a - b);
}

/**
 * Runs the three evaluations from the model's start state on its grid (which the target must
 * match). Order: the undamaged long run from step 0 to L (its step-N checkpoint is
 * the growth score), then a fresh run to step N and the three bites, K steps each. Total steps
 * max(N, L) + (K > 0 ? N + 3K : 0), or N + 3K when L = 0.
 */
export async function evaluateModel(
  model: NcaModel,
  target: EvalTarget,
  options: EvalOptions = {},
): Promise<EvalResult> {
  const { architecture: arch, metadata } = model;
  const task = metadata.task;
  const steps = options.steps ?? defaultSteps(task);
  const healSteps = options.healSteps ?? DEFAULT_HEAL_STEPS;
  const longSteps = options.longSteps ?? DEFAULT_LONG_STEPS;
  const seed = options.seed ?? 0;
  checkCount('steps', steps, 1);
  checkCount('heal steps', healSteps, 0);
  checkCount('long steps', longSteps, 0);
  if (longSteps > 0 && longSteps < steps) {
    throw new RangeError(`the long run (${longSteps} steps) must be at least as long as N (${steps} steps), or 0 to skip it`);
  }
  const stepper = (options.createStepper ?? referenceStepper)(model, startState(model), seed);
  const dilated = dilateBox(target.box, overgrowthMargin(target.box), target.gridWidth, target.gridHeight);
  const measure = async (step: number): Promise<Snapshot> => {
    const state = await stepper.readState();
    if (state.width !== target.gridWidth || state.height !== target.gridHeight) {
      throw new RangeError(`the stepper's grid is ${state.width}x${state.height}, the target's ${target.gridWidth}x${target.gridHeight}`);
    }
    const outside = aliveOutside(state, arch, dilated);
    return {
      step,
      psnr: psnr(premultipliedRgba(state, arch), target.rgba),
      aliveOutside: outside,
      health: healthOf(state, arch, outside, THRESHOLDS.maxAliveOutside),
    };
  };
  const advance = async (phase: EvalProgress['phase'], from: number, to: number, phaseDone: number, phaseTotal: number): Promise<void> => {
    for (let at = from; at < to; ) {
      const n = Math.min(PROGRESS_CHUNK, to - at);
      await stepper.step(n);
      at += n;
      options.onProgress?.({ phase, done: phaseDone + (at - from), total: phaseTotal });
    }
  };

  // Persistence (and growth on the way): one undamaged run.
  let growthSnapshot: Snapshot | undefined;
  const checkpoints: Snapshot[] = [];
  await stepper.reset();
  if (longSteps > 0) {
    let at = 0;
    for (const checkpoint of longRunCheckpoints(steps, longSteps)) {
      await advance('long run', at, checkpoint, at, longSteps);
      at = checkpoint;
      const snapshot = await measure(checkpoint);
      checkpoints.push(snapshot);
      if (checkpoint === steps) growthSnapshot = snapshot;
    }
  }

  // Healing, from a fresh run's state at step N (when the long run already passed N, it is run again).
  const bites: BiteResult[] = [];
  const needFreshRun = growthSnapshot === undefined || healSteps > 0;
  if (needFreshRun) {
    if (longSteps > 0) await stepper.reset();
    await advance('growth', 0, steps, 0, steps);
    growthSnapshot ??= await measure(steps);
  }
  if (healSteps > 0) {
    let at = steps;
    const phaseTotal = healSteps * 3;
    for (const [i, bite] of standardBites(target.box).entries()) {
      const before = (await measure(at)).psnr;
      await stepper.damage(bite.x, bite.y, bite.radius);
      const bitten = (await measure(at)).psnr;
      await advance('healing', at, at + healSteps, i * healSteps, phaseTotal);
      const after = await measure(at + healSteps);
      const recovered = bitten >= before || (after.psnr - bitten) / (before - bitten) >= THRESHOLDS.minRecoveredShare;
      const healed = after.health === 'ok' && after.psnr >= before - THRESHOLDS.healToleranceDb && recovered;
      bites.push({ bite, step: at, before, bitten, after, recovery: after.psnr - before, verdict: healed ? 'pass' : 'fail' });
      at += healSteps;
    }
  }

  const growth = judgeGrowth(growthSnapshot!);
  const healing = judgeHealing(bites, healSteps);
  const persistence = judgePersistence(checkpoints, steps, longSteps);
  const required = requiredCriteria(task);
  const results = { growth, healing, persistence };
  const verdict = required.every((c) => results[c].verdict !== 'fail') ? 'pass' : 'fail';
  return { task, seed, steps, box: target.box, dilatedBox: dilated, growth, healing, persistence, required, verdict };
}

const db = (value: number): string => (Number.isNaN(value) ? 'NaN' : `${value.toFixed(2)} dB`);

function healthReason(snapshot: Snapshot): string | undefined {
  switch (snapshot.health) {
    case 'ok':
      return undefined;
    case 'non-finite':
      return `step ${snapshot.step}: the state has NaN or infinite values`;
    case 'dead':
      return `step ${snapshot.step}: every cell is dead`;
    case 'overgrown':
      return `step ${snapshot.step}: ${(snapshot.aliveOutside * 100).toFixed(1)}% of the cells outside the target box are alive (max ${THRESHOLDS.maxAliveOutside * 100}%)`;
  }
}

function judgeGrowth(snapshot: Snapshot): GrowthResult {
  const reasons: string[] = [];
  const unhealthy = healthReason(snapshot);
  if (unhealthy) reasons.push(unhealthy);
  if (!(snapshot.psnr >= THRESHOLDS.minPsnrDb)) {
    reasons.push(`PSNR after ${snapshot.step} steps is ${db(snapshot.psnr)}, below ${THRESHOLDS.minPsnrDb} dB`);
  }
  return { snapshot, verdict: reasons.length === 0 ? 'pass' : 'fail', reasons };
}

function judgeHealing(bites: BiteResult[], healSteps: number): HealingResult {
  if (healSteps === 0) return { healSteps, bites, verdict: 'skipped', reasons: ['not run (--heal-steps 0)'] };
  const reasons: string[] = [];
  for (const b of bites) {
    if (b.verdict === 'pass') continue;
    const unhealthy = healthReason(b.after);
    const cost = b.before - b.bitten;
    let why: string;
    if (unhealthy) why = unhealthy;
    else if (!(b.after.psnr >= b.before - THRESHOLDS.healToleranceDb)) {
      why = `${db(b.after.psnr)} after ${healSteps} steps, below ${db(b.before)} before the bite minus ${THRESHOLDS.healToleranceDb} dB`;
    } else {
      why = `won back ${db(b.after.psnr - b.bitten)} of the ${db(cost)} the bite cost, less than ${THRESHOLDS.minRecoveredShare * 100}%`;
    }
    reasons.push(`${b.bite.name} bite: ${why}`);
  }
  return { healSteps, bites, verdict: reasons.length === 0 ? 'pass' : 'fail', reasons };
}

function judgePersistence(checkpoints: Snapshot[], steps: number, longSteps: number): PersistenceResult {
  if (longSteps === 0) return { longSteps, checkpoints, drift: 0, verdict: 'skipped', reasons: ['not run (--long 0)'] };
  const reasons: string[] = [];
  for (const c of checkpoints) {
    const unhealthy = healthReason(c);
    if (unhealthy) {
      reasons.push(unhealthy);
      break;
    }
  }
  let best = -Infinity;
  let drift = 0;
  for (const c of checkpoints) {
    if (c.step < steps || Number.isNaN(c.psnr)) continue;
    best = Math.max(best, c.psnr);
    drift = Math.max(drift, best - c.psnr);
  }
  if (drift > THRESHOLDS.maxDriftDb) {
    reasons.push(`PSNR fell ${drift.toFixed(2)} dB below its best after step ${steps} (max ${THRESHOLDS.maxDriftDb} dB)`);
  }
  const last = checkpoints[checkpoints.length - 1]!;
  if (!(last.psnr >= THRESHOLDS.minPsnrDb)) {
    reasons.push(`PSNR at step ${last.step} is ${db(last.psnr)}, below ${THRESHOLDS.minPsnrDb} dB`);
  }
  return { longSteps, checkpoints, drift, verdict: reasons.length === 0 ? 'pass' : 'fail', reasons };
}
