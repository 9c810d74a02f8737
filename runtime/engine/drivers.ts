/**
 * Drivers run one model on one backend through gpu.js. Two shapes:
 *
 * - DeviceDriver (webgl2, webgl, webgpu): the state is a GPU texture/buffer that never leaves
 *   the device; every operation (step, damage, plant, upload) is a kernel producing the next
 *   state; rendering is a graphical kernel on the same context copied to the caller's canvas.
 *   Intermediate kernels reuse their output texture every call (`immutable: false`); the kernels
 *   producing states are `immutable` (a state is fed back into them) and the previous state is
 *   deleted right after, so gpu.js recycles it: a step allocates nothing.
 * - HostDriver (cpu, webasm): the state is a Float32Array in HWC order, which the reference's
 *   helpers (damageDisc, plantSeed, toRgba) edit and draw directly; a step is a chain of cpu
 *   kernels, or on webasm one fused gpu.js pipeline (intermediates stay in wasm memory, and with
 *   threads the worker pool walks the whole step without returning to the main thread).
 */
import { Input, type GPU, type IKernelRunShortcut, type IPipelineRunShortcut, type KernelVariable } from 'gpu.js';
import type { Architecture } from '../format/types.js';
import { damageDisc, plantSeed, toRgba, type CaState } from '../reference/index.js';
import { kernelOutput, kernelSources, transposeWeights, type KernelOptions } from './kernels.js';
import { vec4Layers, vec4Sources, vec4Supported } from './kernels-vec4.js';
import type { SharedGpu } from './shared.js';
import type { BackendName } from './types.js';

export type MaybePromise<T> = T | Promise<T>;

/** Everything a driver needs to know about the run (resolved options). */
export interface RunSpec {
  readonly arch: Architecture;
  readonly width: number;
  readonly height: number;
  /** Rotated perception kernels, K x 9 floats. */
  readonly kernels: Float32Array;
  /** Integer fire threshold T of NCA-Hash-4091. */
  readonly threshold: number;
}

export interface Driver {
  readonly backend: BackendName;
  /** Builds the kernels, loads `initial` and proves a step runs (the result is discarded). */
  init(initial: Float32Array, key: number): Promise<void>;
  load(state: Float32Array): MaybePromise<void>;
  step(key: number): MaybePromise<void>;
  damage(cx: number, cy: number, radius: number): MaybePromise<void>;
  plant(x: number, y: number): MaybePromise<void>;
  read(): Promise<Float32Array>;
  render(canvas: HTMLCanvasElement | OffscreenCanvas): void;
  /** After a context restore: drop every kernel of the old context and build them anew. */
  rebuild(): void;
  dispose(): void;
}

type Canvas2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
const contexts2d = new WeakMap<HTMLCanvasElement | OffscreenCanvas, Canvas2D>();

/** The canvas's 2D context, sized to one pixel per cell. */
function context2d(canvas: HTMLCanvasElement | OffscreenCanvas, width: number, height: number): Canvas2D {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  let ctx = contexts2d.get(canvas);
  if (!ctx) {
    const created = canvas.getContext('2d') as Canvas2D | null;
    if (!created) throw new Error('render: the canvas has no 2D context (it already holds another kind of context)');
    ctx = created;
    contexts2d.set(canvas, ctx);
  }
  return ctx;
}

interface Deletable {
  delete(): void;
}

function isDeletable(value: unknown): value is Deletable {
  return typeof value === 'object' && value !== null && typeof (value as Deletable).delete === 'function';
}

function flattenNested(value: unknown, out: Float32Array): Float32Array {
  if (value instanceof Float32Array && value.length === out.length) return value;
  let offset = 0;
  const walk = (v: unknown): void => {
    if (v instanceof Float32Array) {
      out.set(v, offset);
      offset += v.length;
    } else if (Array.isArray(v)) {
      for (const item of v) walk(item);
    } else {
      throw new Error(`unexpected kernel result ${Object.prototype.toString.call(v)}`);
    }
  };
  walk(value);
  if (offset !== out.length) throw new Error(`kernel result has ${offset} values, expected ${out.length}`);
  return out;
}

