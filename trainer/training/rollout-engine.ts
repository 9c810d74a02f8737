/**
 * What one training iteration asks for, a rollout of the batch with its gradients, and the two
 * engines that compute it: the fused WebAssembly kernel (trainer/fused, the fast path on a CPU)
 * and the TensorFlow.js step (trainer/model/step.ts: any tfjs backend, and the oracle the fused path is
 * tested against). Both draw the same counter-based fire masks (fused/fire-mask.ts), so they
 * train the same model up to float rounding, and a run may switch engines on --resume.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Architecture } from '../../runtime/format/types.js';
import type { TrainBackendSelection } from '../model/backend.js';
import type { TrainEngineRequest } from './config.js';
import { lossWeights } from './loss-weights.js';
import { TrainerError } from '../errors.js';
import { FusedEngine, fusedSupport } from '../fused/engine.js';
import { fireMaskValues } from '../fused/fire-mask.js';
import { FusedTrainer } from '../fused/parallel.js';
import type { TrainableNetwork } from '../model/network.js';
import { rolloutGradients, type RolloutGradients } from './rollout.js';
import type { ActivationMemory, AliveGradient, TfStep } from '../model/step.js';

/** One iteration's rollout, as plain arrays. */
export interface IterationRollout {
  /** [batch, height, width, channels]. */
  readonly starts: Float32Array;
  readonly batch: number;
  readonly height: number;
  readonly width: number;
  readonly steps: number;
  /** uint32 seed of this iteration's fire masks. */
  readonly maskSeed: number;
  /** A bite: the state entering `step` is multiplied by `keep` [batch, height, width]. */
  readonly damage?: { readonly step: number; readonly keep: Float32Array };
  /** The divergence guard's fault-injection hook (NaN start). */
  readonly poison: boolean;
}

export interface RolloutEngine {
  readonly kind: 'fused' | 'tfjs';
  /** Threads the engine computes on (tfjs: 1, its backend's own threading aside). */
  readonly threads: number;
  /** tfjs only: how the backward pass keeps activations. */
  readonly memory?: ActivationMemory;
  /** The rollout's loss, final state and gradients as tensors (the caller disposes them). */
  run(rollout: IterationRollout): Promise<RolloutGradients>;
  close(): Promise<void>;
}

/** Memory one fused thread may use for its records (WebAssembly memory ends at 4 GB). */
export const FUSED_MEMORY_BUDGET = 3.5e9;

class FusedRolloutEngine implements RolloutEngine {
  readonly kind = 'fused';
  readonly threads: number;
  private readonly trainer: FusedTrainer;
  private readonly targetValues: Float32Array;
  private readonly weights: Float32Array | undefined;

  constructor(
    arch: Architecture,
    private readonly network: TrainableNetwork,
    target: tf.Tensor4D,
    private readonly lossSteps: number,
    aliveGradient: AliveGradient,
    threads: number,
    backgroundWeight: number,
  ) {
    this.trainer = new FusedTrainer(arch, { aliveGradient, threads });
    this.threads = threads;
    this.targetValues = target.dataSync() as Float32Array;
    this.weights = lossWeights(this.targetValues, arch.alphaChannel + 1, backgroundWeight);
  }

  async run(rollout: IterationRollout): Promise<RolloutGradients> {
    const { batch, height, width } = rollout;
    const result = await this.trainer.run(
      {
        start: rollout.starts,
        batch,
        height,
        width,
        steps: rollout.steps,
        maskSeed: rollout.maskSeed,
        cellOffset: 0,
        ...(rollout.damage ? { damage: rollout.damage } : {}),
        target: this.targetValues,
        ...(this.weights ? { weights: this.weights } : {}),
        lossSteps: this.lossSteps,
        lossBatch: batch,
        poison: rollout.poison,
      },
      this.network.read(),
    );
    const variables = this.network.variables;
    return {
      loss: result.perSample.reduce((sum, v) => sum + v, 0) / batch,
      perSample: result.perSample,
      final: tf.tensor4d(result.final, [batch, height, width, this.trainer.arch.channels]),
      gradients: result.gradients.map((g, i) => tf.tensor(g, variables[i]!.shape)),
    };
  }

  close(): Promise<void> {
    return this.trainer.close();
  }
}

