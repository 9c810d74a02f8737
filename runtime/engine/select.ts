/**
 * Backend selection, as onnxruntime-web resolves execution providers: a registry tried in order,
 * the first that prepares and then compiles and runs a step wins, and every other one is kept
 * with its reason as data (`selection.skipped`).
 *
 * Auto order: webgpu, webgl2, webgl, webasm, cpu. A software rasteriser (SwiftShader, llvmpipe:
 * what a browser uses without a GPU) runs gpu.js's GL and WebGPU kernels several times slower
 * than webasm on the same cores, so in auto mode a software GPU backend moves behind webasm and
 * cpu; it is still tried last, since under a strict CSP it may be the only one allowed.
 */
import { GPU } from 'gpu.js';
import { MAX_GRID_SIDE } from '../format/constants.js';
import type { NcaModel } from '../format/types.js';
import { MAX_SEED, checkArchitecture, fireKey, fireThreshold, perceptionKernels, startState, stateFromImage } from '../reference/index.js';
import { DeviceDriver, HostDriver, type Driver, type RunSpec } from './drivers.js';
import { GpuNcaEngine } from './engine.js';
import { NcaEngineError, reasonOf } from './errors.js';
import { largestBuffer, MAX_BUFFER_ELEMENTS } from './kernels.js';
import { evalBlockedReason, isSoftwareRenderer, probeWebGpu, wasmBlockedReason, type GlKind } from './probe.js';
import { SharedGpu, sharedGlInstance, sharedInstance } from './shared.js';
import type { BackendName, BackendRequest, EngineOptions, NcaEngine, SkippedBackend } from './types.js';

export const BACKENDS: readonly BackendName[] = ['webgpu', 'webgl2', 'webgl', 'webasm', 'cpu'];
const DEFAULT_WEBGPU_TIMEOUT_MS = 1500;
/** webasm worker pools are per engine (one worker per core each): at most this many at once. */
const MAX_THREADED_ENGINES = 2;
const THREADS_MIN_CELLS = 64 * 64;

interface Prepared {
  readonly shared: SharedGpu;
  readonly renderer?: string;
  readonly software: boolean;
}

interface BackendEntry {
  /** Finds out whether the backend can run here, cheaply, and gets its shared instance. */
  prepare(spec: RunSpec, options: EngineOptions): Promise<Prepared | { reason: string }>;
  driver(shared: SharedGpu, spec: RunSpec, options: EngineOptions): Driver;
}

/** Renderer strings of GL kinds seen on this page, so a software GL is recognised without a context. */
const glRenderers = new Map<GlKind, string>();
const threadedDrivers = new Set<Driver>();

function glEntry(kind: GlKind): BackendEntry {
  return {
    prepare(spec) {
      const elements = largestBuffer(spec.arch, spec.width, spec.height);
      if (elements > MAX_BUFFER_ELEMENTS) {
        return Promise.resolve({ reason: `grid too large for ${kind}: a buffer of ${elements} values exceeds 2^24, the float32-exact index range` });
      }
      const shared = sharedGlInstance(kind);
      if (!(shared instanceof SharedGpu)) return Promise.resolve(shared);
      glRenderers.set(kind, shared.renderer ?? '');
      const side = Math.ceil(Math.sqrt(elements));
      if (shared.maxTextureSize !== undefined && side > shared.maxTextureSize) {
        releaseIfUnused(shared);
        return Promise.resolve({ reason: `grid too large for ${kind}: needs a ${side}x${side} texture, the limit is ${shared.maxTextureSize}` });
      }
      return Promise.resolve({ shared, renderer: shared.renderer ?? '', software: isSoftwareRenderer(shared.renderer) });
    },
    driver: (shared, spec) => new DeviceDriver(shared, spec, { unrollLimit: 0, skipIdleCells: true, vec4: true }),
  };
}

