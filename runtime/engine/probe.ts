/**
 * What this page allows, found out up front so backend selection can skip a backend with a
 * reason instead of failing inside gpu.js: eval and WebAssembly under the page's
 * Content-Security-Policy, a WebGPU adapter (with a timeout: `requestAdapter()` may never
 * settle), a WebGL context with float render targets, and whether a renderer is software.
 */

/** Renderer strings of software rasterisers (SwiftShader, Mesa llvmpipe/softpipe/lavapipe, WARP). */
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|lavapipe|software|basic render|warp/i;

export function isSoftwareRenderer(renderer: string | undefined): boolean {
  return renderer !== undefined && SOFTWARE_RENDERER.test(renderer);
}

/** Why something this page needs is not there: a readable reason and, if one was thrown, the error. */
export interface Blocked {
  readonly reason: string;
  readonly cause?: unknown;
}

/**
 * Why `new Function` is unusable here (the cpu backend builds kernels with it), or undefined.
 * A CSP `script-src` without 'unsafe-eval' makes it throw an EvalError.
 */
export function evalBlocked(): Blocked | undefined {
  try {
    const probe = new Function('return 1') as () => number;
    return probe() === 1 ? undefined : { reason: 'new Function() does not run' };
  } catch (error) {
    return { reason: `eval is blocked (a Content-Security-Policy without 'unsafe-eval'): ${error instanceof Error ? error.message : String(error)}`, cause: error };
  }
}

/** The smallest valid module: magic and version. */
const EMPTY_WASM_MODULE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

/**
 * Why WebAssembly cannot be compiled here, or undefined. Under a CSP without
 * 'wasm-unsafe-eval' (or 'unsafe-eval') `WebAssembly.compile` rejects even an empty module,
 * while `WebAssembly.validate` still answers true, so this compiles one.
 */
export async function wasmBlocked(): Promise<Blocked | undefined> {
  if (typeof WebAssembly !== 'object' || WebAssembly === null) return { reason: 'WebAssembly is not available' };
  try {
    await WebAssembly.compile(EMPTY_WASM_MODULE);
    return undefined;
  } catch (error) {
    return { reason: `WebAssembly compilation is blocked (a Content-Security-Policy without 'wasm-unsafe-eval'): ${error instanceof Error ? error.message : String(error)}`, cause: error };
  }
}

interface GpuAdapterInfoLike {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
}

interface GpuAdapterLike {
  readonly info?: GpuAdapterInfoLike;
  readonly isFallbackAdapter?: boolean;
  readonly limits?: { readonly maxStorageBufferBindingSize?: number };
  requestAdapterInfo?(): Promise<GpuAdapterInfoLike>;
}

interface NavigatorWithGpu {
  readonly gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> };
}

export type WebGpuProbe =
  | { readonly ok: true; readonly renderer: string; readonly software: boolean; readonly maxBufferBytes: number }
  | ({ readonly ok: false } & Blocked);

const TIMED_OUT = Symbol('timed out');

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(TIMED_OUT), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/**
 * Asks for a WebGPU adapter, giving up after `timeoutMs` (a `requestAdapter()` that never settles
 * must not hang engine creation). The answer is cached for the page: gpu.js asks for its own
 * adapter afterwards, and a second probe would only repeat the wait.
 */
