/**
 * The backend registry, in onnxruntime-web's shape (`registerBackend(name, backend, priority)`,
 * `js/common/lib/backend-impl.ts`): auto selection tries the registered backends from the highest
 * priority down, and a named request uses the entry registered under that name.
 *
 * The five built-in backends start registered (backends.ts). Registering a name again replaces
 * its entry and priority; onnxruntime-web instead ignores a lower priority and refuses an equal
 * one, which leaves no way to put a replaced backend back (a test's faulty backend, an
 * instrumented one in a diagnostics page).
 */
import type { BackendEntry, RegisteredBackend } from './backend-entry.js';
import { BUILT_IN_BACKENDS, BACKENDS } from './backends.js';
import type { BackendName } from './types.js';

const registry = new Map<BackendName, RegisteredBackend>(BUILT_IN_BACKENDS.map((b) => [b.name, b]));

/**
 * Registers `entry` as backend `name`, tried in auto mode before every backend of a lower
 * priority (built-ins: webgpu 50, webgl2 40, webgl 30, webasm 20, cpu 10; equal priorities keep
 * their first registration's order). Replaces an earlier registration of the name.
 */
export function registerBackend(name: BackendName, entry: BackendEntry, priority: number): void {
  if (!BACKENDS.includes(name)) throw new TypeError(`registerBackend: ${JSON.stringify(name)} is not one of ${BACKENDS.join(', ')}`);
  if (typeof entry?.prepare !== 'function' || typeof entry.driver !== 'function') {
    throw new TypeError(`registerBackend: the entry for ${name} needs prepare() and driver()`);
  }
  if (!Number.isFinite(priority)) throw new TypeError(`registerBackend: priority must be a finite number, got ${priority}`);
  registry.set(name, { name, entry, priority });
}

/** Every registered backend, highest priority first (auto mode's order). */
export function registeredBackends(): readonly RegisteredBackend[] {
  return [...registry.values()].sort((a, b) => b.priority - a.priority);
}

/** The entry registered as `name`. */
export function backendEntry(name: BackendName): BackendEntry {
  const registered = registry.get(name);
  if (registered === undefined) throw new Error(`no backend registered as ${name}`);
  return registered.entry;
}
