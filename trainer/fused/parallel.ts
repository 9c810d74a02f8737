/**
 * Data-parallel training on the fused engine: the batch is split into contiguous groups of
 * samples, one per thread (the main thread runs the first group, `worker_threads` the others),
 * and the groups' gradients are summed. The loss is a mean over the whole batch and the fire
 * masks are counted from each group's first cell, so the result is the one-engine result up to
 * float summation order.
 *
 * Threads inside the kernel were the other option; a worker per group needs no shared memory,
 * no atomics and no COOP/COEP, and each group's rollout is long enough (tens of milliseconds per
 * step) that the split costs nothing measurable (docs/performance.md).
 */
import { Worker } from 'node:worker_threads';
import type { Architecture } from '../../runtime/format/types.js';
import { TrainerError } from '../errors.js';
import { FusedEngine, type FusedResult, type FusedRollout } from './engine.js';
import { chosenKernelVariant, type KernelVariant } from './kernel-variant.js';

/** What a worker is created with. */
export interface WorkerSetup {
  readonly arch: Architecture;
  readonly aliveGradient: 'constant' | 'ramp';
  /** Every thread runs the same build, so a split batch stays bit-identical to one engine. */
  readonly kernel: KernelVariant;
}

export interface WorkerRequest {
  readonly rollout: FusedRollout;
  readonly weights: readonly Float32Array[];
}

export type WorkerReply = { readonly ok: true; readonly result: FusedResult } | { readonly ok: false; readonly message: string };

/**
 * The worker's entry: the built file next to the CLI bundle, or, when running from the
 * TypeScript sources (tsx), a small module that registers tsx in the worker (its loader hooks
 * are per thread) and imports worker.ts.
 */
function workerEntry(): URL {
  // NOTE: the CLI bundle (dist/nca.js) is one file; rollup emits the worker next to it.
  if (!import.meta.url.endsWith('.ts')) return new URL('./nca-fused-worker.js', import.meta.url);
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(new URL('./worker.ts', import.meta.url).href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

class GroupWorker {
  private readonly worker: Worker;
  private pending: { resolve: (result: FusedResult) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(setup: WorkerSetup) {
    this.worker = new Worker(workerEntry(), { workerData: setup });
    // NOTE: an idle worker must not keep the process alive (a caller that throws before
    // close() would hang); it is ref'd only while a request is pending.
    this.worker.unref();
    this.worker.on('message', (reply: WorkerReply) => {
      const pending = this.pending;
      this.pending = undefined;
      this.worker.unref();
      if (reply.ok) pending?.resolve(reply.result);
      else pending?.reject(new TrainerError('worker-failed', `a training thread failed: ${reply.message}`));
    });
    const fail = (error: Error): void => {
      this.failure = new TrainerError('worker-failed', `a training thread stopped: ${error.message}`);
      this.pending?.reject(this.failure);
      this.pending = undefined;
      this.worker.unref();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => {
      if (code !== 0) fail(new Error(`exit code ${code}`));
    });
  }

  run(request: WorkerRequest): Promise<FusedResult> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.ref();
      this.worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

export class FusedTrainer {
  readonly arch: Architecture;
  /** Threads used (the main thread counts as one). */
  readonly threads: number;
  private readonly engine: FusedEngine;
  private readonly workers: GroupWorker[];

  /** The kernel build every thread runs. */
  readonly kernel: KernelVariant;

  constructor(arch: Architecture, options: { readonly aliveGradient?: 'constant' | 'ramp'; readonly threads?: number; readonly kernel?: KernelVariant } = {}) {
    const threads = options.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
    // Resolved here, before any worker starts: switching V8's flag on (kernel-variant.ts) is
    // process-wide, so the workers' engines can compile the same build.
    this.kernel = options.kernel ?? chosenKernelVariant();
    const setup: WorkerSetup = { arch, aliveGradient: options.aliveGradient ?? 'constant', kernel: this.kernel };
    this.arch = arch;
    this.threads = threads;
    this.engine = new FusedEngine(arch, setup);
    this.workers = Array.from({ length: threads - 1 }, () => new GroupWorker(setup));
  }

  /** The rollout of the whole batch, split over the threads. */
  async run(rollout: FusedRollout, weights: readonly Float32Array[]): Promise<FusedResult> {
    const { batch, height, width } = rollout;
    const groups = Math.min(this.threads, batch);
    if (groups === 1) return this.engine.run(rollout, weights);
    const plane = height * width;
    const values = plane * this.arch.channels;
    const bounds = Array.from({ length: groups + 1 }, (_, g) => Math.round((g * batch) / groups));
    const part = (g: number): FusedRollout => {
      const [from, to] = [bounds[g]!, bounds[g + 1]!];
      return {
        ...rollout,
        start: rollout.start.slice(from * values, to * values),
        batch: to - from,
        cellOffset: rollout.cellOffset + from * plane,
        ...(rollout.damage ? { damage: { step: rollout.damage.step, keep: rollout.damage.keep.slice(from * plane, to * plane) } } : {}),
      };
    };
    // Workers first, so they run while the main thread computes group 0.
    const others = this.workers.slice(0, groups - 1).map((worker, i) => worker.run({ rollout: part(i + 1), weights }));
    const results = [this.engine.run(part(0), weights), ...(await Promise.all(others))];
    const perSample = new Float32Array(batch);
    const final = new Float32Array(batch * values);
    results.forEach((result, g) => {
      perSample.set(result.perSample, bounds[g]!);
      final.set(result.final, bounds[g]! * values);
    });
    const gradients = results[0]!.gradients.map((g) => g.slice());
    for (const result of results.slice(1)) {
      result.gradients.forEach((g, i) => {
        const sum = gradients[i]!;
        for (let j = 0; j < sum.length; j++) sum[j] = sum[j]! + g[j]!;
      });
    }
    return { perSample, final, gradients };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()));
  }
}
