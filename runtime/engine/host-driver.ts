/**
 * The host-state drivers (cpu, webasm): the state is a Float32Array in HWC order, which the
 * reference's helpers (damageDisc, plantSeed, toRgba) edit and draw directly. They differ only in
 * how a step runs: a chain of cpu kernels here (CpuDriver), one fused pipeline on webasm
 * (WasmDriver, wasm-driver.ts).
 */
import type { IKernelRunShortcut } from 'gpu.js';
import { damageDisc, plantSeed, toRgba, type CaState } from '../reference/index.js';
import { context2d, type Driver, type MaybePromise, type RunSpec } from './driver.js';
import { kernelOutput, kernelSources, transposeWeights, type KernelOptions } from './kernels/scalar.js';
import type { SharedGpu } from './shared.js';
import type { BackendName } from './types.js';

export interface HostTuning {
  readonly unrollLimit: number;
  readonly skipIdleCells: boolean;
}

/** The kernels of one step on the host, in call order; `all` lists every one (for destroy). */
export interface HostStepKernels {
  readonly perceive: IKernelRunShortcut;
  readonly active: IKernelRunShortcut | undefined;
  readonly hidden: readonly IKernelRunShortcut[];
  readonly output: IKernelRunShortcut;
  readonly alive: IKernelRunShortcut;
  readonly all: IKernelRunShortcut[];
}

/** Builds the step's kernels for a host backend; `layout` and the key form follow KernelOptions. */
export function hostStepKernels(
  shared: SharedGpu,
  spec: RunSpec,
  options: KernelOptions,
): { kernels: HostStepKernels; sources: ReturnType<typeof kernelSources> } {
  const { arch, width: W, height: H } = spec;
  const src = kernelSources(arch, W, H, options);
  const all: IKernelRunShortcut[] = [];
  const make = (source: string, depth: number, constants?: Record<string, Float32Array>): IKernelRunShortcut => {
    const output = kernelOutput(options.layout, depth, W, H);
    const kernel = shared.gpu.createKernel(source, { output, tactic: 'precision', ...(constants ? { constants } : {}) });
    all.push(kernel);
    return kernel;
  };
  const C = arch.channels;
  const last = arch.layers[arch.layers.length - 1]!;
  const kernels: HostStepKernels = {
    perceive: make(src.perceive, arch.kernels.length * C, { kern: spec.kernels }),
    active: src.active === undefined ? undefined : make(src.active, 1),
    hidden: src.hidden.map((source, l) => {
      const layer = arch.layers[l]!;
      return make(source, layer.outputs, { w: transposeWeights(layer.weights, layer.inputs, layer.outputs), b: layer.bias });
    }),
    output: make(src.output, C, { w: transposeWeights(last.weights, last.inputs, last.outputs), b: last.bias }),
    alive: make(src.alive, C),
    all,
  };
  return { kernels, sources: src };
}

/** The state and every operation but the step, shared by the cpu and webasm drivers. */
export abstract class HostStateDriver implements Driver {
  readonly backend: BackendName;
  protected state: Float32Array;

  constructor(
    protected readonly shared: SharedGpu,
    protected readonly spec: RunSpec,
  ) {
    this.backend = shared.backend;
    this.state = new Float32Array(spec.width * spec.height * spec.arch.channels);
  }

  abstract init(initial: Float32Array, key: number): Promise<void>;
  abstract dispose(): void;
  /** The next state after one step with fire key `key`. */
  protected abstract next(state: Float32Array, key: number): MaybePromise<Float32Array>;

  /** Loads `initial` and runs one step, which must give a whole state. */
  protected async trialStep(initial: Float32Array, key: number): Promise<void> {
    this.load(initial);
    const trial = await this.next(this.state, key);
    if (!(trial instanceof Float32Array) || trial.length !== this.state.length) {
      throw new Error('a step returned no state');
    }
  }

  rebuild(): void {
    // Host backends have no context to lose.
  }

  private caState(): CaState {
    return { width: this.spec.width, height: this.spec.height, channels: this.spec.arch.channels, data: this.state };
  }

  load(state: Float32Array): void {
    this.state = state.slice();
  }

  step(key: number): MaybePromise<void> {
    const next = this.next(this.state, key);
    if (next instanceof Promise) {
      return next.then((state) => {
        this.state = state;
      });
    }
    this.state = next;
  }

  damage(cx: number, cy: number, radius: number): void {
    damageDisc(this.caState(), cx, cy, radius);
  }

  plant(x: number, y: number): void {
    plantSeed(this.caState(), this.spec.arch, x, y);
  }

  read(): Promise<Float32Array> {
    return Promise.resolve(this.state.slice());
  }

  render(canvas: HTMLCanvasElement | OffscreenCanvas): void {
    const { width: W, height: H } = this.spec;
    const rgba = toRgba(this.caState(), this.spec.arch);
    context2d(canvas, W, H).putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, W, H), 0, 0);
  }
}

/** cpu: flat layout, each kernel returns one Float32Array the next one indexes directly. */
export class CpuDriver extends HostStateDriver {
  private kernels: HostStepKernels | undefined;

  constructor(
    shared: SharedGpu,
    spec: RunSpec,
    private readonly tuning: HostTuning,
  ) {
    super(shared, spec);
  }

  async init(initial: Float32Array, key: number): Promise<void> {
    const options: KernelOptions = { ...this.tuning, inlineAtan: false, keyFromArray: false, layout: 'flat' };
    this.kernels = hostStepKernels(this.shared, this.spec, options).kernels;
    await this.trialStep(initial, key);
    for (const kernel of this.kernels.all) {
      const mode = (kernel.kernel.constructor as { mode?: string }).mode;
      if (mode !== this.backend) throw new Error(`a kernel fell back to ${String(mode)}: ${kernel.kernel.fallbackReason ?? 'no reason given'}`);
    }
  }

  protected next(s: Float32Array, key: number): Float32Array {
    const k = this.kernels;
    if (!k) throw new Error('engine kernels are not built');
    const T = this.spec.threshold;
    let v = k.perceive(s) as Float32Array;
    const act = k.active ? (k.active(s, key, T) as Float32Array) : undefined;
    for (const dense of k.hidden) v = (act === undefined ? dense(v) : dense(v, act)) as Float32Array;
    const updated = (act === undefined ? k.output(v, s, key, T) : k.output(v, s, act, key, T)) as Float32Array;
    return k.alive(updated, s) as unknown as Float32Array;
  }

  /** How gpu.js runs a step (for benchmarks): separate kernel calls. */
  get executor(): string {
    return 'kernels';
  }

  dispose(): void {
    for (const kernel of this.kernels?.all ?? []) kernel.destroy();
    this.kernels = undefined;
  }
}
