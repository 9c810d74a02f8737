/**
 * What the engine asks of a backend's driver, and the run it is built for. Three drivers:
 *
 * - DeviceDriver (webgl2, webgl, webgpu; device-driver.ts): the state stays on the device.
 * - CpuDriver (cpu; host-driver.ts): the state is a Float32Array, a step a chain of cpu kernels.
 * - WasmDriver (webasm; wasm-driver.ts): the state is a Float32Array, a step one fused gpu.js
 *   pipeline that stays in wasm memory (and, with threads, in the worker pool).
 */
import type { Architecture } from '../format/types.js';
import type { BackendName } from './types.js';

export type MaybePromise<T> = T | Promise<T>;

/** Everything a driver needs to know about the run (resolved options). */
export interface RunSpec {
  readonly arch: Architecture;
  readonly width: number;
  readonly height: number;
  /** Rotated perception kernels, K x 9 floats. */
  readonly kernels: Float32Array;
  /** Integer fire threshold T of NCA-Hash-4091. */
  readonly threshold: number;
}

export interface Driver {
  readonly backend: BackendName;
  /** Builds the kernels, loads `initial` and proves a step runs (the result is discarded). */
  init(initial: Float32Array, key: number): Promise<void>;
  load(state: Float32Array): MaybePromise<void>;
  step(key: number): MaybePromise<void>;
  damage(cx: number, cy: number, radius: number): MaybePromise<void>;
  plant(x: number, y: number): MaybePromise<void>;
  read(): Promise<Float32Array>;
  render(canvas: HTMLCanvasElement | OffscreenCanvas): void;
  /** After a context restore: drop every kernel of the old context and build them anew. */
  rebuild(): void;
  dispose(): void;
}

type Canvas2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
const contexts2d = new WeakMap<HTMLCanvasElement | OffscreenCanvas, Canvas2D>();

/** The canvas's 2D context, sized to one pixel per cell. */
export function context2d(canvas: HTMLCanvasElement | OffscreenCanvas, width: number, height: number): Canvas2D {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  let ctx = contexts2d.get(canvas);
  if (!ctx) {
    const created = canvas.getContext('2d') as Canvas2D | null;
    if (!created) throw new Error('render: the canvas has no 2D context (it already holds another kind of context)');
    ctx = created;
    contexts2d.set(canvas, ctx);
  }
  return ctx;
}