/** Runs a generator of kernel calls, awaiting each result only when it is a Promise. */
function drive<T>(plan: Generator<unknown, T, unknown>, async: boolean): MaybePromise<T> {
  if (!async) {
    let result = plan.next();
    while (!result.done) result = plan.next(result.value);
    return result.value;
  }
  return (async () => {
    let result = plan.next();
    while (!result.done) result = plan.next(await result.value);
    return result.value;
  })();
}

interface DeviceKernels {
  perceive: IKernelRunShortcut;
  active: IKernelRunShortcut | undefined;
  hidden: IKernelRunShortcut[];
  /** Extra arguments of each hidden layer after its input (vec4: weight and bias textures). */
  hiddenArgs: KernelVariable[][];
  output: IKernelRunShortcut;
  outputArgs: KernelVariable[];
  alive: IKernelRunShortcut;
  damage: IKernelRunShortcut;
  plant: IKernelRunShortcut;
  copy: IKernelRunShortcut;
  flatten: IKernelRunShortcut;
  render: IKernelRunShortcut;
  /** Kernels that made the weight textures (kept: destroying one frees its texture). */
  loaders: IKernelRunShortcut[];
  /** Textures owned by the driver besides the state (weights). */
  textures: Deletable[];
}

/** Latest-call guard for webgpu's asynchronous render: an older frame never overwrites a newer. */
const renderSerials = new WeakMap<HTMLCanvasElement | OffscreenCanvas, number>();

export interface DeviceTuning {
  readonly unrollLimit: number;
  readonly skipIdleCells: boolean;
  /** Pack four values per texel (kernels-vec4.ts); GL only, needs channels % 4 === 0. */
  readonly vec4: boolean;
}

/** webgl2, webgl and webgpu: the state stays on the device. */
export class DeviceDriver implements Driver {
  readonly backend: BackendName;
  private kernels: DeviceKernels | undefined;
  private state: unknown;
  private readonly async: boolean;

  constructor(
    private readonly shared: SharedGpu,
    private readonly spec: RunSpec,
    private readonly tuning: DeviceTuning,
  ) {
    this.backend = shared.backend;
    // webgpu kernels return Promises (WebGPU has no synchronous readback); GL kernels do not.
    this.async = shared.backend === 'webgpu';
  }

  private build(gpu: GPU): DeviceKernels {
    return this.tuning.vec4 && vec4Supported(this.spec.arch) ? this.buildVec4(gpu) : this.buildScalar(gpu);
  }

  private buildScalar(gpu: GPU): DeviceKernels {
    const { arch, width: W, height: H } = this.spec;
    const options: KernelOptions = { ...this.tuning, inlineAtan: false, keyFromArray: false, layout: 'nested' };
    const src = kernelSources(arch, W, H, options);
    const C = arch.channels;
    // 'precision': highp everywhere; the fire hash and the indices need exact float32 integers.
    const base = { pipeline: true, tactic: 'precision' as const, precision: 'single' as const };
    const out = (depth: number): number[] => kernelOutput('nested', depth, W, H);
    const last = arch.layers[arch.layers.length - 1]!;
    return {
      perceive: gpu.createKernel(src.perceive, { ...base, output: out(arch.kernels.length * C), constants: { kern: this.spec.kernels } }),
      active: src.active === undefined ? undefined : gpu.createKernel(src.active, { ...base, output: out(1) }),
      hidden: src.hidden.map((source, l) => {
        const layer = arch.layers[l]!;
        return gpu.createKernel(source, {
          ...base,
          output: out(layer.outputs),
          constants: { w: transposeWeights(layer.weights, layer.inputs, layer.outputs), b: layer.bias },
        });
      }),
      hiddenArgs: src.hidden.map(() => []),
      output: gpu.createKernel(src.output, {
        ...base,
        output: out(C),
        constants: { w: transposeWeights(last.weights, last.inputs, last.outputs), b: last.bias },
      }),
      outputArgs: [],
      // States are fed back into the kernels that make them, which gpu.js only allows when each
      // result gets its own texture (immutable); the previous state is deleted after each use.
      alive: gpu.createKernel(src.alive, { ...base, output: out(C), immutable: true }),
      damage: gpu.createKernel(src.damage, { ...base, output: out(C), immutable: true }),
      plant: gpu.createKernel(src.plant, { ...base, output: out(C), immutable: true }),
      // NOTE: only ever called with an Input: webgl2 kernels first called with an Input crash
      // when later given a texture, so uploads get a kernel of their own.
      copy: gpu.createKernel(src.copy, { ...base, output: out(C), immutable: true }),
      flatten: gpu.createKernel(src.flatten, { output: [W * H * C], tactic: 'precision', precision: 'single' }),
      // NOTE: WebGPU draws through an RGBA readback, not a graphical kernel: presenting to a
      // WebGPU canvas lost the device in headless Chromium (docs/runtime.md).
      render:
        this.backend === 'webgpu'
          ? gpu.createKernel(src.rgba, { output: [W * H * 4], tactic: 'precision', precision: 'single' })
          : gpu.createKernel(src.render, { output: [W, H], graphical: true, tactic: 'precision' }),
      loaders: [],
      textures: [],
    };
  }

