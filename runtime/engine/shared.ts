/**
 * One gpu.js `GPU` instance per backend, shared by every engine on the page and refcounted, the
 * way model-viewer shares one renderer between its elements: twenty engines on a blog page open
 * one WebGL context, not twenty. The last engine to leave destroys the instance (and, on GL,
 * releases the context).
 *
 * GL context loss is handled here because it hits every engine on the context at once: the
 * instance listens on its canvas, calls `preventDefault()` so the browser may restore it, tells
 * every client to pause, and on restore builds a fresh `GPU` on the same context and asks every
 * client to rebuild its kernels on it.
 */
import { GPU } from 'gpu.js';
import { createGlContext, type Blocked, type GlCanvas, type GlContext, type GlKind } from './probe.js';
import type { BackendName } from './types.js';

export interface SharedClient {
  /** The context was lost: stop touching the GPU. */
  contextLost(): void;
  /** The context is back and `shared.gpu` is a new instance: rebuild every kernel on it. */
  contextRestored(): void;
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
    const placeholder = { contextLost: () => undefined, contextRestored: () => undefined };
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
