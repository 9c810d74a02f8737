import type { NcaModel } from '../format/types.js';

/** Every backend the engine can run on, fastest-on-real-GPU first. */
export type BackendName = 'webgpu' | 'webgl2' | 'webgl' | 'webasm' | 'cpu';
export type BackendRequest = BackendName | 'auto';

/** Why a backend was not used: kept as data so UIs and tests can show it. */
export interface SkippedBackend {
  readonly backend: BackendName;
  readonly reason: string;
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
}

/** Events an engine dispatches (it is an EventTarget). */
export interface EngineEventMap {
  /** The GL context was lost: the engine paused; detail: { backend }. */
  'context-lost': CustomEvent<{ backend: BackendName }>;
  /** The context came back and the engine rebuilt its kernels (state restarts from reset). */
  'context-restored': CustomEvent<{ backend: BackendName }>;
}

/**
 * A running CA on one backend. The state stays on the device between steps; nothing is read
 * back to the CPU unless `readState` is called.
 */
export interface NcaEngine extends EventTarget {
  readonly model: NcaModel;
  readonly selection: BackendSelection;
  readonly backend: BackendName;
  readonly width: number;
  readonly height: number;
  /** Steps taken since the last reset / setState. */
  readonly stepCount: number;
  /** True while a lost context has paused the engine. */
  readonly paused: boolean;
  /** Advance n steps (default 1). */
  step(n?: number): void;
  /** Back to the model's start: seed cell in the centre or the embedded start image. */
  reset(): void;
  /** Set the state from an RGBA image (8-bit, straight alpha), centred; see reference helpers. */
  setStateFromImage(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): void;
  /** Zero every cell within radius r (cells) of (x, y). */
  damage(x: number, y: number, radius: number): void;
  /** Plant a seed cell at (x, y). */
  plant(x: number, y: number): void;
  /** Draw RGBA to a canvas (one pixel per cell; scale with CSS). */
  render(canvas: HTMLCanvasElement | OffscreenCanvas): void;
  /** Copy the whole state to the CPU, HWC order (for tests and snapshots). */
  readState(): Float32Array;
  /** Free every kernel and texture. The engine is unusable afterwards. */
  dispose(): void;
}

export type CreateEngine = (model: NcaModel, options?: EngineOptions) => Promise<NcaEngine>;