  private buildVec4(gpu: GPU): DeviceKernels {
    const { arch, width: W, height: H } = this.spec;
    const src = vec4Sources(arch, W, H, { skipIdleCells: this.tuning.skipIdleCells });
    const layers = vec4Layers(arch);
    const C = arch.channels;
    const base = { pipeline: true, tactic: 'precision' as const, precision: 'single' as const };
    const out = (depth: number): number[] => [depth / 4, W, H];
    const loaders: IKernelRunShortcut[] = [];
    const textures: Deletable[] = [];
    // Weights and biases become vec4 textures once; each step passes them as arguments.
    const layerArgs = layers.map((layer) => {
      const weights = gpu.createKernel(src.weightLoader, { ...base, output: [layer.inputs / 4, layer.outputs], immutable: true });
      const bias = gpu.createKernel(src.biasLoader, { ...base, output: [layer.outputs / 4], immutable: true });
      loaders.push(weights, bias);
      const wt = weights(new Input(layer.weights as unknown as number[], [layer.inputs, layer.outputs])) as unknown as KernelVariable;
      const bt = bias(layer.bias as unknown as KernelVariable) as unknown as KernelVariable;
      for (const t of [wt, bt]) if (isDeletable(t)) textures.push(t);
      return [wt, bt];
    });
    return {
      perceive: gpu.createKernel(src.perceive, { ...base, output: out(arch.kernels.length * C), constants: { kern: this.spec.kernels } }),
      active: src.active === undefined ? undefined : gpu.createKernel(src.active, { ...base, output: [W, H] }),
      hidden: src.hidden.map((source, l) => gpu.createKernel(source, { ...base, output: out(layers[l]!.outputs) })),
      hiddenArgs: layerArgs.slice(0, -1),
      output: gpu.createKernel(src.output, { ...base, output: out(C) }),
      outputArgs: layerArgs[layerArgs.length - 1]!,
      alive: gpu.createKernel(src.alive, { ...base, output: out(C), immutable: true }),
      damage: gpu.createKernel(src.damage, { ...base, output: out(C), immutable: true }),
      plant: gpu.createKernel(src.plant, { ...base, output: out(C), immutable: true }),
      copy: gpu.createKernel(src.copy, { ...base, output: out(C), immutable: true }),
      flatten: gpu.createKernel(src.flatten, { output: [W * H * C], tactic: 'precision', precision: 'single' }),
      render: gpu.createKernel(src.render, { output: [W, H], graphical: true, tactic: 'precision' }),
      loaders,
      textures,
    };
  }

  private get k(): DeviceKernels {
    if (!this.kernels) throw new Error('engine kernels are not built');
    return this.kernels;
  }

  /** Replaces the state, deleting the old one so its texture is recycled. */
  private replaceState(next: unknown): void {
    const old = this.state;
    this.state = next;
    if (old !== next && isDeletable(old)) old.delete();
  }

  async init(initial: Float32Array, key: number): Promise<void> {
    this.kernels = this.build(this.shared.gpu);
    await this.load(initial);
    // Compile and run every step kernel once on the real state, keeping the state unchanged.
    const trial = await drive(this.stepPlan(key), this.async);
    if (isDeletable(trial)) trial.delete();
    // Build the render kernel now: a webgpu kernel builds asynchronously on its first call, after
    // which a call runs synchronously through queue.submit, so render() can copy its canvas at once.
    await (this.k.render(this.state as KernelVariable) as unknown as MaybePromise<void>);
  }

  rebuild(): void {
    // The old kernels belonged to the lost context: nothing of them can be freed any more.
    this.kernels = this.build(this.shared.gpu);
    this.state = undefined;
  }

