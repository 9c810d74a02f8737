/**
 * Backend selection, as onnxruntime-web resolves execution providers: the registry (registry.ts)
 * tried in order, the first that prepares and then compiles and runs a step wins, and every other
 * one is kept with its stage and reason as data (`selection.skipped`).
 *
 * Auto order: by priority, built-ins webgpu, webgl2, webgl, webasm, cpu. A software rasteriser (SwiftShader, llvmpipe:
 * what a browser uses without a GPU) runs gpu.js's GL and WebGPU kernels several times slower
 * than webasm on the same cores, so in auto mode a software GPU backend moves behind webasm and
 * cpu; it is still tried last, since under a strict CSP it may be the only one allowed.
 */
import { MAX_GRID_SIDE } from '../format/constants.js';
import type { NcaModel } from '../format/types.js';
import { MAX_SEED, checkArchitecture, fireKey, fireThreshold, perceptionKernels, startState, stateFromImage } from '../reference/index.js';
import { BACKENDS, DEFAULT_WEBGPU_TIMEOUT_MS, knownRenderer } from './backends.js';
import { checkBudget } from './budget.js';
import type { Driver, RunSpec } from './driver.js';
import { GpuNcaEngine } from './engine.js';
import { NcaEngineError, reasonOf } from './errors.js';
import { isSoftwareRenderer } from './probe.js';
import { backendEntry, registeredBackends } from './registry.js';
import type { BackendName, BackendRequest, EngineOptions, NcaEngine, SkippedBackend } from './types.js';

export { BACKENDS };

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
  // Before any backend prepares or allocates: webasm and cpu have no limit of their own.
  checkBudget(arch, width, height);
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
 * an option out of range, 'too-large' for a grid and model over the memory budget (budget.ts),
 * 'no-backend' (with `skipped`) when nothing runs.
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
  /** Software GPU backends set aside in auto mode, tried last. */
  const deferred: SkippedBackend[] = [];
  /** Last-resort backends not attempted yet (listed as skipped if an earlier one runs). */
  let notTried: SkippedBackend[] = [];
  const setAside = (backend: BackendName, renderer: string): SkippedBackend => ({
    backend,
    stage: 'software-renderer',
    reason: `software renderer (${renderer}): auto mode prefers webasm and cpu`,
  });

  const attempt = async (backend: BackendName, allowSoftware: boolean): Promise<NcaEngine | undefined> => {
    const entry = backendEntry(backend);
    const known = knownRenderer(backend);
    if (!allowSoftware && isSoftwareRenderer(known)) {
      deferred.push(setAside(backend, known ?? 'unknown'));
      return undefined;
    }
    const prepared = await entry.prepare(spec, options);
    if ('reason' in prepared) {
      skipped.push({ backend, stage: 'unavailable', reason: prepared.reason, ...(prepared.cause === undefined ? {} : { cause: prepared.cause }) });
      return undefined;
    }
    if (!allowSoftware && prepared.software) {
      prepared.shared.releaseIfUnused();
      deferred.push(setAside(backend, prepared.renderer ?? 'unknown'));
      return undefined;
    }
    let driver: Driver | undefined;
    try {
      driver = entry.driver(prepared.shared, spec, options);
      await driver.init(start(), fireKey(seed, 0));
    } catch (error) {
      try {
        driver?.dispose();
      } catch {
        // A half-built driver may not free cleanly; the shared instance below still goes.
      }
      prepared.shared.releaseIfUnused();
      skipped.push({ backend, stage: 'failed', reason: `failed to compile or run: ${reasonOf(error)}`, cause: error });
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

  for (const backend of auto ? registeredBackends().map((b) => b.name) : [request]) {
    const engine = await attempt(backend, !auto);
    if (engine) return engine;
  }
  // Last resort in auto mode: the software GPU backends set aside above, GL first (gpu.js's GL
  // path is the proven one on software rasterisers; WebGPU there has lost its device drawing).
  const lastResort: readonly BackendName[] = ['webgl2', 'webgl', 'webgpu'];
  const lastTries = deferred.splice(0).sort((a, b) => lastResort.indexOf(a.backend) - lastResort.indexOf(b.backend));
  notTried = lastTries;
  for (const { backend } of lastTries) {
    const engine = await attempt(backend, true);
    notTried = notTried.filter((d) => d.backend !== backend);
    if (engine) return engine;
  }
  const summary = skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
  throw new NcaEngineError('no-backend', `no backend can run this model here (${summary})`, skipped);
}
