/**
 * What a run carries from one iteration to the next: the network and its Adam state, the
 * curriculum, the sample pool, the loss history and the rollout engine. `snapshot` is exactly
 * what a checkpoint stores of it, so a resumed session continues an uninterrupted one.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Checkpoint } from '../io/checkpoint.js';
import { TrainableNetwork } from '../model/network.js';
import { TfStep } from '../model/step.js';
import type { TrainOptions } from './config.js';
import { Curriculum } from './curriculum.js';
import { chooseMemory } from './memory.js';
import type { OpenedRun } from './open-run.js';
import { Adam } from './optimizer.js';
import { createRolloutEngine, type RolloutEngine } from './rollout-engine.js';

/** The final loss reported and stored in the file: the mean of the last 20 iterations' losses. */
const FINAL_LOSS_WINDOW = 20;

/** The loss history and clock, as a checkpoint stores them. */
export interface History {
  readonly losses: number[];
  readonly levels: number[];
  /** The first iteration's loss (the divergence guard's reference). */
  firstLoss: number | null;
  /** Completed iterations. */
  iteration: number;
  /** Seconds of training so far. */
  seconds: number;
  /** Times a dead or diverged run went back to a healthy state (recovery.ts). */
  recoveries: number;
}

export interface Session {
  readonly network: TrainableNetwork;
  readonly step: TfStep;
  readonly adam: Adam;
  readonly curriculum: Curriculum;
  /** Pool slots (null: a fresh start); empty without a pool. */
  readonly pool: (Float32Array | null)[];
  readonly history: History;
  /** The target's premultiplied RGBA, [1, H, W, alphaChannel + 1]. */
  readonly targetTensor: tf.Tensor4D;
  readonly engine: RolloutEngine;
}

/** The mean of the last iterations' losses, or null before the first iteration. */
export function finalLossOf(losses: readonly number[]): number | null {
  if (losses.length === 0) return null;
  const last = losses.slice(-FINAL_LOSS_WINDOW);
  return last.reduce((sum, v) => sum + v, 0) / last.length;
}

/** Builds the session of an opened run, restoring a resumed run's state from its checkpoint. */
export function openSession(run: OpenedRun, options: TrainOptions): Session {
  const { arch, setting, backend } = run;
  const saved = run.loaded?.checkpoint;
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
  adam.rateScale = saved?.learningRateScale ?? 1;
  adam.budgetDecayAt = saved?.budgetDecayAt;
  const curriculum = new Curriculum(options.curriculum, saved?.curriculum);
  const pool: (Float32Array | null)[] =
    options.poolSize > 0 ? (saved?.pool.length === options.poolSize ? [...saved.pool] : new Array<Float32Array | null>(options.poolSize).fill(null)) : [];
  const history: History = {
    losses: [...(saved?.losses ?? [])],
    levels: [...(saved?.levels ?? [])],
    firstLoss: saved?.firstLoss ?? null,
    iteration: saved?.iteration ?? 0,
    seconds: saved?.seconds ?? 0,
    recoveries: saved?.recoveries ?? 0,
  };
  const { batch } = options;
  const { width, height } = setting;
  const targetTensor = tf.tidy(() =>
    tf.slice(tf.tensor4d(setting.image.data, [1, height, width, arch.channels]), [0, 0, 0, 0], [-1, -1, -1, arch.alphaChannel + 1]),
  );
  const engine = createRolloutEngine(step, network, targetTensor, backend, {
    request: options.engine,
    threads: options.threads,
    batch,
    cells: batch * width * height,
    maxSteps: curriculum.hardest.maxSteps,
    lossSteps: options.lossSteps,
    backgroundWeight: options.backgroundWeight,
    aliveGradient: options.aliveGradient,
    tfMemory: () =>
      options.memory === 'auto' ? chooseMemory(arch, batch * width * height, curriculum.hardest.maxSteps, backend.tfBackend, options.aliveGradient) : options.memory,
  });
  return { network, step, adam, curriculum, pool, history, targetTensor, engine };
}

/** Everything a checkpoint stores of the run as it stands. */
export function snapshot(run: OpenedRun, session: Session, options: TrainOptions): Checkpoint {
  const { history, adam } = session;
  const adamState = adam.state;
  return {
    identity: run.identity,
    options,
    iteration: history.iteration,
    rng: run.rng.state,
    curriculum: session.curriculum.state,
    losses: history.losses,
    levels: history.levels,
    firstLoss: history.firstLoss,
    seconds: history.seconds,
    adamStep: adamState.step,
    weights: session.network.read(),
    adamM: adamState.m,
    adamV: adamState.v,
    pool: session.pool,
    target: { width: run.target.width, height: run.target.height, rgba: run.target.rgba },
    recoveries: history.recoveries,
    learningRateScale: adam.rateScale,
    ...(adam.budgetDecayAt !== undefined ? { budgetDecayAt: adam.budgetDecayAt } : {}),
  };
}

/** Stops the engine's threads and frees every tensor of the session. */
export async function closeSession(session: Session): Promise<void> {
  await session.engine.close();
  session.targetTensor.dispose();
  session.step.dispose();
  session.adam.dispose();
  session.network.dispose();
}
