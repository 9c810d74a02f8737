/**
 * WebGPU device loss. gpu.js shares one `GPUDevice` between every webgpu kernel of the page
 * (its `WebGPUContext.acquire()`), and only flags it lost for its own kernels; the engines would
 * go on resolving operations over dead buffers. SharedGpu watches `device.lost` and maps a loss to
 * the WebGL path: every engine pauses (`context-lost`), then rebuilds on a fresh device
 * (`context-restored`), or reports `error` when that fails.
 */
import * as gpujs from 'gpu.js';

/** What of a `GPUDeviceLostInfo` is read. */
export interface DeviceLostInfo {
  readonly reason?: string;
  readonly message?: string;
}

/** What of a `GPUDevice` is read: its `lost` promise, which resolves once, when the device is gone. */
export interface LosableDevice {
  readonly lost: Promise<DeviceLostInfo>;
}

interface WebGpuContextClass {
  acquire(): Promise<{ readonly device: LosableDevice }>;
}

/**
 * gpu.js's shared WebGPU device (the one its kernels use; after a loss a new one), or undefined
 * where gpu.js exposes none. gpu.js's typings omit `WebGPUContext`, hence the narrow cast.
 */
export function acquireWebGpuDevice(): Promise<LosableDevice> | undefined {
  const context = (gpujs as unknown as { WebGPUContext?: WebGpuContextClass }).WebGPUContext;
  if (context === undefined) return undefined;
  return context.acquire().then((c) => c.device);
}

/** How many device losses an instance rebuilds after; the next fails its engines (a device that keeps dying). */
export const MAX_DEVICE_RESTORES = 3;
