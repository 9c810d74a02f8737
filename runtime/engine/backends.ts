/**
 * The built-in backends: how each finds out cheaply whether it can run here (prepare) and which
 * driver runs it. registry.ts starts with these registered.
 */
import { GPU } from 'gpu.js';
import type { BackendEntry, RegisteredBackend } from './backend-entry.js';
import { DeviceDriver } from './device-driver.js';
import { CpuDriver } from './host-driver.js';
import { largestBuffer, MAX_BUFFER_ELEMENTS } from './kernels/scalar.js';
import { evalBlocked, isSoftwareRenderer, probeWebGpu, wasmBlocked, type GlKind } from './probe.js';
import { SharedGpu, sharedGlInstance, sharedInstance } from './shared.js';
import type { BackendName } from './types.js';
import { ThreadSlots, WasmDriver } from './wasm-driver.js';

/** Every backend the engine can run on, in auto mode's order. */
export const BACKENDS: readonly BackendName[] = ['webgpu', 'webgl2', 'webgl', 'webasm', 'cpu'];
export const DEFAULT_WEBGPU_TIMEOUT_MS = 1500;
/** webasm worker pools are per engine (one worker per core each): at most this many at once. */
const threadSlots = new ThreadSlots(2);
const THREADS_MIN_CELLS = 64 * 64;

/** Renderer strings of GL kinds seen on this page, so a software GL is recognised without a context. */
const glRenderers = new Map<GlKind, string>();

/** The renderer a GL backend reported earlier on this page (undefined for the others). */
export function knownRenderer(backend: BackendName): string | undefined {
  return backend === 'webgl2' || backend === 'webgl' ? glRenderers.get(backend) : undefined;
}

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
        shared.releaseIfUnused();
        return Promise.resolve({ reason: `grid too large for ${kind}: needs a ${side}x${side} texture, the limit is ${shared.maxTextureSize}` });
      }
      return Promise.resolve({ shared, renderer: shared.renderer ?? '', software: isSoftwareRenderer(shared.renderer) });
    },
    driver: (shared, spec) => new DeviceDriver(shared, spec, { unrollLimit: 0, skipIdleCells: true, vec4: true }),
  };
}

const webgpu: BackendEntry = {
  async prepare(spec, options) {
    const probe = await probeWebGpu(options.webgpuTimeoutMs ?? DEFAULT_WEBGPU_TIMEOUT_MS);
    if (!probe.ok) return probe;
    const bytes = largestBuffer(spec.arch, spec.width, spec.height) * 4;
    if (bytes > probe.maxBufferBytes) return { reason: `grid too large for webgpu: a ${bytes}-byte buffer exceeds the adapter's ${probe.maxBufferBytes}` };
    return { shared: sharedInstance('webgpu'), renderer: probe.renderer, software: probe.software };
  },
  driver: (shared, spec) => new DeviceDriver(shared, spec, { unrollLimit: 256, skipIdleCells: true, vec4: false }),
};

const webasm: BackendEntry = {
  async prepare() {
    const blocked = await wasmBlocked();
    if (blocked) return blocked;
    if (!GPU.isWebAssemblySupported) return { reason: 'gpu.js reports no WebAssembly support' };
    return { shared: sharedInstance('webasm'), software: false };
  },
  driver(shared, spec, options) {
    const available = typeof SharedArrayBuffer !== 'undefined' && (typeof crossOriginIsolated === 'undefined' || crossOriginIsolated);
    const wanted = options.threads ?? (spec.width * spec.height >= THREADS_MIN_CELLS && threadSlots.available);
    return new WasmDriver(shared, spec, { unrollLimit: 256, skipIdleCells: true, threads: available && wanted }, threadSlots);
  },
};

const cpu: BackendEntry = {
  prepare() {
    const blocked = evalBlocked();
    if (blocked) return Promise.resolve(blocked);
    return Promise.resolve({ shared: sharedInstance('cpu'), software: false });
  },
  driver: (shared, spec) => new CpuDriver(shared, spec, { unrollLimit: 256, skipIdleCells: true }),
};

export const BUILT_IN_BACKENDS: readonly RegisteredBackend[] = [
  { name: 'webgpu', entry: webgpu, priority: 50 },
  { name: 'webgl2', entry: glEntry('webgl2'), priority: 40 },
  { name: 'webgl', entry: glEntry('webgl'), priority: 30 },
  { name: 'webasm', entry: webasm, priority: 20 },
  { name: 'cpu', entry: cpu, priority: 10 },
];
