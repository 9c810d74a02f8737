/**
 * Training options: the defaults, validation, and the part of a run that must not change on
 * `--resume` (its identity).
 */
import { availableParallelism } from 'node:os';
import { DEFAULT_TARGET_SIZE, MAX_GRID_SIDE, TARGET_PADDING, type NcaRule } from '../../runtime/format/index.js';
import type { Task, TensorDType } from '../../runtime/format/types.js';
import type { TrainBackendRequest } from '../model/backend.js';
import { defaultDifficulty, essayDifficulty, type CurriculumOptions } from './curriculum.js';
import { TrainerError } from '../errors.js';
import { DEFAULT_LONG_STEPS } from '../eval/evaluate.js';
import type { GradientTreatment } from './optimizer.js';
import type { ActivationMemory, AliveGradient } from '../model/step.js';

export const TASKS: readonly Task[] = ['growth', 'persistence', 'healing'];
export const RULES: readonly NcaRule[] = ['essay', 'distill'];

/**
 * Default values for a run: `default` is the project's improved recipe; `essay` is the reference
 * essay's own (its text's fire rate 0.8, its curriculum with every perturbation at step 0, no
 * pool, random first weights, the hard alive mask's zero gradient, growth from a crop of the
 * target). docs/training.md lists every difference. Options given explicitly win over either.
 */
export type TrainPreset = 'default' | 'essay';
export const PRESETS: readonly TrainPreset[] = ['default', 'essay'];

/** Growth's default start: the essay's "heavily cropped version" of the target (both presets). */
export const ESSAY_CROP = 0.35;
/**
 * Without --lr-decay-at the rate decays after this share of the run: of --iterations, or of a
 * --minutes budget if that comes first.
 */
export const BUDGET_DECAY_SHARE = 0.7;

export interface TrainOptions {
  /** Path of the target image (PNG with alpha; JPEG/PNG without alpha: near-white is background). */
  readonly target: string;
  readonly task: Task;
  /** Where the defaults of the options below came from (see `TrainPreset`). */
  readonly preset: TrainPreset;
  /** Where the `.nca` goes. */
  readonly out: string;
  /** Run folder: checkpoints, previews, loss plot. */
  readonly runDir: string;
  /** Model name in the file's metadata. */
  readonly name: string;
  readonly attribution: string;

  readonly rule: NcaRule;
  readonly channels: number;
  readonly hidden: number;
  readonly fireRate: number;
  readonly aliveThreshold: number;

  /** The target is resized to fit in size x size, aspect kept. */
  readonly size: number;
  readonly gridWidth: number;
  readonly gridHeight: number;

  readonly iterations: number;
  /**
   * Growth only: start from the target cropped to this fraction of its radius around the centre
   * (the essay's "heavily cropped version") instead of one seed cell; the crop is embedded in the
   * model as its start image. 0: the seed. Default ESSAY_CROP for growth.
   */
  readonly crop: number;
  /**
   * A training-time budget in minutes (0: none): the run stops when its training clock (kept
   * across --resume) reaches it, or at `iterations`, whichever comes first, and exports the best
   * weights seen (highest curriculum level, then lowest smoothed loss).
   */
  readonly minutes: number;
  /**
   * Without --lr-decay-at: the share of a --minutes budget after which the rate decays, if the
   * iteration schedule has not decayed it yet (0: off, the schedule is the user's). A budgeted
   * run rarely reaches 70 % of --iterations, and without this it would never leave its first rate.
   */
  readonly budgetDecayShare: number;
  readonly batch: number;
  /** Distill's sample pool (0 = no pool: every batch starts fresh). */
  readonly poolSize: number;
  /** With a pool: how many of the best samples of a batch are damaged (regeneration). */
  readonly poolDamage: number;
  readonly learningRate: number;
  readonly decayAt: readonly number[];
  readonly decayFactor: number;
  readonly gradients: GradientTreatment;
  /** The loss averages the last this-many states of each rollout. */
  readonly lossSteps: number;
  /**
   * Weight of the alpha error on cells the target leaves transparent (1: the plain loss, the
   * essay's). Above 1 it makes life outside the sprite cost more where it starts (loss-weights.ts).
   */
  readonly backgroundWeight: number;
  /**
   * Fresh weights: `keep` (essay rule: start by keeping living cells alive and empty ones dead,
   * trainer/model/init.ts) or `random` (Glorot, zero biases; the only choice for Distill's rule, whose
   * zero last layer already starts by doing nothing).
   */
  readonly init: 'keep' | 'identity' | 'random';
  /**
   * A `.nca` whose weights a fresh run starts from instead of `init` (fine tuning; '' = none).
   * Its rule, channels and hidden size must be the run's. Ignored on --resume (the checkpoint's).
   */
  readonly initFrom: string;
  /** Own-alpha models: the alive mask's gradient (`ramp`: a surrogate that lets dead cells learn to live). */
  readonly aliveGradient: AliveGradient;
  readonly curriculum: CurriculumOptions;
  /** Stop when the loss exceeds this multiple of the first iteration's loss. */
  readonly divergeFactor: number;
  /**
   * The held-in check (held-in.ts): every this-many iterations (0: never) the current weights are
   * scored as `nca eval` scores a model, with a shorter long run; the progress line shows the
   * score. Checks are spaced so they take at most about an eighth of the training time.
   */
  readonly checkEvery: number;
  /**
   * A passing check is confirmed by the undamaged run to this step before it counts (persistence
   * and healing; 0 or at most the check's own 500: no confirmation). Default `nca eval`'s 1,000.
   */
  readonly checkLong: number;
  /** Stop and export once a check passes at the curriculum's last level (`--no-early-stop`: train on). */
  readonly earlyStop: boolean;
  /**
   * A dead run (every sample dead for a streak of iterations) or a diverged one goes back to its
   * last healthy state with half the learning rate, at most this many times (recovery.ts).
   */
  readonly maxRecoveries: number;
  /** uint32: initial weights and every random draw of the run. */
  readonly seed: number;

