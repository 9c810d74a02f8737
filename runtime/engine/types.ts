import type { NcaModel } from '../format/types.js';

/** Every backend the engine can run on, fastest-on-real-GPU first. */
export type BackendName = 'webgpu' | 'webgl2' | 'webgl' | 'webasm' | 'cpu';
export type BackendRequest = BackendName | 'auto';

/**
 * Where a backend dropped out of selection: `unavailable` (it cannot run here: no API, the page's
 * CSP, a grid too large for it), `software-renderer` (set aside in auto mode behind webasm and cpu),
 * `failed` (its kernels did not compile, or the trial step threw: `cause` holds what was thrown).
 */
export type SkipStage = 'unavailable' | 'software-renderer' | 'failed';

/** Why a backend was not used: kept as data so UIs and tests can show it. */
export interface SkippedBackend {
  readonly backend: BackendName;
  readonly stage: SkipStage;
  /** One readable line. */
  readonly reason: string;
  /** The original error, when something was thrown (always for `failed`). */
  readonly cause?: unknown;
}

export interface BackendSelection {
  readonly chosen: BackendName;
  /** Backends tried (or ruled out) before `chosen`, in order, with the reason each was skipped. */
  readonly skipped: readonly SkippedBackend[];
  /** Renderer string when known (e.g. "SwiftShader"), so callers can see a software GL. */
  readonly renderer?: string;
}

export interface EngineOptions {
  readonly backend?: BackendRequest;
  /** Grid size in cells; defaults to the model's suggested grid. */
  readonly gridWidth?: number;
  readonly gridHeight?: number;
  /** Seed of the counter-based fire-mask generator (uint32). Default 0. */
  readonly seed?: number;
  /** Overrides the model's fire rate, in [0, 1]. */
  readonly fireRate?: number;
  /** Rotation in radians applied to gradient-pair perception kernels (Distill's demo). */
  readonly rotation?: number;
  /** How long to wait for a WebGPU adapter before falling back, in ms. Default 1500. */
  readonly webgpuTimeoutMs?: number;
  /**
   * webasm only: split each step over gpu.js's worker pool (browsers need cross-origin
   * isolation for it). Default: on where available, for grids of at least 64x64 cells, for at
   * most two engines per page at once (each engine's pool has one worker per core).
   */
  readonly threads?: boolean;
}

/** Events an engine dispatches (it is an EventTarget). */
export interface EngineEventMap {
  /** The GL context or the WebGPU device was lost: the engine paused; detail: { backend }. */
  'context-lost': CustomEvent<{ backend: BackendName }>;
  /** The context (or a fresh WebGPU device) came back and the engine rebuilt its kernels (state restarts from reset). */
  'context-restored': CustomEvent<{ backend: BackendName }>;
  /** The engine could not rebuild after a restore, or its WebGPU device was lost too often; it stays paused. */
  error: CustomEvent<{ error: unknown }>;
}

/**
 * A running CA on one backend. The state stays on the device between steps; nothing is read
 * back to the CPU unless `readState` is called.
 *
 * Operations run in call order. Each returns a Promise that settles when it has run; on the
 * synchronous backends (webgl2, webgl, cpu) an operation on an idle engine has already run when
 * the call returns, on webgpu and webasm it finishes later (so `await engine.step()` before
 * `render` there, or render the previous state). While a lost context has paused the engine,
 * operations resolve without doing anything and `readState` rejects.
 */
export interface NcaEngine extends EventTarget {
  readonly model: NcaModel;
  readonly selection: BackendSelection;
  readonly backend: BackendName;
  readonly width: number;
  readonly height: number;
  /** Steps taken since the last reset / setState (also the next step's fire-mask index). */
  readonly stepCount: number;
  /** True while a lost context has paused the engine. */
  readonly paused: boolean;
  /** Advance n steps (default 1). */
  step(n?: number): Promise<void>;
  /** Back to the model's start: seed cell in the centre or the embedded start image. */
  reset(): Promise<void>;
  /**
   * Set the whole state: W*H*C float32 values in HWC order (a `readState` snapshot, a state from
   * the reference helpers), and `stepCount` (default 0), so a snapshot of (readState(),
   * stepCount) resumes exactly.
   */
  setState(state: Float32Array, stepCount?: number): Promise<void>;
  /** Set the state from an RGBA image (8-bit, straight alpha), centred; see reference helpers. */
  setStateFromImage(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Promise<void>;
  /** Zero every cell whose centre is within radius r (cells) of (x, y), as `damageDisc`. */
  damage(x: number, y: number, radius: number): Promise<void>;
  /** Plant a seed cell at (floor(x), floor(y)), as `plantSeed`; outside the grid: nothing. */
  plant(x: number, y: number): Promise<void>;
  /**
   * Draw RGBA to a canvas (one pixel per cell, straight alpha as `toRgba`; scale with CSS). The
   * canvas is resized to the grid and drawn through its 2D context. Draws the latest finished
   * state; never reads the state back on GPU backends.
   */
  render(canvas: HTMLCanvasElement | OffscreenCanvas): void;
  /** Copy the whole state to the CPU, HWC order (for tests and snapshots). */
  readState(): Promise<Float32Array>;
  /** Free every kernel and texture (after an operation in flight). Unusable afterwards. */
  dispose(): void;
}

export type CreateEngine = (model: NcaModel, options?: EngineOptions) => Promise<NcaEngine>;