  load(state: Float32Array): MaybePromise<void> {
    const { width: W, height: H, arch } = this.spec;
    const uploaded = this.k.copy(new Input(state as unknown as number[], [arch.channels, W, H]));
    return drive(
      (function* (self: DeviceDriver) {
        self.replaceState(yield uploaded);
      })(this),
      this.async,
    );
  }

  private *stepPlan(key: number): Generator<unknown, unknown, unknown> {
    const k = this.k;
    const s = this.state as KernelVariable;
    const T = this.spec.threshold;
    let v = (yield k.perceive(s)) as KernelVariable;
    const act = k.active ? [(yield k.active(s, key, T)) as KernelVariable] : [];
    for (let l = 0; l < k.hidden.length; l++) v = (yield k.hidden[l]!(v, ...k.hiddenArgs[l]!, ...act)) as KernelVariable;
    const updated = (yield k.output(v, s, ...k.outputArgs, ...act, key, T)) as KernelVariable;
    return yield k.alive(updated, s);
  }

  step(key: number): MaybePromise<void> {
    return drive(
      (function* (self: DeviceDriver) {
        self.replaceState(yield* self.stepPlan(key));
      })(this),
      this.async,
    );
  }

  damage(cx: number, cy: number, radius: number): MaybePromise<void> {
    return drive(
      (function* (self: DeviceDriver) {
        self.replaceState(yield self.k.damage(self.state as KernelVariable, cx, cy, radius));
      })(this),
      this.async,
    );
  }

  plant(x: number, y: number): MaybePromise<void> {
    return drive(
      (function* (self: DeviceDriver) {
        self.replaceState(yield self.k.plant(self.state as KernelVariable, x, y));
      })(this),
      this.async,
    );
  }

  async read(): Promise<Float32Array> {
    const { width: W, height: H, arch } = this.spec;
    const values = await (this.k.flatten(this.state as KernelVariable) as unknown as MaybePromise<unknown>);
    return flattenNested(values, new Float32Array(W * H * arch.channels)).slice();
  }

  render(canvas: HTMLCanvasElement | OffscreenCanvas): void {
    const { width: W, height: H } = this.spec;
    const kernel = this.k.render;
    const ctx = context2d(canvas, W, H);
    if (this.backend === 'webgpu') {
      const serial = (renderSerials.get(canvas) ?? 0) + 1;
      renderSerials.set(canvas, serial);
      void (kernel(this.state as KernelVariable) as unknown as Promise<Float32Array>).then((bytes) => {
        if (renderSerials.get(canvas) !== serial) return;
        ctx.putImageData(new ImageData(Uint8ClampedArray.from(bytes), W, H), 0, 0);
      }, () => undefined);
      return;
    }
    kernel(this.state as KernelVariable);
    // The graphical kernel drew into the bottom-left W x H corner of the shared GL canvas.
    const source = this.shared.canvas as CanvasImageSource & { height: number };
    ctx.globalCompositeOperation = 'copy';
    ctx.drawImage(source, 0, source.height - H, W, H, 0, 0, W, H);
  }

  dispose(): void {
    if (isDeletable(this.state)) this.state.delete();
    this.state = undefined;
    const k = this.kernels;
    this.kernels = undefined;
    if (!k || this.shared.lost) return;
    for (const texture of k.textures) texture.delete();
    for (const kernel of [k.perceive, k.active, ...k.hidden, k.output, k.alive, k.damage, k.plant, k.copy, k.flatten, k.render, ...k.loaders]) {
      kernel?.destroy(true);
    }
  }
}

export interface HostTuning {
  readonly unrollLimit: number;
  readonly skipIdleCells: boolean;
  /** webasm only: let the pipeline split each step over a worker pool. */
  readonly threads: boolean;
}

/** cpu and webasm: the state is a Float32Array on the host. */
export class HostDriver implements Driver {
  readonly backend: BackendName;
  private state: Float32Array;
  private readonly keys = new Float32Array(1);
  private kernels: IKernelRunShortcut[] = [];
  private stepOnHost: ((state: Float32Array, key: number) => MaybePromise<Float32Array>) | undefined;
  private plan: IPipelineRunShortcut | undefined;
  private threads: boolean;