  readonly backend: TrainBackendRequest;
  /**
   * What computes a rollout and its gradients: `fused` (the WebAssembly SIMD kernel of
   * trainer/fused, on the CPU, split over `threads`), `tfjs` (the TensorFlow.js step on the
   * selected backend, the oracle), or `auto`: fused where it supports the model and the backend is
   * a CPU one (wasm, cpu), else tfjs.
   */
  readonly engine: TrainEngineRequest;
  /** Threads of the fused engine (the batch is split over them); default: the CPU count. */
  readonly threads: number;
  readonly memory: ActivationMemory | 'auto';
  readonly precision: TensorDType;
  readonly checkpointEvery: number;
  readonly previewEvery: number;
  readonly resume: boolean;
}

export type TrainEngineRequest = 'auto' | 'fused' | 'tfjs';
export const TRAIN_ENGINES: readonly TrainEngineRequest[] = ['auto', 'fused', 'tfjs'];

/** Options a caller may leave out, with their defaults filled in by `resolveOptions`. */
export type TrainOptionsInput = Pick<TrainOptions, 'target' | 'task'> &
  Partial<Omit<TrainOptions, 'curriculum'>> & {
    readonly curriculum?: Partial<CurriculumOptions>;
    /**
     * `--steps MIN-MAX`: the rollout length of the curriculum's last level (the easy end keeps its
     * own), so a model can be trained to the horizon it is judged at (eval's growth N is 200).
     */
    readonly lastLevelSteps?: { readonly min: number; readonly max: number };
  };

/** The file name without folder and extension: the default model and run name. */
export function baseName(path: string): string {
  const file = path.split(/[\\/]/).pop() ?? path;
  const dot = file.lastIndexOf('.');
  return dot > 0 ? file.slice(0, dot) : file;
}

function fail(message: string): never {
  throw new TrainerError('bad-option', message);
}

/** `--init identity`'s default learning rate (a quarter of the default's). */
export const IDENTITY_LEARNING_RATE = 5e-4;

function checkInteger(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) fail(`${name} must be an integer in ${min}..${max}, got ${value}`);
}

function checkNumber(name: string, value: number, min: number, max: number): void {
  if (!(value >= min && value <= max)) fail(`${name} must be a number in [${min}, ${max}], got ${value}`);
}

/** The iteration schedule `resolveOptions` gives a run of `iterations` without --lr-decay-at. */
export function defaultDecayAt(iterations: number): number[] {
  return [Math.round(iterations * BUDGET_DECAY_SHARE)];
}

