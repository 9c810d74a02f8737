/**
 * The runtime test page's script (bundled by rollup.test.config.mjs into ./dist/harness.js).
 * It instruments WebGL before anything creates a context (texture counts per context, the
 * contexts themselves, so a test can lose one) and exposes the runtime on `window.nca`, so
 * specs drive engines with page.evaluate.
 */
import { GPU, Input } from 'gpu.js';
import * as runtime from '../../../../runtime/index.js';
import * as bench from '../../../bench/runtime-measure.js';
import { liveSharedInstances } from '../../../../runtime/engine/shared.js';
import { importDistillModel } from '../../../../trainer/import/distill.js';
import { failBackend } from '../../../fixtures/backend-faults.js';

type GL = WebGLRenderingContext | WebGL2RenderingContext;

/** Live textures per context: created and not deleted. */
const liveTextures = new Map<GL, Set<WebGLTexture>>();
const contexts: GL[] = [];

for (const proto of [WebGLRenderingContext.prototype, WebGL2RenderingContext.prototype] as GL[]) {
  const create = proto.createTexture;
  const remove = proto.deleteTexture;
  proto.createTexture = function (this: GL): WebGLTexture {
    const texture = create.call(this);
    let live = liveTextures.get(this);
    if (!live) liveTextures.set(this, (live = new Set()));
    live.add(texture);
    return texture;
  };
  proto.deleteTexture = function (this: GL, texture: WebGLTexture | null): void {
    if (texture) liveTextures.get(this)?.delete(texture);
    remove.call(this, texture);
  };
}

function recordContexts<T extends { getContext: (...args: never[]) => unknown }>(proto: T): void {
  const original = proto.getContext as (this: unknown, ...args: unknown[]) => unknown;
  (proto as { getContext: unknown }).getContext = function (this: unknown, ...args: unknown[]): unknown {
    const context = original.apply(this, args);
    if ((args[0] === 'webgl2' || args[0] === 'webgl') && context && !contexts.includes(context as GL)) contexts.push(context as GL);
    return context;
  };
}
recordContexts(HTMLCanvasElement.prototype);
if (typeof OffscreenCanvas !== 'undefined') recordContexts(OffscreenCanvas.prototype);

/** A uniform [0, 1) generator with a fixed seed (LCG), so models and states repeat exactly. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The shared GL context of a backend, if one is live. */
function sharedContext(backend: 'webgl2' | 'webgl'): GL | undefined {
  return liveSharedInstances().get(backend)?.context;
}

const api = {
  ...runtime,
  /** Step timing for test/bench/runtime-browser.bench.ts. */
  bench,
  /** Makes a backend fail to compile through the public registry; returns the undo. */
  failBackend,
  /** gpu.js itself, for formulation experiments on the page. */
  gpujs: { GPU, Input },
  seeded,
  sharedContext,
  /** Live texture count of a context (0 for an unknown one). */
  liveTextures: (context: GL | undefined): number => (context ? (liveTextures.get(context)?.size ?? 0) : 0),
  contexts: (): readonly GL[] => contexts,
  /**
   * A random model of a rule family, every layer random (Glorot), so steps change the state.
   * Distill's residual update with a full-size random last layer grows without bound (values of
   * 1e4 after 50 steps, where float32 rounding differences are chaos, not error), so its last
   * layer is scaled by 0.1, a stable random model.
   */
  randomModel(rule: 'essay' | 'distill', hidden: number, seed: number, width: number, height: number) {
    const arch = runtime.createArchitecture({ rule, hidden, init: 'random', random: seeded(seed) });
    if (rule === 'distill') for (const layer of arch.layers.slice(-1)) layer.weights.forEach((w, i, all) => (all[i] = w * 0.1));
    return runtime.createModel(arch, { gridWidth: width, gridHeight: height });
  },
  /**
   * An architecture off the presets' beaten path: kernel-major perception, two hidden layers of
   * widths that are not multiples of 4 (30, 10: the GL vec4 formulation pads them), tanh and
   * relu, sigmoid out, replace, per-element fire, max-pool alive.
   */
  oddModel(seed: number, width: number, height: number) {
    const random = seeded(seed);
    const dense = (inputs: number, outputs: number, activation: runtime.Activation, scale: number): runtime.DenseLayer => ({
      inputs,
      outputs,
      activation,
      weights: Float32Array.from({ length: inputs * outputs }, () => (random() * 2 - 1) * scale),
      bias: Float32Array.from({ length: outputs }, () => (random() * 2 - 1) * 0.1),
      weightDType: 'f32',
      biasDType: 'f32',
    });
    const arch: runtime.Architecture = {
      channels: 16,
      alphaChannel: 3,
      kernels: runtime.distillKernels(),
      perceptionOrder: 'kernel-major',
      layers: [dense(48, 30, 'tanh', 0.4), dense(30, 10, 'relu', 0.4), dense(10, 16, 'sigmoid', 0.6)],
      update: 'replace',
      fireRate: 0.6,
      fireGranularity: 'element',
      aliveThreshold: 0.1,
      aliveMode: 'max-pool',
    };
    return runtime.createModel(arch, { gridWidth: width, gridHeight: height });
  },
  /**
   * A trained model: the Distill article's regenerating lizard (the JSON text of
   * test/fixtures/distill/ex3_1f98e.json, CC-BY 4.0), imported and stored in int8 as a page loads
   * it, on a width x height grid.
   */
  distillLizard(text: string, width: number, height: number) {
    const stored = runtime.decodeModel(runtime.encodeModel(importDistillModel(text, { fileName: 'ex3_1f98e.json' }).model));
    return runtime.createModel(stored.architecture, { ...stored.metadata, gridWidth: width, gridHeight: height });
  },
  /** A random state: every channel uniform in [-0.1, 1.1) (so some cells are dead). */
  randomState(width: number, height: number, channels: number, seed: number): runtime.CaState {
    const random = seeded(seed);
    return { width, height, channels, data: Float32Array.from({ length: width * height * channels }, () => random() * 1.2 - 0.1) };
  },
  /** Largest |a - b| and how many elements differ by more than `tolerance`. */
  compare(a: Float32Array, b: Float32Array, tolerance: number): { maxDiff: number; over: number; length: number } {
    let maxDiff = 0;
    let over = 0;
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i]! - b[i]!);
      if (!(d <= tolerance)) over++;
      if (d > maxDiff || Number.isNaN(d)) maxDiff = Number.isNaN(d) ? Infinity : d;
    }
    return { maxDiff, over, length: a.length };
  },
};

declare global {
  interface Window {
    nca: typeof api;
  }
}

window.nca = api;
document.documentElement.dataset['ready'] = 'true';