const REGISTRY: Readonly<Record<BackendName, BackendEntry>> = {
  webgpu: {
    async prepare(spec, options) {
      const probe = await probeWebGpu(options.webgpuTimeoutMs ?? DEFAULT_WEBGPU_TIMEOUT_MS);
      if (!probe.ok) return { reason: probe.reason };
      const bytes = largestBuffer(spec.arch, spec.width, spec.height) * 4;
      if (bytes > probe.maxBufferBytes) return { reason: `grid too large for webgpu: a ${bytes}-byte buffer exceeds the adapter's ${probe.maxBufferBytes}` };
      return { shared: sharedInstance('webgpu'), renderer: probe.renderer, software: probe.software };
    },
    driver: (shared, spec) => new DeviceDriver(shared, spec, { unrollLimit: 256, skipIdleCells: true, vec4: false }),
  },
  webgl2: glEntry('webgl2'),
  webgl: glEntry('webgl'),
  webasm: {
    async prepare() {
      const blocked = await wasmBlockedReason();
      if (blocked) return { reason: blocked };
      if (!GPU.isWebAssemblySupported) return { reason: 'gpu.js reports no WebAssembly support' };
      return { shared: sharedInstance('webasm'), software: false };
    },
    driver(shared, spec, options) {
      const available = typeof SharedArrayBuffer !== 'undefined' && (typeof crossOriginIsolated === 'undefined' || crossOriginIsolated);
      const wanted = options.threads ?? (spec.width * spec.height >= THREADS_MIN_CELLS && threadedDrivers.size < MAX_THREADED_ENGINES);
      const threads = available && wanted;
      const driver = new HostDriver(shared, spec, { unrollLimit: 256, skipIdleCells: true, threads });
      if (threads) {
        threadedDrivers.add(driver);
        const dispose = driver.dispose.bind(driver);
        driver.dispose = () => {
          threadedDrivers.delete(driver);
          dispose();
        };
      }
      return driver;
    },
  },
  cpu: {
    prepare() {
      const blocked = evalBlockedReason();
      if (blocked) return Promise.resolve({ reason: blocked });
      return Promise.resolve({ shared: sharedInstance('cpu'), software: false });
    },
    driver: (shared, spec) => new HostDriver(shared, spec, { unrollLimit: 256, skipIdleCells: true, threads: false }),
  },
};

/** A shared instance a probe created but no engine joined: free it (a GL context is scarce). */
function releaseIfUnused(shared: SharedGpu): void {
  if (shared.clientCount === 0) {
    const placeholder = { contextLost: () => undefined, contextRestored: () => undefined };
    shared.join(placeholder);
    shared.leave(placeholder);
  }
}

const faults = new Map<BackendName, string>();

/**
 * Testing hook: make `backend` fail as if its kernels did not compile (`message`), or clear the
 * fault (undefined). Not part of the public API.
 */
export function injectBackendFault(backend: BackendName, message: string | undefined): void {
  if (message === undefined) faults.delete(backend);
  else faults.set(backend, message);
}

function badOption(message: string): NcaEngineError {
  return new NcaEngineError('bad-option', message);
}

function resolveSpec(model: NcaModel, options: EngineOptions): { spec: RunSpec; seed: number; width: number; height: number } {
  const arch = model.architecture;
  try {
    checkArchitecture(arch);
  } catch (error) {
    throw badOption(reasonOf(error));
  }
  const width = options.gridWidth ?? model.metadata.gridWidth;
  const height = options.gridHeight ?? model.metadata.gridHeight;
  for (const [name, value] of [
    ['gridWidth', width],
    ['gridHeight', height],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > MAX_GRID_SIDE) throw badOption(`${name} must be an integer in 1..${MAX_GRID_SIDE}, got ${value}`);
  }
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) throw badOption(`seed must be a uint32, got ${seed}`);
  const rate = options.fireRate ?? arch.fireRate;
  if (!(rate >= 0 && rate <= 1)) throw badOption(`fireRate must be in [0, 1], got ${rate}`);
  const rotation = options.rotation ?? 0;
  if (!Number.isFinite(rotation)) throw badOption(`rotation must be finite, got ${rotation}`);
  const timeout = options.webgpuTimeoutMs ?? DEFAULT_WEBGPU_TIMEOUT_MS;
  if (!(timeout >= 0 && Number.isFinite(timeout))) throw badOption(`webgpuTimeoutMs must be a finite number >= 0, got ${timeout}`);
  const kernels = new Float32Array(arch.kernels.length * 9);
  perceptionKernels(arch, rotation).forEach((k, i) => kernels.set(k, i * 9));
  return { spec: { arch, width, height, kernels, threshold: fireThreshold(rate) }, seed, width, height };
}

