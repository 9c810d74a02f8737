/**
 * webgl2, webgl and webgpu: the state is a GPU texture/buffer that never leaves the device; every
 * operation (step, damage, plant, upload) is a kernel producing the next state; rendering is a
 * graphical kernel on the same context copied to the caller's canvas. Intermediate kernels reuse
 * their output texture every call (`immutable: false`); the kernels producing states are
 * `immutable` (a state is fed back into them) and the previous state is deleted right after, so
 * gpu.js recycles it: a step allocates nothing.
 */
import { Input, type GPU, type IKernelRunShortcut, type KernelVariable } from 'gpu.js';
import { context2d, type Driver, type MaybePromise, type RunSpec } from './driver.js';
import { kernelOutput, kernelSources, transposeWeights, type KernelOptions } from './kernels/scalar.js';
import { vec4Layers, vec4Sources, vec4Supported } from './kernels/vec4.js';
import type { SharedGpu } from './shared.js';
import type { BackendName } from './types.js';

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
