/**
 * One gpu.js `GPU` instance per backend, shared by every engine on the page and refcounted, the
 * way model-viewer shares one renderer between its elements: twenty engines on a blog page open
 * one WebGL context, not twenty. The last engine to leave destroys the instance (and, on GL,
 * releases the context).
 *
 * GL context loss is handled here because it hits every engine on the context at once: the
 * instance listens on its canvas, calls `preventDefault()` so the browser may restore it, tells
 * every client to pause, and on restore builds a fresh `GPU` on the same context and asks every
 * client to rebuild its kernels on it. A lost WebGPU device (device-loss.ts) takes the same path,
 * except that nothing restores it for us: the instance rebuilds at once on a fresh device.
 */
import { GPU } from 'gpu.js';
import { acquireWebGpuDevice, MAX_DEVICE_RESTORES, type DeviceLostInfo, type LosableDevice } from './device-loss.js';
import { createGlContext, type Blocked, type GlCanvas, type GlContext, type GlKind } from './probe.js';
import type { BackendName } from './types.js';

export interface SharedClient {
  /** The context was lost: stop touching the GPU. */
  contextLost(): void;
  /** The context is back and `shared.gpu` is a new instance: rebuild every kernel on it. */
  contextRestored(): void;
  /** The context is gone for good (a WebGPU device lost again and again): stop, and say why. */
  contextFailed(error: Error): void;
}

export class SharedGpu {
  readonly backend: BackendName;
  gpu: GPU;
  readonly canvas: GlCanvas | undefined;
  readonly context: GlContext | undefined;
  readonly renderer: string | undefined;
  readonly maxTextureSize: number | undefined;
  lost = false;
  private readonly clients = new Set<SharedClient>();
  private refs = 0;
  /** WebGPU devices whose `lost` is watched, and how many losses were rebuilt after. */
  private readonly watched = new WeakSet<LosableDevice>();
  private deviceRestores = 0;
  private readonly onLost = (event: Event): void => {
    // Without preventDefault the browser never restores the context.
    event.preventDefault();
    this.lost = true;
    for (const client of [...this.clients]) client.contextLost();
  };
  private readonly onRestored = (): void => {
    // The old instance's kernels and textures died with the context; dropping it (not
    // destroying it: its destroy() would lose the context again) is all that is left to do.
    this.gpu = this.createGpu();
    this.lost = false;
    for (const client of [...this.clients]) client.contextRestored();
  };

  constructor(backend: BackendName, gl?: { canvas: GlCanvas; context: GlContext; renderer: string; maxTextureSize: number }) {
    this.backend = backend;
    this.canvas = gl?.canvas;
    this.context = gl?.context;
    this.renderer = gl?.renderer;
    this.maxTextureSize = gl?.maxTextureSize;
    this.gpu = this.createGpu();
    if (this.canvas) {
      this.canvas.addEventListener('webglcontextlost', this.onLost);
      this.canvas.addEventListener('webglcontextrestored', this.onRestored);
    }
  }

  private createGpu(): GPU {
    if (this.context) return new GPU({ mode: this.backend as 'webgl2' | 'webgl', canvas: this.canvas, context: this.context });
    return new GPU({ mode: this.backend === 'cpu' ? 'cpu' : this.backend });
  }

  join(client: SharedClient): void {
    this.refs++;
    this.clients.add(client);
    // NOTE: the engine joins after its kernels ran, so gpu.js holds a device by now.
    if (this.backend === 'webgpu') void acquireWebGpuDevice()?.then((device) => this.watchDevice(device), () => undefined);
  }

  /** Maps `device.lost` to context loss: every client pauses, then rebuilds on a fresh device. */
  watchDevice(device: LosableDevice): void {
    if (this.watched.has(device)) return;
    this.watched.add(device);
    void device.lost.then((info) => this.deviceLost(info));
  }

  private deviceLost(info: DeviceLostInfo): void {
    // Nobody left to tell (our own teardown, or an instance already replaced).
    if (this.refs === 0 || this.lost) return;
    this.lost = true;
    for (const client of [...this.clients]) client.contextLost();
    if (this.deviceRestores >= MAX_DEVICE_RESTORES) {
      const error = new Error(`the WebGPU device was lost ${this.deviceRestores + 1} times (${info.reason ?? 'unknown'}: ${info.message ?? ''}); giving up`);
      for (const client of [...this.clients]) client.contextFailed(error);
      return;
    }
    this.deviceRestores++;
    // gpu.js dropped the lost device; the new GPU's kernels acquire a fresh one as they build.
    this.gpu = this.createGpu();
    this.lost = false;
    for (const client of [...this.clients]) client.contextRestored();
    if (this.backend === 'webgpu') void acquireWebGpuDevice()?.then((device) => this.watchDevice(device), () => undefined);
  }

  /** Leaves; the last one out destroys the instance and frees the context. */
  leave(client: SharedClient): void {
    if (!this.clients.delete(client)) return;
    this.refs--;
    if (this.refs > 0) return;
    if (instances.get(this.backend) === this) instances.delete(this.backend);
    if (this.canvas) {
      this.canvas.removeEventListener('webglcontextlost', this.onLost);
      this.canvas.removeEventListener('webglcontextrestored', this.onRestored);
    }
    const gpu = this.gpu;
    const context = this.context;
    void gpu.destroy().catch(() => undefined);
    // gpu.destroy() only releases a context through its first kernel; release ours in any case.
    if (context && !context.isContextLost()) context.getExtension('WEBGL_lose_context')?.loseContext();
  }

  get clientCount(): number {
    return this.refs;
  }

  /** Frees an instance a probe created but no engine joined (a GL context is scarce). */
  releaseIfUnused(): void {
    if (this.refs > 0) return;
    const placeholder = { contextLost: () => undefined, contextRestored: () => undefined, contextFailed: () => undefined };
    this.join(placeholder);
    this.leave(placeholder);
  }
}

const instances = new Map<BackendName, SharedGpu>();

/** The page's shared instance for a non-GL backend, created on first use. */
export function sharedInstance(backend: 'webgpu' | 'webasm' | 'cpu'): SharedGpu {
  let shared = instances.get(backend);
  if (!shared) {
    shared = new SharedGpu(backend);
    instances.set(backend, shared);
  }
  return shared;
}

/**
 * The page's shared instance for a GL backend, creating its context on first use, or why there
 * is none. A shared context that was lost and not (yet) restored is not handed to new engines.
 */
export function sharedGlInstance(kind: GlKind): SharedGpu | Blocked {
  const existing = instances.get(kind);
  if (existing && !existing.lost) return existing;
  if (existing?.lost) return { reason: `the shared ${kind} context is lost` };
  const probe = createGlContext(kind);
  if (!probe.ok) return probe.cause === undefined ? { reason: probe.reason } : { reason: probe.reason, cause: probe.cause };
  const shared = new SharedGpu(kind, probe);
  instances.set(kind, shared);
  return shared;
}

/** Every live shared instance (for tests and diagnostics). */
export function liveSharedInstances(): ReadonlyMap<BackendName, SharedGpu> {
  return instances;
}