/**
 * A resume's budget decay share: none when this invocation sets --lr-decay-at, else the run's own;
 * checkpoints written before the share existed had it on exactly when their schedule was the default.
 */
export function resumedBudgetDecayShare(saved: TrainOptions, explicitDecayAt: readonly number[] | undefined): number {
  if (explicitDecayAt !== undefined) return 0;
  const recorded = (saved as Partial<TrainOptions>).budgetDecayShare;
  if (recorded !== undefined) return recorded;
  const defaulted = defaultDecayAt(saved.iterations);
  return saved.decayAt.length === defaulted.length && saved.decayAt.every((at, i) => at === defaulted[i]) ? BUDGET_DECAY_SHARE : 0;
}

/** Distill's sample pool size (`--pool`, and the Distill rule's default). */
export const DISTILL_POOL_SIZE = 1024;

/**
 * The rule of a run that does not name one. The essay's rule where it trains by default on this
 * project's machines: persistence (docs/training.md: a 30-minute default run on a sprite never
 * tuned on passes). Growth and healing default to Distill's rule, whose residual update has learnt
 * to build and regrow here (a 30-minute default growth run passes; healing passes at 24 px in the
 * gallery, but a default healing run does not yet: docs/training.md); the essay's rule builds
 * nothing here and regrows only at the bar's edge. Asking for
 * the essay's recipe (`--preset essay`) or its first weights (`--init keep|identity`) means the
 * essay's rule.
 */
export function defaultRule(task: Task, preset: TrainPreset, init: TrainOptions['init'] | undefined): NcaRule {
  if (preset === 'essay' || init === 'keep' || init === 'identity') return 'essay';
  return task === 'persistence' ? 'essay' : 'distill';
}