/**
 * An engine for `model`, on the backend `options.backend` names or, with 'auto' (the default),
 * the first of the registry that runs here. Rejects with an `NcaEngineError`: 'bad-option' for
 * an option out of range, 'no-backend' (with `skipped`) when nothing runs.
 */
export async function createEngine(model: NcaModel, options: EngineOptions = {}): Promise<NcaEngine> {
  const request: BackendRequest = options.backend ?? 'auto';
  if (request !== 'auto' && !BACKENDS.includes(request)) {
    throw badOption(`backend must be 'auto' or one of ${BACKENDS.join(', ')}, got ${JSON.stringify(request)}`);
  }
  const { spec, seed, width, height } = resolveSpec(model, options);
  const start = (): Float32Array => startState(model, width, height).data;
  const skipped: SkippedBackend[] = [];
  const auto = request === 'auto';
  const deferred: Array<{ backend: BackendName; reason: string }> = [];
  /** Last-resort backends not attempted yet (listed as skipped if an earlier one runs). */
  let notTried: Array<{ backend: BackendName; reason: string }> = [];

  const attempt = async (backend: BackendName, allowSoftware: boolean): Promise<NcaEngine | undefined> => {
    const entry = REGISTRY[backend];
    const known = backend === 'webgl2' || backend === 'webgl' ? glRenderers.get(backend) : undefined;
    if (!allowSoftware && isSoftwareRenderer(known)) {
      deferred.push({ backend, reason: `software renderer (${known}): auto mode prefers webasm and cpu` });
      return undefined;
    }
    const prepared = await entry.prepare(spec, options);
    if ('reason' in prepared) {
      skipped.push({ backend, reason: prepared.reason });
      return undefined;
    }
    if (!allowSoftware && prepared.software) {
      releaseIfUnused(prepared.shared);
      deferred.push({ backend, reason: `software renderer (${prepared.renderer ?? 'unknown'}): auto mode prefers webasm and cpu` });
      return undefined;
    }
    let driver: Driver | undefined;
    try {
      const fault = faults.get(backend);
      if (fault !== undefined) throw new Error(fault);
      driver = entry.driver(prepared.shared, spec, options);
      await driver.init(start(), fireKey(seed, 0));
    } catch (error) {
      try {
        driver?.dispose();
      } catch {
        // A half-built driver may not free cleanly; the shared instance below still goes.
      }
      releaseIfUnused(prepared.shared);
      skipped.push({ backend, reason: `failed to compile or run: ${reasonOf(error)}` });
      return undefined;
    }
    const ruledOut = [...deferred, ...notTried.filter((d) => d.backend !== backend)];
    const selection = { chosen: backend, skipped: [...skipped, ...ruledOut], ...(prepared.renderer ? { renderer: prepared.renderer } : {}) };
    return new GpuNcaEngine({
      model,
      selection,
      shared: prepared.shared,
      driver,
      width,
      height,
      seed,
      start,
      fromImage: (rgba, w, h) => stateFromImage(spec.arch, width, height, rgba, w, h).data,
    });
  };

  for (const backend of auto ? BACKENDS : [request]) {
    const engine = await attempt(backend, !auto);
    if (engine) return engine;
  }
  // Last resort in auto mode: the software GPU backends set aside above, GL first (gpu.js's GL
  // path is the proven one on software rasterisers; WebGPU there has lost its device drawing).
  const lastResort: readonly BackendName[] = ['webgl2', 'webgl', 'webgpu'];
  const setAside = deferred.splice(0).sort((a, b) => lastResort.indexOf(a.backend) - lastResort.indexOf(b.backend));
  notTried = setAside;
  for (const { backend } of setAside) {
    const engine = await attempt(backend, true);
    notTried = notTried.filter((d) => d.backend !== backend);
    if (engine) return engine;
  }
  const summary = skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
  throw new NcaEngineError('no-backend', `no backend can run this model here (${summary})`, skipped);
}