class TfRolloutEngine implements RolloutEngine {
  readonly kind = 'tfjs';
  readonly threads = 1;
  private readonly weights: tf.Tensor4D | undefined;

  constructor(
    private readonly step: TfStep,
    private readonly target: tf.Tensor4D,
    private readonly lossSteps: number,
    readonly memory: ActivationMemory,
    backgroundWeight: number,
  ) {
    const values = lossWeights(target.dataSync() as Float32Array, step.arch.alphaChannel + 1, backgroundWeight);
    this.weights = values ? tf.tensor4d(values, target.shape) : undefined;
  }

  async run(rollout: IterationRollout): Promise<RolloutGradients> {
    const { batch, height, width } = rollout;
    const arch = this.step.arch;
    const depth = arch.fireGranularity === 'cell' ? 1 : arch.channels;
    const cells = batch * height * width;
    const start = tf.tensor4d(rollout.starts, [batch, height, width, arch.channels]);
    const keep = rollout.damage ? tf.tensor4d(rollout.damage.keep, [batch, height, width, 1]) : undefined;
    try {
      return rolloutGradients(
        this.step,
        {
          start,
          steps: rollout.steps,
          fireMask: (t) => tf.tensor4d(fireMaskValues(rollout.maskSeed, t, 0, cells, depth, arch.fireRate), [batch, height, width, depth]),
          ...(keep ? { damage: { step: rollout.damage!.step, keep } } : {}),
        },
        { target: this.target, lossSteps: this.lossSteps, ...(this.weights ? { weights: this.weights } : {}) },
        this.memory,
        rollout.poison,
      );
    } finally {
      start.dispose();
      keep?.dispose();
    }
  }

  async close(): Promise<void> {
    this.weights?.dispose();
  }
}

export interface EngineChoice {
  readonly request: TrainEngineRequest;
  readonly threads: number;
  readonly batch: number;
  /** Cells of the whole batch and the longest rollout (memory planning). */
  readonly cells: number;
  readonly maxSteps: number;
  readonly lossSteps: number;
  /** `--background-weight` (training/loss-weights.ts); 1: the plain loss. */
  readonly backgroundWeight?: number;
  readonly aliveGradient: AliveGradient;
  /** The tfjs engine's memory mode (from chooseMemory when 'auto'). */
  readonly tfMemory: () => ActivationMemory;
}

/** Why the fused engine cannot train this run (undefined: it can). */
export function fusedUnavailable(arch: Architecture, cells: number, maxSteps: number, threads: number): string | undefined {
  const unsupported = fusedSupport(arch);
  if (unsupported) return unsupported;
  const bytes = FusedEngine.recordBytes(arch, Math.ceil(cells / threads), maxSteps);
  if (bytes > FUSED_MEMORY_BUDGET) {
    return `a ${maxSteps}-step rollout of ${cells} cells on ${threads} thread(s) keeps ${(bytes / 1e9).toFixed(1)} GB per thread, over the ${FUSED_MEMORY_BUDGET / 1e9} GB budget (more --threads, a smaller --batch or grid)`;
  }
  return undefined;
}

/**
 * The engine for this run. `auto` takes the fused kernel when it can run the model and the tfjs
 * backend is a CPU one (on tfjs-node the native or CUDA kernels are the better choice); an
 * explicit `fused` that cannot run fails with `bad-option` naming why.
 */
export function createRolloutEngine(
  step: TfStep,
  network: TrainableNetwork,
  target: tf.Tensor4D,
  backend: TrainBackendSelection,
  choice: EngineChoice,
): RolloutEngine {
  const arch = step.arch;
  const threads = Math.max(1, Math.min(choice.threads, choice.batch));
  const why = fusedUnavailable(arch, choice.cells, choice.maxSteps, threads);
  if (choice.request === 'fused' && why) throw new TrainerError('bad-option', `--engine fused cannot train this run: ${why}`);
  const cpuBackend = backend.tfBackend === 'wasm' || backend.tfBackend === 'cpu';
  if (choice.request === 'fused' || (choice.request === 'auto' && !why && cpuBackend)) {
    return new FusedRolloutEngine(arch, network, target, choice.lossSteps, choice.aliveGradient, threads, choice.backgroundWeight ?? 1);
  }
  return new TfRolloutEngine(step, target, choice.lossSteps, choice.tfMemory(), choice.backgroundWeight ?? 1);
}
