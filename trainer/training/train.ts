/**
 * The training loop: curriculum, optional sample pool, back-propagation through time, Adam, the
 * divergence guard, checkpoints, previews and the export. Everything random comes from one
 * seeded `Rng` whose state is checkpointed, so a resumed run repeats an uninterrupted one
 * exactly (same backend).
 */
import { mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { countParameters, crc32, createArchitecture, createModel } from '../../runtime/format/index.js';
import type { Architecture, NcaModel, StartState } from '../../runtime/format/types.js';
import { damageDisc } from '../../runtime/reference/index.js';
import { removeStaleTemporaries, writeFileAtomic } from '../io/atomic.js';
import { selectBackend, type TrainBackendSelection } from '../model/backend.js';
import { loadCheckpoint, saveCheckpoint, type Checkpoint, type LatestCheckpoint, type LoadedCheckpoint } from '../io/checkpoint.js';
import { identityDifferences, type RunIdentity, type TrainOptions } from './config.js';
import { Curriculum, type Difficulty } from './curriculum.js';
import { divergence } from './divergence.js';
import { TrainerError } from '../errors.js';
import { exportModel, type ExportReport } from '../io/export.js';
import { TrainableNetwork } from '../model/network.js';
import { Adam, learningRateAt } from './optimizer.js';
import { hashRollout, lossPlotSvg, writeFilmStrip } from '../io/preview.js';
import { Rng } from './rng.js';
import { createRolloutEngine } from './rollout-engine.js';
import { TaskSetting } from './samples.js';
import { keepInit } from '../model/init.js';
import { TfStep, type ActivationMemory, type AliveGradient } from '../model/step.js';
import { loadTarget, type TargetImage } from '../io/target.js';

export type TrainStatus = 'completed' | 'interrupted' | 'diverged';

/** Everything the loop reports, in order; the CLI prints them as a progress bar or JSON lines. */
export type TrainEvent =
  | {
      readonly type: 'start';
      readonly backend: TrainBackendSelection;
      /** What computes the rollouts (see rollout-engine.ts) and on how many threads. */
      readonly engine: 'fused' | 'tfjs';
      readonly threads: number;
      /** The tfjs engine's backward memory ('save' for the fused engine, which keeps everything). */
      readonly memory: ActivationMemory;
      readonly iteration: number;
      readonly iterations: number;
      readonly parameters: number;
      /** The loss of an empty grid (what the curriculum threshold is relative to). */
      readonly trivialLoss: number;
      readonly target: { readonly width: number; readonly height: number };
      readonly grid: { readonly width: number; readonly height: number };
      /** Set on --resume: the checkpoint file continued from. */
      readonly resumedFrom?: string;
    }
  | {
      readonly type: 'iteration';
      readonly iteration: number;
      readonly iterations: number;
      readonly loss: number;
      readonly smoothedLoss: number;
      readonly level: number;
      readonly levels: number;
      readonly steps: number;
      readonly learningRate: number;
      readonly gradientNorm: number;
      /** Share of the batch's cells that pass the rule's alive test after the rollout, 0..1 (0: every sample died). */
      readonly aliveShare: number;
      readonly iterationsPerSecond: number;
      readonly seconds: number;
      /** With --minutes: training seconds left in the budget. */
      readonly budgetLeft?: number;
    }
  | { readonly type: 'level'; readonly iteration: number; readonly level: number; readonly difficulty: Difficulty }
  | { readonly type: 'checkpoint'; readonly iteration: number; readonly path: string }
  | { readonly type: 'preview'; readonly iteration: number; readonly path: string; readonly plot: string }
  | { readonly type: 'warning'; readonly message: string }
  | { readonly type: 'stopped'; readonly reason: 'interrupted' | 'diverged' | 'budget'; readonly iteration: number; readonly message: string }
  | { readonly type: 'export'; readonly report: ExportReport }
  | {
      readonly type: 'summary';
      readonly status: TrainStatus;
      readonly iterations: number;
      readonly finalLoss: number | null;
      readonly level: number;
      readonly seconds: number;
      readonly runDir: string;
      readonly out: string | null;
    };

export interface TrainHooks {
  readonly onEvent?: (event: TrainEvent) => void;
  /** Aborting finishes the current iteration, writes a checkpoint and returns 'interrupted'. */
  readonly signal?: AbortSignal;
  /** Fault injection: when it returns true the iteration's start state is NaN. */
  readonly poison?: (iteration: number) => boolean;
}

export interface TrainResult {
  readonly status: TrainStatus;
  /** Completed iterations. */
  readonly iteration: number;
  readonly losses: readonly number[];
  readonly levels: readonly number[];
  readonly finalLoss: number | null;
  readonly backend: TrainBackendSelection;
  /** The trained model at float32 (completed runs only). */
  readonly model?: NcaModel;
  readonly export?: ExportReport;
}

/** The final loss reported and stored in the file: the mean of the last 20 iterations' losses. */
const FINAL_LOSS_WINDOW = 20;
/** Iterations in a row with every sample dead before the run warns (once per streak). */
export const DEAD_STREAK_WARNING = 20;

/** Share of cells that pass the rule's alive test, [B,H,W,C] -> 0..1 (one readback). */
function aliveShareOf(state: tf.Tensor4D, step: TfStep): number {
  return tf.tidy(() => tf.mean(step.aliveFlags(state)).dataSync()[0]!);
}
/** Memory a run may use for its backward records before it switches to recomputing. */
const MEMORY_BUDGET: Readonly<Record<string, number>> = { tensorflow: 8e9, wasm: 2.5e9, cpu: 2e9 };

/** 'save' when the hardest rollout's records fit the backend's budget, else 'recompute'. */
export function chooseMemory(arch: Architecture, cells: number, steps: number, tfBackend: string, aliveGradient: AliveGradient = 'constant'): ActivationMemory {
  const fireDepth = arch.fireGranularity === 'cell' ? 1 : arch.channels;
  // The input, fire mask, alive mask, the updated state for the ramp surrogate and (saved) the perception.
  const updated = aliveGradient === 'ramp' && arch.aliveMode === 'own-alpha' ? arch.channels : 0;
  let perCell = arch.channels + fireDepth + 1 + updated + arch.kernels.length * arch.channels;
  arch.layers.forEach((layer, l) => {
    const last = l === arch.layers.length - 1;
    if (!last || layer.activation === 'relu' || layer.activation === 'sigmoid' || layer.activation === 'tanh') perCell += layer.outputs;
    if (layer.activation === 'atan') perCell += layer.outputs;
  });
  const bytes = cells * perCell * 4 * steps;
  return bytes <= (MEMORY_BUDGET[tfBackend] ?? 1.5e9) ? 'save' : 'recompute';
}

function identityOf(options: TrainOptions, target: TargetImage | Checkpoint['target'], crc: number): RunIdentity {
  return {
    task: options.task,
    rule: options.rule,
    channels: options.channels,
    hidden: options.hidden,
    fireRate: options.fireRate,
    aliveThreshold: options.aliveThreshold,
    gridWidth: options.gridWidth,
    gridHeight: options.gridHeight,
    targetWidth: target.width,
    targetHeight: target.height,
    targetCrc: crc,
    batch: options.batch,
    poolSize: options.poolSize,
    seed: options.seed,
    ...(options.crop > 0 ? { crop: options.crop } : {}),
  };
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/**
 * Trains a model as `options` say and exports it to `options.out`. Bad inputs (target, options,
 * backend, checkpoint) throw `TrainerError` before the first iteration; divergence and
 * interruption are results, not exceptions.
 */
export async function train(options: TrainOptions, hooks: TrainHooks = {}): Promise<TrainResult> {
  const emit = hooks.onEvent ?? (() => undefined);
  let loaded: LoadedCheckpoint | undefined;
  if (options.resume) {
    loaded = await loadCheckpoint(options.runDir);
    if (loaded.fallbackReason) emit({ type: 'warning', message: `${loaded.fallbackReason}; resuming from ${loaded.path} instead` });
  }
  const saved = loaded?.checkpoint;
  const rng = saved ? Rng.fromState(saved.rng) : Rng.fromSeed(options.seed);
  // Fresh weights come from the run's RNG (so the seed fixes them); a resume overwrites them.
  let arch: Architecture;
  try {
    arch = createArchitecture({
      rule: options.rule,
      channels: options.channels,
      hidden: options.hidden,
      fireRate: options.fireRate,
      aliveThreshold: options.aliveThreshold,
      random: saved ? () => 0.5 : () => rng.uniform(),
    });
  } catch (error) {
    throw new TrainerError('bad-option', `cannot build the ${options.rule} architecture: ${(error as Error).message}`, { cause: error });
  }
  // Fresh essay-rule weights start by keeping what is there (see trainer/model/init.ts).
  if (!saved && options.init === 'keep') arch = keepInit(arch);
  let target: TargetImage | Checkpoint['target'];
  if (options.target !== '') {
    const loadedTarget = await loadTarget(options.target, options.size, arch);
    for (const message of loadedTarget.warnings) emit({ type: 'warning', message });
    target = loadedTarget;
  } else if (saved) target = saved.target;
  else throw new TrainerError('bad-option', 'no target image given (--target)');
  const targetCrc = crc32(target.rgba);
  const identity = identityOf(options, target, targetCrc);
  if (saved) {
    const differences = identityDifferences(saved.identity, identity);
    if (differences.length > 0) {
      throw new TrainerError('resume-mismatch', `cannot resume ${loaded!.path}: ${differences.join('; ')}. Start a new run (another --run-dir) or resume with the original settings.`);
    }
  }
  // NOTE: inputs first, backend second: a bad target is reported without loading TensorFlow.js.
  const backend = await selectBackend(options.backend);
  const setting = new TaskSetting(arch, options.task, target, options.gridWidth, options.gridHeight, options.crop);
  await mkdir(options.runDir, { recursive: true });
  // Temporary files of a writer killed mid-write (only of processes no longer running).
  const stale = [...(await removeStaleTemporaries(options.runDir)), ...(await removeStaleTemporaries(dirname(options.out) || '.', basename(options.out)))];
  if (stale.length > 0) emit({ type: 'warning', message: `removed ${stale.length} temporary file(s) left by a killed run: ${stale.join(', ')}` });

  const network = TrainableNetwork.fromArchitecture(arch);
  if (saved) network.assign(saved.weights);
  const step = new TfStep(arch, network, { aliveGradient: options.aliveGradient });
  const adam = new Adam({
    learningRate: options.learningRate,
    decayAt: options.decayAt,
    decayFactor: options.decayFactor,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
    gradients: options.gradients,
  });
  if (saved) adam.restore({ step: saved.adamStep, m: saved.adamM, v: saved.adamV }, network.variables.map((v) => v.shape));
  const curriculum = new Curriculum(options.curriculum, saved?.curriculum);
  const pool: (Float32Array | null)[] =
    options.poolSize > 0 ? (saved?.pool.length === options.poolSize ? [...saved.pool] : new Array<Float32Array | null>(options.poolSize).fill(null)) : [];
  const losses: number[] = [...(saved?.losses ?? [])];
  const levels: number[] = [...(saved?.levels ?? [])];
  let firstLoss = saved?.firstLoss ?? null;
  let iteration = saved?.iteration ?? 0;
  let seconds = saved?.seconds ?? 0;
  const trivialLoss = setting.trivialLoss;
  const { batch } = options;
  const { width, height } = setting;
  const channels = arch.channels;
  const cellValues = setting.cellValues;
  const targetTensor = tf.tidy(() =>
    tf.slice(tf.tensor4d(setting.image.data, [1, height, width, channels]), [0, 0, 0, 0], [-1, -1, -1, arch.alphaChannel + 1]),
  );
  const engine = createRolloutEngine(step, network, targetTensor, backend, {
    request: options.engine,
    threads: options.threads,
    batch,
    cells: batch * width * height,
    maxSteps: curriculum.hardest.maxSteps,
    lossSteps: options.lossSteps,
    aliveGradient: options.aliveGradient,
    tfMemory: () =>
      options.memory === 'auto' ? chooseMemory(arch, batch * width * height, curriculum.hardest.maxSteps, backend.tfBackend, options.aliveGradient) : options.memory,
  });
  emit({
    type: 'start',
    backend,
    engine: engine.kind,
    threads: engine.threads,
    memory: engine.memory ?? 'save',
    iteration,
    iterations: options.iterations,
    parameters: countParameters(arch.layers),
    trivialLoss,
    target: { width: target.width, height: target.height },
    grid: { width, height },
    ...(loaded ? { resumedFrom: loaded.path } : {}),
  });

  const snapshot = (): Checkpoint => {
    const adamState = adam.state;
    return {
      identity,
      options,
      iteration,
      rng: rng.state,
      curriculum: curriculum.state,
      losses,
      levels,
      firstLoss,
      seconds,
      adamStep: adamState.step,
      weights: network.read(),
      adamM: adamState.m,
      adamV: adamState.v,
      pool,
      target: { width: target.width, height: target.height, rgba: target.rgba },
    };
  };
  // A latest file a resume fell back past must not become the previous one (see io/checkpoint.ts).
  let latest: LatestCheckpoint = loaded ? (loaded.fallbackReason ? 'unusable' : 'good') : 'unknown';
  const checkpoint = async (): Promise<void> => {
    const path = await saveCheckpoint(options.runDir, snapshot(), latest);
    latest = 'good';
    emit({ type: 'checkpoint', iteration, path });
  };
  const preview = async (): Promise<void> => {
    const steps = curriculum.hardest.maxSteps;
    const keep = Array.from({ length: 8 }, (_, i) => Math.round((i * steps) / 7));
    // Healing's preview is bitten halfway, to show the repair.
    const damage =
      options.task === 'healing'
        ? {
            step: Math.round(steps / 2),
            apply: (state: Parameters<typeof damageDisc>[0]) =>
              damageDisc(state, (setting.box.x0 + setting.box.x1) / 2, (setting.box.y0 + setting.box.y1) / 2, 0.35 * setting.radius),
          }
        : undefined;
    const frames = hashRollout(step, setting.modelStart, steps, 0, keep, damage);
    const path = join(options.runDir, `preview-${String(iteration).padStart(6, '0')}.png`);
    await writeFilmStrip(path, frames, arch);
    const plot = join(options.runDir, 'loss.svg');
    await writeFileAtomic(plot, new TextEncoder().encode(lossPlotSvg(losses, levels, options.curriculum.levels - 1)));
    emit({ type: 'preview', iteration, path, plot });
  };
  const finish = async (status: TrainStatus, extra: Partial<TrainResult> = {}): Promise<TrainResult> => {
    await engine.close();
    targetTensor.dispose();
    step.dispose();
    adam.dispose();
    network.dispose();
    const finalLoss = losses.length ? mean(losses.slice(-FINAL_LOSS_WINDOW)) : null;
    emit({
      type: 'summary',
      status,
      iterations: iteration,
      finalLoss,
      level: curriculum.level,
      seconds,
      runDir: options.runDir,
      out: extra.export?.path ?? null,
    });
    return { status, iteration, losses, levels, finalLoss, backend, ...extra };
  };

  let deadStreak = 0;
  // The best weights so far (highest level, then lowest smoothed loss): what a budget stop exports.
  let best: { weights: Float32Array[]; iteration: number; level: number; smoothed: number } | undefined;
  let budgetSpent = false;
  while (iteration < options.iterations) {
    if (hooks.signal?.aborted) break;
    if (options.minutes > 0 && seconds >= options.minutes * 60) {
      budgetSpent = true;
      break;
    }
    const started = performance.now();
    const difficulty = curriculum.difficulty();
    const starts = new Float32Array(batch * cellValues);
    const drawn = options.poolSize > 0 ? rng.sample(options.poolSize, batch) : [];
    if (drawn.length > 0) {
      const samples = drawn.map((slot) => pool[slot] ?? setting.start(difficulty, rng));
      // Distill: the worst sample restarts, the best few are damaged (regeneration).
      const order = samples.map((sample, b) => ({ b, loss: setting.loss(sample) })).sort((p, q) => q.loss - p.loss);
      samples[order[0]!.b] = setting.start(difficulty, rng);
      for (const { b } of options.poolDamage > 0 ? order.slice(-options.poolDamage) : []) {
        const sample = samples[b]!.slice();
        setting.bite(sample, difficulty.biteRadius > 0 ? difficulty.biteRadius : rng.range(0.1, 0.4), rng);
        samples[b] = sample;
      }
      samples.forEach((sample, b) => starts.set(sample, b * cellValues));
    } else {
      for (let b = 0; b < batch; b++) starts.set(setting.start(difficulty, rng), b * cellValues);
    }
    const steps = rng.int(difficulty.minSteps, difficulty.maxSteps);
    let keep: Float32Array | undefined;
    if (difficulty.lateDamage > 0) {
      for (let b = 0; b < batch; b++) {
        if (rng.uniform() >= difficulty.lateDamage) continue;
        keep ??= new Float32Array(batch * width * height).fill(1);
        keep.set(setting.keepMask(difficulty.biteRadius, rng), b * width * height);
      }
    }
    const damageStep = keep ? rng.int(1, Math.max(1, Math.floor(steps / 2))) : 0;
    const maskSeed = rng.nextUint32();
    const result = await engine.run({
      starts,
      batch,
      height,
      width,
      steps,
      maskSeed,
      ...(keep ? { damage: { step: damageStep, keep } } : {}),
      poison: hooks.poison?.(iteration) ?? false,
    });
    const norms = Adam.norms(result.gradients);
    const gradientNorm = Math.sqrt(norms.reduce((sum, n) => sum + n * n, 0));
    const reference = Math.max(firstLoss ?? result.loss, trivialLoss);
    const message = divergence({ loss: result.loss, gradientNorm, reference, factor: options.divergeFactor, iteration: iteration + 1 });
    if (message !== null) {
      for (const g of result.gradients) g.dispose();
      result.final.dispose();
      emit({ type: 'stopped', reason: 'diverged', iteration, message: `${message}; stopped without writing a checkpoint or export (the last good ones are kept)` });
      return await finish('diverged');
    }
    adam.apply(network.variables, result.gradients, norms, iteration);
    for (const g of result.gradients) g.dispose();
    if (drawn.length > 0) {
      const finals = result.final.dataSync() as Float32Array;
      drawn.forEach((slot, b) => {
        pool[slot] = finals.slice(b * cellValues, (b + 1) * cellValues);
      });
    }
    const aliveShare = aliveShareOf(result.final, step);
    result.final.dispose();
    deadStreak = aliveShare === 0 ? deadStreak + 1 : 0;
    if (deadStreak === DEAD_STREAK_WARNING) {
      emit({
        type: 'warning',
        message:
          `every sample has died by the end of its rollout for ${DEAD_STREAK_WARNING} iterations in a row (iteration ${iteration + 1}): ` +
          'a dead grid teaches nothing. Try a lower --lr, another --seed' +
          (arch.aliveMode === 'own-alpha' ? ', --init keep and --alive-gradient ramp (the defaults)' : '') + ', or an easier curriculum',
      });
    }
    firstLoss ??= result.loss;
    losses.push(result.loss);
    levels.push(curriculum.level);
    const raised = curriculum.record(result.loss, trivialLoss);
    iteration += 1;
    const smoothed = curriculum.smoothed ?? result.loss;
    const level = levels[levels.length - 1]!;
    if (options.minutes > 0 && (!best || level > best.level || (level === best.level && smoothed < best.smoothed))) {
      best = { weights: network.read(), iteration, level, smoothed };
    }
    const elapsed = (performance.now() - started) / 1000;
    seconds += elapsed;
    emit({
      type: 'iteration',
      iteration,
      iterations: options.iterations,
      loss: result.loss,
      smoothedLoss: curriculum.smoothed ?? result.loss,
      level: levels[levels.length - 1]!,
      levels: options.curriculum.levels,
      steps,
      learningRate: learningRateAt(adam.options, iteration - 1),
      gradientNorm,
      aliveShare,
      iterationsPerSecond: 1 / elapsed,
      seconds,
      ...(options.minutes > 0 ? { budgetLeft: Math.max(0, options.minutes * 60 - seconds) } : {}),
    });
    if (raised) emit({ type: 'level', iteration, level: curriculum.level, difficulty: curriculum.difficulty() });
    // NOTE: an iteration is one long synchronous computation; yield to the event loop so a
    // SIGINT/SIGTERM handler (which aborts `signal`) can run between iterations.
    await new Promise((resolve) => setImmediate(resolve));
    if (hooks.signal?.aborted) break;
    if (iteration % options.checkpointEvery === 0) await checkpoint();
    if (options.previewEvery > 0 && iteration % options.previewEvery === 0) await preview();
  }

  if (iteration < options.iterations && !budgetSpent) {
    await checkpoint();
    emit({ type: 'stopped', reason: 'interrupted', iteration, message: `interrupted after iteration ${iteration}; resume with --resume` });
    return await finish('interrupted');
  }
  if (losses.length === 0 || iteration % options.checkpointEvery !== 0) await checkpoint();
  if (budgetSpent) {
    // NOTE: after the checkpoint, which keeps the current weights for a --resume with more minutes.
    if (best) network.assign(best.weights);
    emit({
      type: 'stopped',
      reason: 'budget',
      iteration,
      message:
        `training budget of ${options.minutes} min reached after ${iteration} iterations; exporting the best weights so far` +
        (best ? ` (iteration ${best.iteration}, level ${best.level}, smoothed loss ${best.smoothed.toPrecision(3)})` : ''),
    });
  }
  if (options.previewEvery > 0 && (budgetSpent || iteration % options.previewEvery !== 0)) await preview();
  const finalLoss = losses.length ? mean(losses.slice(-FINAL_LOSS_WINDOW)) : 0;
  const start: StartState =
    options.task !== 'growth'
      ? { kind: 'image', width: target.width, height: target.height, rgba: target.rgba }
      : setting.cropImage
        ? { kind: 'image', width: target.width, height: target.height, rgba: setting.cropImage }
        : { kind: 'seed' };
  const model = createModel(network.toArchitecture(arch), {
    name: options.name,
    task: options.task,
    targetWidth: target.width,
    targetHeight: target.height,
    gridWidth: width,
    gridHeight: height,
    start,
    training: { iterations: iteration, finalLoss },
    attribution: options.attribution,
  });
  await mkdir(dirname(options.out) || '.', { recursive: true });
  const { report } = await exportModel(model, options.out, options.precision, curriculum.hardest.maxSteps);
  emit({ type: 'export', report });
  await writeFileAtomic(join(options.runDir, 'summary.json'), new TextEncoder().encode(`${JSON.stringify({ iterations: iteration, finalLoss, seconds, export: report }, null, 2)}\n`));
  return await finish('completed', { model, export: report });
}