/** Fills in defaults and checks every value; throws `TrainerError('bad-option')` naming the option. */
export function resolveOptions(input: TrainOptionsInput): TrainOptions {
  if (!TASKS.includes(input.task)) fail(`unknown task ${JSON.stringify(input.task)}: use one of ${TASKS.join(', ')}`);
  const preset = input.preset ?? 'default';
  if (!PRESETS.includes(preset)) fail(`unknown preset ${JSON.stringify(preset)}: use one of ${PRESETS.join(', ')}`);
  const essay = preset === 'essay';
  const init = input.init ?? (essay ? 'random' : 'keep');
  if (essay && input.rule !== undefined && input.rule !== 'essay') fail(`--preset essay trains the essay's rule, not ${input.rule}`);
  const rule = input.rule ?? defaultRule(input.task, preset, input.init);
  if (!RULES.includes(rule)) fail(`unknown rule ${JSON.stringify(rule)}: use one of ${RULES.join(', ')}`);
  const size = input.size ?? DEFAULT_TARGET_SIZE;
  checkInteger('size', size, 1, 1024);
  const name = input.name ?? baseName(input.target);
  const difficulty = essay ? essayDifficulty(input.task) : defaultDifficulty(input.task);
  const curriculum: { -readonly [K in keyof CurriculumOptions]: CurriculumOptions[K] } = {
    levels: 5,
    threshold: 0.1,
    patience: 50,
    smoothing: 0.05,
    ...difficulty,
    ...input.curriculum,
  };
  if (input.lastLevelSteps) {
    const { min, max } = input.lastLevelSteps;
    checkInteger('--steps minimum', min, 1, 100_000);
    checkInteger('--steps maximum', max, min, 100_000);
    curriculum.hard = { ...curriculum.hard, minSteps: min, maxSteps: max };
  }
  const options: TrainOptions = {
    target: input.target,
    task: input.task,
    preset,
    out: input.out ?? `${name}.nca`,
    runDir: input.runDir ?? `runs/${name}`,
    name,
    attribution: input.attribution ?? '',
    rule,
    channels: input.channels ?? 16,
    hidden: input.hidden ?? (rule === 'essay' ? 64 : 128),
    // The essay's text: "20% of the state grid are left unchanged at each update step" (0.8; its
    // code sample says 0.5, Distill uses 0.5). Measured here: docs/training.md, "fire rate".
    fireRate: input.fireRate ?? (rule === 'essay' ? 0.8 : 0.5),
    aliveThreshold: input.aliveThreshold ?? 0.1,
    size,
    gridWidth: input.gridWidth ?? size + 2 * TARGET_PADDING,
    gridHeight: input.gridHeight ?? size + 2 * TARGET_PADDING,
    iterations: input.iterations ?? 2000,
    minutes: input.minutes ?? 0,
    // Kept in the checkpoint's options, so a resume (which lays flags over them) knows whether
    // the schedule was the default one; it applies only while a --minutes budget is set.
    budgetDecayShare: input.budgetDecayShare ?? (input.decayAt === undefined ? BUDGET_DECAY_SHARE : 0),
    // Growth starts where the essay's did, from "a heavily cropped version" of the target: a
    // seed (--crop 0) is the harder variant (docs/training.md, "Which rule a run trains").
    crop: input.crop ?? (input.task === 'growth' ? ESSAY_CROP : 0),
    batch: input.batch ?? 8,
    // Distill's own recipe trains with its pool (its finding: a model learns to keep what it grew);
    // the essay trained without one.
    poolSize: input.poolSize ?? (rule === 'distill' ? DISTILL_POOL_SIZE : 0),
    poolDamage: input.poolDamage ?? (input.task === 'healing' ? 3 : 0),
    // An exact identity start is thrown off by the default rate's first steps (measured: both
    // runs tried at 0.002 were above the empty-grid loss within 40 iterations; docs/training.md).
    learningRate: input.learningRate ?? (init === 'identity' ? IDENTITY_LEARNING_RATE : 2e-3),
    decayAt: input.decayAt ?? defaultDecayAt(input.iterations ?? 2000),
    decayFactor: input.decayFactor ?? 0.1,
    gradients: input.gradients ?? { kind: 'normalize' },
    lossSteps: input.lossSteps ?? (input.task === 'persistence' ? 8 : 1),
    backgroundWeight: input.backgroundWeight ?? 1,
    aliveGradient: input.aliveGradient ?? (essay ? 'constant' : 'ramp'),
    init,
    initFrom: input.initFrom ?? '',
    curriculum,
    divergeFactor: input.divergeFactor ?? 10,
    checkEvery: input.checkEvery ?? 200,
    checkLong: input.checkLong ?? DEFAULT_LONG_STEPS,
    earlyStop: input.earlyStop ?? true,
    maxRecoveries: input.maxRecoveries ?? 3,
    seed: input.seed ?? 1,
    backend: input.backend ?? 'auto',
    engine: input.engine ?? 'auto',
    threads: input.threads ?? availableParallelism(),
    memory: input.memory ?? 'auto',
    precision: input.precision ?? 'int8',
    checkpointEvery: input.checkpointEvery ?? 100,
    previewEvery: input.previewEvery ?? 200,
    resume: input.resume ?? false,
  };
  checkInteger('channels', options.channels, 4, 64);
  checkInteger('hidden', options.hidden, 1, 1024);
  checkNumber('fire rate', options.fireRate, 0, 1);
  if (!Number.isFinite(options.aliveThreshold)) fail(`alive threshold must be finite, got ${options.aliveThreshold}`);
  checkInteger('grid width', options.gridWidth, 1, MAX_GRID_SIDE);
  checkInteger('grid height', options.gridHeight, 1, MAX_GRID_SIDE);
  if (options.gridWidth < size || options.gridHeight < size) {
    fail(`grid ${options.gridWidth}x${options.gridHeight} is smaller than the target size ${size}`);
  }
  checkInteger('iterations', options.iterations, 0);
  checkNumber('minutes', options.minutes, 0, 1e6);
  checkNumber('budget decay share', options.budgetDecayShare, 0, 1);
  checkNumber('crop', options.crop, 0, 1);
  if (options.crop > 0 && options.task !== 'growth') fail(`--crop is a growth start; a ${options.task} model starts from the whole target`);
  checkInteger('batch', options.batch, 1, 1024);
  checkInteger('pool size', options.poolSize, 0, 1 << 20);
  if (options.poolSize > 0 && options.poolSize < options.batch) fail(`pool size ${options.poolSize} is smaller than the batch ${options.batch}`);
  checkInteger('pool damage', options.poolDamage, 0, options.batch);
  checkNumber('learning rate', options.learningRate, 0, 10);
  checkNumber('decay factor', options.decayFactor, 0, 1);
  for (const at of options.decayAt) checkInteger('decay iteration', at, 0);
  if (options.gradients.kind === 'clip') checkNumber('gradient clip norm', options.gradients.maxNorm, Number.MIN_VALUE, Infinity);
  checkInteger('loss steps', options.lossSteps, 1, 10_000);
  checkNumber('background weight', options.backgroundWeight, 0, 1e6);
  checkInteger('curriculum levels', curriculum.levels, 1, 100);
  checkNumber('curriculum threshold', curriculum.threshold, 0, Infinity);
  checkInteger('curriculum patience', curriculum.patience, 0);
  checkNumber('curriculum smoothing', curriculum.smoothing, Number.MIN_VALUE, 1);
  for (const end of [curriculum.easy, curriculum.hard]) {
    checkInteger('curriculum steps', end.minSteps, 1, 100_000);
    checkInteger('curriculum steps', end.maxSteps, end.minSteps, 100_000);
  }
  checkNumber('diverge factor', options.divergeFactor, 1, Infinity);
  checkInteger('check interval', options.checkEvery, 0);
  checkInteger('check long run', options.checkLong, 0, 100_000);
  if (typeof options.earlyStop !== 'boolean') fail(`early stop must be true or false, got ${JSON.stringify(options.earlyStop)}`);
  checkInteger('max recoveries', options.maxRecoveries, 0, 100);
  checkInteger('seed', options.seed, 0, 0xffff_ffff);
  if (!['auto', 'cuda', 'native', 'wasm', 'cpu'].includes(options.backend)) {
    fail(`unknown backend ${JSON.stringify(options.backend)}: use auto, cuda, native, wasm or cpu`);
  }
  if (!TRAIN_ENGINES.includes(options.engine)) fail(`unknown engine ${JSON.stringify(options.engine)}: use ${TRAIN_ENGINES.join(', ')}`);
  checkInteger('threads', options.threads, 1, 256);
  if (!['auto', 'save', 'recompute'].includes(options.memory)) fail(`unknown memory mode ${JSON.stringify(options.memory)}`);
  if (!['keep', 'identity', 'random'].includes(options.init)) fail(`unknown init ${JSON.stringify(options.init)}: use keep, identity or random`);
  if (!['constant', 'ramp'].includes(options.aliveGradient)) fail(`unknown alive gradient ${JSON.stringify(options.aliveGradient)}: use constant or ramp`);
  if (!['f32', 'f16', 'int8'].includes(options.precision)) fail(`unknown precision ${JSON.stringify(options.precision)}: use f32, f16 or int8`);
  checkInteger('checkpoint interval', options.checkpointEvery, 1);
  checkInteger('preview interval', options.previewEvery, 0);
  return options;
}

