import type { NcaModel } from '../format/types.js';
import { fireKey } from '../reference/index.js';
import type { Driver, MaybePromise } from './driver.js';
import { NcaEngineError } from './errors.js';
import type { SharedClient, SharedGpu } from './shared.js';
import type { BackendName, BackendSelection, NcaEngine } from './types.js';

export interface EngineParts {
  readonly model: NcaModel;
  readonly selection: BackendSelection;
  readonly shared: SharedGpu;
  readonly driver: Driver;
  readonly width: number;
  readonly height: number;
  readonly seed: number;
  /** The model's start state on this grid (reset goes back to it). */
  readonly start: () => Float32Array;
  /** A state from an RGBA image, centred (setStateFromImage). */
  readonly fromImage: (rgba: Uint8Array | Uint8ClampedArray, width: number, height: number) => Float32Array;
}

/**
 * A running CA. Operations are queued in call order; on the synchronous backends (webgl2, webgl,
 * cpu) an operation on an idle engine runs before the call returns, so `step(); render()` in one
 * animation frame draws the new state. On webgpu and webasm steps finish later: await them.
 */
export class GpuNcaEngine extends EventTarget implements NcaEngine, SharedClient {
  readonly model: NcaModel;
  readonly selection: BackendSelection;
  readonly backend: BackendName;
  readonly width: number;
  readonly height: number;
  private readonly driver: Driver;
  private readonly shared: SharedGpu;
  private readonly seed: number;
  private readonly start: () => Float32Array;
  private readonly fromImage: EngineParts['fromImage'];
  private steps = 0;
  private isPaused = false;
  private disposed = false;
  /** Settles when every queued operation has; operations in flight, if any, run before. */
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(parts: EngineParts) {
    super();
    this.model = parts.model;
    this.selection = parts.selection;
    this.backend = parts.selection.chosen;
    this.width = parts.width;
    this.height = parts.height;
    this.driver = parts.driver;
    this.shared = parts.shared;
    this.seed = parts.seed;
    this.start = parts.start;
    this.fromImage = parts.fromImage;
    this.shared.join(this);
  }

  get stepCount(): number {
    return this.steps;
  }

  get paused(): boolean {
    return this.isPaused;
  }