  constructor(
    private readonly shared: SharedGpu,
    private readonly spec: RunSpec,
    private readonly tuning: HostTuning,
  ) {
    this.backend = shared.backend;
    this.threads = tuning.threads;
    this.state = new Float32Array(spec.width * spec.height * spec.arch.channels);
  }

  private build(): void {
    const gpu = this.shared.gpu;
    const { arch, width: W, height: H, threshold: T } = this.spec;
    const wasm = this.backend === 'webasm';
    const layout = wasm ? 'nested' : 'flat';
    const src = kernelSources(arch, W, H, {
      unrollLimit: this.tuning.unrollLimit,
      skipIdleCells: this.tuning.skipIdleCells,
      inlineAtan: wasm,
      keyFromArray: wasm,
      layout,
    });
    const C = arch.channels;
    const out = (depth: number): number[] => kernelOutput(layout, depth, W, H);
    const make = (source: string, depth: number, constants?: Record<string, Float32Array>): IKernelRunShortcut => {
      const kernel = gpu.createKernel(source, { output: out(depth), tactic: 'precision', ...(constants ? { constants } : {}) });
      this.kernels.push(kernel);
      return kernel;
    };
    const last = arch.layers[arch.layers.length - 1]!;
    const perceive = make(src.perceive, arch.kernels.length * C, { kern: this.spec.kernels });
    const active = src.active === undefined ? undefined : make(src.active, 1);
    const hidden = src.hidden.map((source, l) => {
      const layer = arch.layers[l]!;
      return make(source, layer.outputs, { w: transposeWeights(layer.weights, layer.inputs, layer.outputs), b: layer.bias });
    });
    const output = make(src.output, C, { w: transposeWeights(last.weights, last.inputs, last.outputs), b: last.bias });
    const alive = make(src.alive, C);
    if (!wasm) {
      // cpu: flat layout, each kernel returns one Float32Array the next one indexes directly.
      this.stepOnHost = (s, key) => {
        let v: unknown = perceive(s);
        const act: unknown = active ? active(s, key, T) : undefined;
        for (const dense of hidden) v = act === undefined ? dense(v as Float32Array) : dense(v as Float32Array, act as Float32Array);
        const updated = act === undefined ? output(v as Float32Array, s, key, T) : output(v as Float32Array, s, act as Float32Array, key, T);
        return alive(updated as Float32Array, s) as unknown as Float32Array;
      };
      return;
    }
    const flatten = gpu.createKernel(src.flatten, { output: [W * H * C], tactic: 'precision' });
    this.kernels.push(flatten);
    // One step as one fused plan: traced once, then every call runs it inside wasm memory.
    // NOTE: written as a plain function: gpu.js calls it with `this` bound to the plan.
    const plan = gpu.createPipeline(
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
    this.plan = plan;
    this.stepOnHost = async (s, key) => {
      this.keys[0] = key;
      const result = await plan(new Input(s as unknown as number[], [C, W, H]), this.keys);
      return result as Float32Array;
    };
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
    this.load(initial);
    const trial = await this.stepOnHost!(this.state, key);
    if (!(trial instanceof Float32Array) || trial.length !== this.state.length) {
      throw new Error('a step returned no state');
    }
    if (this.plan) {
      // A plan the fused executor declines still runs, through gpu.js's generic executor and
      // possibly on the cpu backend: that is not the webasm backend this driver promises.
      if (this.plan.backend !== 'webasm' || !this.plan.executorKind.startsWith('fused')) {
        throw new Error(`gpu.js did not fuse the step on webasm (${this.plan.executorKind} on ${String(this.plan.backend)}): ${this.plan.fallbackReason ?? 'no reason given'}`);
      }
    } else {
      for (const kernel of this.kernels) {
        const mode = (kernel.kernel.constructor as { mode?: string }).mode;
        if (mode !== this.backend) throw new Error(`a kernel fell back to ${String(mode)}: ${kernel.kernel.fallbackReason ?? 'no reason given'}`);
      }
    }
  }

  /** How gpu.js ran the last step: 'fused-threaded', 'fused-sync' or 'kernels'. */
  get executor(): string {
    return this.plan ? this.plan.executorKind : 'kernels';
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
    const next = this.stepOnHost!(this.state, key);
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

  dispose(): void {
    const plan = this.plan;
    this.plan = undefined;
    if (plan) void plan.destroy().catch(() => undefined);
    for (const kernel of this.kernels) kernel.destroy();
    this.kernels = [];
  }
}