/**
 * What makes a run the same run: a resume with any of these changed is refused. Everything else
 * (iteration count, intervals, output paths, backend) may change between sessions. The target is
 * identified by its pixels, not its path.
 */
export interface RunIdentity {
  readonly task: Task;
  readonly rule: NcaRule;
  readonly channels: number;
  readonly hidden: number;
  readonly fireRate: number;
  readonly aliveThreshold: number;
  readonly gridWidth: number;
  readonly gridHeight: number;
  readonly targetWidth: number;
  readonly targetHeight: number;
  /** CRC-32 of the premultiplied RGBA8 target. */
  readonly targetCrc: number;
  readonly batch: number;
  readonly poolSize: number;
  readonly seed: number;
  /** Growth's start crop (0: the seed). Absent in checkpoints written before it existed (= 0). */
  readonly crop?: number;
}

/** Human-readable differences `name: checkpoint vs now`, empty when the identities match. */
export function identityDifferences(saved: RunIdentity, current: RunIdentity): string[] {
  const differences: string[] = [];
  // Fields added later are absent from older checkpoints: absent means the default (crop 0).
  const valueOf = (identity: RunIdentity, key: keyof RunIdentity): RunIdentity[keyof RunIdentity] => (key === 'crop' ? (identity.crop ?? 0) : identity[key]);
  const keys = new Set([...Object.keys(saved), ...Object.keys(current)] as (keyof RunIdentity)[]);
  for (const key of keys) {
    const [before, now] = [valueOf(saved, key), valueOf(current, key)];
    if (before !== now) {
      const label = key === 'targetCrc' ? 'target pixels' : key;
      differences.push(key === 'targetCrc' ? `${label} differ` : `${label}: ${String(before)} in the checkpoint, ${String(now)} now`);
    }
  }
  return differences;
}
