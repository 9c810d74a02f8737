/** What a backend of the registry (registry.ts) is: how it finds out it can run, and its driver. */
import type { Driver, RunSpec } from './driver.js';
import type { Blocked } from './probe.js';
import type { SharedGpu } from './shared.js';
import type { BackendName, EngineOptions } from './types.js';

/** A backend that can run here, with the page's shared gpu.js instance for it. */
export interface PreparedBackend {
  readonly shared: SharedGpu;
  /** Renderer or adapter name, when known. */
  readonly renderer?: string;
  /** A software rasteriser: auto mode sets it aside behind webasm and cpu. */
  readonly software: boolean;
}

/** Why a backend cannot run here (a `SkippedBackend` of stage `unavailable`). */
export type UnavailableBackend = Blocked;

export interface BackendEntry {
  /** Finds out whether the backend can run here, cheaply, and gets its shared instance. */
  prepare(spec: RunSpec, options: EngineOptions): Promise<PreparedBackend | UnavailableBackend>;
  /** A driver for one engine; `init` on it compiles the kernels and proves a step runs. */
  driver(shared: SharedGpu, spec: RunSpec, options: EngineOptions): Driver;
}

export interface RegisteredBackend {
  readonly name: BackendName;
  readonly entry: BackendEntry;
  readonly priority: number;
}