let webGpuProbe: Promise<WebGpuProbe> | undefined;
export function probeWebGpu(timeoutMs: number): Promise<WebGpuProbe> {
  webGpuProbe ??= (async (): Promise<WebGpuProbe> => {
    const gpu = typeof navigator === 'undefined' ? undefined : (navigator as NavigatorWithGpu).gpu;
    if (!gpu) return { ok: false, reason: 'navigator.gpu is missing (no WebGPU in this environment)' };
    let adapter: GpuAdapterLike | null | typeof TIMED_OUT;
    try {
      adapter = await withTimeout(gpu.requestAdapter(), timeoutMs);
    } catch (error) {
      return { ok: false, reason: `requestAdapter() failed: ${error instanceof Error ? error.message : String(error)}`, cause: error };
    }
    if (adapter === TIMED_OUT) return { ok: false, reason: `requestAdapter() did not answer within ${timeoutMs} ms` };
    if (adapter === null) return { ok: false, reason: 'requestAdapter() returned null (no WebGPU adapter)' };
    let info: GpuAdapterInfoLike = adapter.info ?? {};
    if (!adapter.info && adapter.requestAdapterInfo) {
      // Older browsers: adapter.info did not exist yet.
      const answer = await withTimeout(adapter.requestAdapterInfo(), timeoutMs).catch(() => TIMED_OUT);
      if (answer !== TIMED_OUT) info = answer;
    }
    const renderer = [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' ') || 'unknown adapter';
    return {
      ok: true,
      renderer,
      software: adapter.isFallbackAdapter === true || isSoftwareRenderer(renderer),
      maxBufferBytes: adapter.limits?.maxStorageBufferBindingSize ?? 128 * 1024 * 1024,
    };
  })();
  const probe = webGpuProbe;
  // A failed probe is not final: a later engine may try again (a timeout, a lost device).
  void probe.then((result) => {
    if (!result.ok && webGpuProbe === probe) webGpuProbe = undefined;
  });
  return probe;
}

export type GlKind = 'webgl2' | 'webgl';
export type GlContext = WebGL2RenderingContext | WebGLRenderingContext;
export type GlCanvas = HTMLCanvasElement | OffscreenCanvas;

export type GlProbe =
  | {
      readonly ok: true;
      readonly canvas: GlCanvas;
      readonly context: GlContext;
      readonly renderer: string;
      readonly software: boolean;
      readonly maxTextureSize: number;
    }
  | ({ readonly ok: false } & Blocked);

function createCanvas(): GlCanvas | undefined {
  if (typeof document !== 'undefined') return document.createElement('canvas');
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(1, 1);
  return undefined;
}

function rendererOf(gl: GlContext): string {
  const plain = gl.getParameter(gl.RENDERER) as unknown;
  // Browsers that mask RENDERER answer a generic "WebKit WebGL"; the debug extension unmasks.
  if (typeof plain === 'string' && plain !== '' && !/^WebKit WebGL$/i.test(plain)) return plain;
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const unmasked = debug ? (gl.getParameter(debug.UNMASKED_RENDERER_WEBGL) as unknown) : undefined;
  return typeof unmasked === 'string' && unmasked !== '' ? unmasked : String(plain);
}

/**
 * A fresh WebGL context of `kind` for gpu.js, with alpha (so rendered cells keep it) and no
 * premultiplication (gpu.js writes straight colours), or why there is none.
 */
export function createGlContext(kind: GlKind): GlProbe {
  const canvas = createCanvas();
  if (!canvas) return { ok: false, reason: 'no canvas (not a browser or worker)' };
  const attributes: WebGLContextAttributes = {
    alpha: true,
    premultipliedAlpha: false,
    depth: false,
    stencil: false,
    antialias: false,
    preserveDrawingBuffer: false,
  };
  let context: GlContext | null = null;
  try {
    context = canvas.getContext(kind, attributes) as GlContext | null;
  } catch (error) {
    return { ok: false, reason: `getContext('${kind}') threw: ${error instanceof Error ? error.message : String(error)}`, cause: error };
  }
  if (!context) return { ok: false, reason: `getContext('${kind}') returned null (${kind} unavailable or disabled)` };
  if (context.isContextLost()) return { ok: false, reason: `the new ${kind} context is already lost` };
  const floatExtension = kind === 'webgl2' ? 'EXT_color_buffer_float' : 'OES_texture_float';
  if (!context.getExtension(floatExtension)) {
    context.getExtension('WEBGL_lose_context')?.loseContext();
    return { ok: false, reason: `${kind} has no float textures (${floatExtension} missing)` };
  }
  const renderer = rendererOf(context);
  return {
    ok: true,
    canvas,
    context,
    renderer,
    software: isSoftwareRenderer(renderer),
    maxTextureSize: context.getParameter(context.MAX_TEXTURE_SIZE) as number,
  };
}
