/**
 * The gpu.js engine: runs a decoded `.nca` model on webgpu, webgl2, webgl, webasm or cpu, with
 * the state kept on the device. See docs/runtime.md.
 */
export type * from './types.js';
export { BACKENDS, createEngine } from './select.js';
export { MAX_ENGINE_BUFFER_VALUES } from './budget.js';
export { registerBackend, registeredBackends } from './registry.js';
export type { BackendEntry, PreparedBackend, RegisteredBackend, UnavailableBackend } from './backend-entry.js';
export type { Driver, MaybePromise, RunSpec } from './driver.js';
export type { SharedGpu } from './shared.js';
export { NCA_ENGINE_ERROR_CODES, NcaEngineError, isNcaEngineError, type NcaEngineErrorCode } from './errors.js';
