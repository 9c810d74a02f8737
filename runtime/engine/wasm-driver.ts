/**
 * webasm: one step is one fused gpu.js pipeline, traced once; every call then runs it inside
 * wasm memory, and with threads the worker pool walks the whole step without returning to the
 * main thread. The state between steps is a host Float32Array, as on cpu (HostStateDriver).
 */
import { Input, type IKernelRunShortcut, type IPipelineRunShortcut } from 'gpu.js';
import type { RunSpec } from './driver.js';
import { hostStepKernels, HostStateDriver, type HostStepKernels, type HostTuning } from './host-driver.js';
import type { SharedGpu } from './shared.js';

export interface WasmTuning extends HostTuning {
  /** Let the pipeline split each step over a worker pool. */
  readonly threads: boolean;
}

/**
 * webasm worker pools are per engine (one worker per core each), so the page caps how many run
 * at once: a driver holds a slot from construction (with threads) until it drops them or is
 * disposed.
 */
export class ThreadSlots {
  private readonly holders = new Set<object>();
  constructor(readonly max: number) {}

  get available(): boolean {
    return this.holders.size < this.max;
  }

  take(holder: object): void {
    this.holders.add(holder);
  }

  release(holder: object): void {
    this.holders.delete(holder);
  }
}

export class WasmDriver extends HostStateDriver {
  private readonly keys = new Float32Array(1);
  private kernels: HostStepKernels | undefined;
  private flatten: IKernelRunShortcut | undefined;
  private plan: IPipelineRunShortcut | undefined;
  private threads: boolean;

  constructor(
    shared: SharedGpu,
    spec: RunSpec,
    private readonly tuning: WasmTuning,
    private readonly slots: ThreadSlots,
  ) {
    super(shared, spec);
    this.threads = tuning.threads;
    if (this.threads) slots.take(this);
  }

  async init(initial: Float32Array, key: number): Promise<void> {
    try {
      await this.trial(initial, key);
    } catch (error) {
      if (!this.threads) throw error;
      // Workers can be refused where WebAssembly is not (a CSP without `worker-src blob:`, no
      // cross-origin isolation): run single-threaded rather than not at all.
      this.dispose();
      this.threads = false;
      await this.trial(initial, key);
    }
  }

  private async trial(initial: Float32Array, key: number): Promise<void> {
    this.build();
    await this.trialStep(initial, key);
    const plan = this.plan!;
    // A plan the fused executor declines still runs, through gpu.js's generic executor and
    // possibly on the cpu backend: that is not the webasm backend this driver promises.
    if (plan.backend !== 'webasm' || !plan.executorKind.startsWith('fused')) {
      throw new Error(`gpu.js did not fuse the step on webasm (${plan.executorKind} on ${String(plan.backend)}): ${plan.fallbackReason ?? 'no reason given'}`);
    }
  }

  private build(): void {
    const { arch, width: W, height: H, threshold: T } = this.spec;
    const C = arch.channels;
    const { kernels, sources } = hostStepKernels(this.shared, this.spec, {
      unrollLimit: this.tuning.unrollLimit,
      skipIdleCells: this.tuning.skipIdleCells,
      inlineAtan: true,
      keyFromArray: true,
      layout: 'nested',
    });
    this.kernels = kernels;
    const flatten = this.shared.gpu.createKernel(sources.flatten, { output: [W * H * C], tactic: 'precision' });
    this.flatten = flatten;
    const { perceive, active, hidden, output, alive } = kernels;
    // NOTE: written as a plain function: gpu.js calls it with `this` bound to the plan.
    this.plan = this.shared.gpu.createPipeline(
      function (s: unknown, keys: unknown): unknown {
        let v: unknown = perceive(s as Float32Array);
        const act: unknown = active ? active(s as Float32Array, keys as Float32Array, 0, T) : undefined;
        for (const dense of hidden) v = act === undefined ? dense(v as Float32Array) : dense(v as Float32Array, act as Float32Array);
        const updated =
          act === undefined
            ? output(v as Float32Array, s as Float32Array, keys as Float32Array, 0, T)
            : output(v as Float32Array, s as Float32Array, act as Float32Array, keys as Float32Array, 0, T);
        return flatten(alive(updated as Float32Array, s as Float32Array) as Float32Array);
      },
      { threads: this.threads },
    );
  }

  protected async next(s: Float32Array, key: number): Promise<Float32Array> {
    const plan = this.plan;
    if (!plan) throw new Error('engine kernels are not built');
    const { arch, width: W, height: H } = this.spec;
    this.keys[0] = key;
    return (await plan(new Input(s as unknown as number[], [arch.channels, W, H]), this.keys)) as Float32Array;
  }

  /** How gpu.js ran the last step (for benchmarks): 'fused-threaded' or 'fused-sync'. */
  get executor(): string {
    return this.plan ? this.plan.executorKind : 'kernels';
  }

  dispose(): void {
    this.slots.release(this);
    const plan = this.plan;
    this.plan = undefined;
    if (plan) void plan.destroy().catch(() => undefined);
    for (const kernel of [...(this.kernels?.all ?? []), ...(this.flatten ? [this.flatten] : [])]) kernel.destroy();
    this.kernels = undefined;
    this.flatten = undefined;
  }
}