  /**
   * Runs `op` after everything queued before it. An error rejects this call only; the queue goes
   * on. While the context is lost, operations are skipped (the state restarts on restore).
   */
  private enqueue<T>(op: () => MaybePromise<T>, whilePaused: () => T): Promise<T> {
    if (this.disposed) return Promise.reject(new NcaEngineError('disposed', 'the engine was disposed'));
    const run = (): MaybePromise<T> => {
      if (this.disposed) throw new NcaEngineError('disposed', 'the engine was disposed');
      return this.isPaused ? whilePaused() : op();
    };
    if (this.pending === 0) {
      let result: MaybePromise<T>;
      try {
        result = run();
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      if (!(result instanceof Promise)) return Promise.resolve(result);
      return this.track(result);
    }
    return this.track(this.tail.then(run));
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending++;
    const settled = (): void => {
      this.pending--;
    };
    this.tail = promise.then(settled, settled);
    return promise;
  }

  step(n = 1): Promise<void> {
    if (!Number.isInteger(n) || n < 0) return Promise.reject(new NcaEngineError('bad-option', `step count must be a non-negative integer, got ${n}`));
    return this.enqueue(
      () => this.runSteps(n),
      () => undefined,
    );
  }

  private runSteps(n: number): MaybePromise<void> {
    for (let i = 0; i < n; i++) {
      // Step index = steps since the last reset: the reference's runSteps from that state.
      const result = this.driver.step(fireKey(this.seed, this.steps));
      if (result instanceof Promise) {
        return result.then(() => {
          this.steps++;
          return this.isPaused || this.disposed ? undefined : this.runSteps(n - i - 1);
        });
      }
      this.steps++;
    }
  }

  reset(): Promise<void> {
    return this.enqueue(
      () => this.loadState(this.start()),
      () => undefined,
    );
  }

  private loadState(state: Float32Array, stepCount = 0): MaybePromise<void> {
    const result = this.driver.load(state);
    if (result instanceof Promise) {
      return result.then(() => {
        this.steps = stepCount;
      });
    }
    this.steps = stepCount;
  }

  setState(state: Float32Array, stepCount = 0): Promise<void> {
    const expected = this.width * this.height * this.model.architecture.channels;
    if (!(state instanceof Float32Array) || state.length !== expected) {
      return Promise.reject(new NcaEngineError('bad-option', `setState needs a Float32Array of ${expected} values (W*H*C), got ${String((state as unknown as { length?: number })?.length)}`));
    }
    if (!Number.isSafeInteger(stepCount) || stepCount < 0) {
      return Promise.reject(new NcaEngineError('bad-option', `stepCount must be a non-negative safe integer, got ${stepCount}`));
    }
    const copy = state.slice();
    return this.enqueue(
      () => this.loadState(copy, stepCount),
      () => undefined,
    );
  }

  setStateFromImage(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Promise<void> {
    let state: Float32Array;
    try {
      state = this.fromImage(rgba, width, height);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return this.enqueue(
      () => this.loadState(state),
      () => undefined,
    );
  }

  damage(x: number, y: number, radius: number): Promise<void> {
    // The reference's damageDisc clears nothing for these; the kernel would clear r^2 > d^2.
    if (!(radius > 0) || Number.isNaN(x) || Number.isNaN(y)) return this.enqueue(() => undefined, () => undefined);
    return this.enqueue(
      () => this.driver.damage(x, y, radius),
      () => undefined,
    );
  }

  plant(x: number, y: number): Promise<void> {
    const cx = Math.floor(x);
    const cy = Math.floor(y);
    if (!(cx >= 0 && cx < this.width && cy >= 0 && cy < this.height)) return this.enqueue(() => undefined, () => undefined);
    return this.enqueue(
      () => this.driver.plant(cx, cy),
      () => undefined,
    );
  }

  render(canvas: HTMLCanvasElement | OffscreenCanvas): void {
    if (this.disposed) throw new NcaEngineError('disposed', 'the engine was disposed');
    if (this.isPaused) return;
    this.driver.render(canvas);
  }

  readState(): Promise<Float32Array> {
    return this.enqueue(
      () => this.driver.read(),
      () => {
        throw new NcaEngineError('paused', 'the GL context is lost; the state is gone until it is restored');
      },
    );
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const release = (): void => {
      this.driver.dispose();
      this.shared.leave(this);
    };
    // Let an operation in flight (a webasm or webgpu step) finish before its kernels go.
    if (this.pending === 0) release();
    else void this.tail.then(release);
  }

  contextLost(): void {
    if (this.disposed || this.isPaused) return;
    this.isPaused = true;
    this.dispatchEvent(new CustomEvent('context-lost', { detail: { backend: this.backend } }));
  }

  contextRestored(): void {
    if (this.disposed) return;
    let loaded: MaybePromise<void>;
    try {
      this.driver.rebuild();
      loaded = this.driver.load(this.start());
    } catch (error) {
      this.contextFailed(error);
      return;
    }
    // A WebGPU upload settles later; GL's at once. Operations stay skipped (paused) until then.
    if (loaded instanceof Promise) void loaded.then(() => this.resumed(), (error: unknown) => this.contextFailed(error));
    else this.resumed();
  }

  /** Still paused: the engine cannot run on the restored context (or there is none). */
  contextFailed(error: unknown): void {
    if (this.disposed) return;
    this.dispatchEvent(new CustomEvent('error', { detail: { error } }));
  }

  private resumed(): void {
    if (this.disposed) return;
    this.steps = 0;
    this.isPaused = false;
    this.dispatchEvent(new CustomEvent('context-restored', { detail: { backend: this.backend } }));
  }
}
