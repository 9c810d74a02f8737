/**
 * Backend selection: reasons kept as data, fallback when a backend fails to compile, a WebGPU
 * `requestAdapter()` that never answers (timeout) or answers null, a named backend that cannot
 * run, and nothing that can run at all (RELIABILITY 16).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { createEngine, isNcaEngineError, NcaEngineError, registerBackend, registeredBackends } from '../../runtime/engine/index.js';
import { createArchitecture, createModel } from '../../runtime/format/index.js';
import { failBackend } from '../fixtures/backend-faults.js';

const model = createModel(createArchitecture({ rule: 'essay', hidden: 8 }), { gridWidth: 12, gridHeight: 10 });

type GlobalWithNavigator = { navigator?: unknown };

/** Installs a fake `navigator.gpu` for one test (Node has none); undone in afterEach. */
function fakeWebGpu(requestAdapter: () => Promise<unknown>): void {
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: { requestAdapter } }, configurable: true, writable: true });
}

/** Undoes the faulty backends a test registered. */
const undo: Array<() => void> = [];

const originalNavigator = Object.getOwnPropertyDescriptor(globalThis, 'navigator');

afterEach(() => {
  for (const restore of undo.splice(0)) restore();
  if (originalNavigator) Object.defineProperty(globalThis, 'navigator', originalNavigator);
  else delete (globalThis as GlobalWithNavigator).navigator;
});

describe('backend selection', () => {
  it('auto in Node: the GPU backends are skipped with their reasons, as data', async () => {
    const engine = await createEngine(model);
    try {
      assert.equal(engine.selection.chosen, 'webasm');
      assert.equal(engine.backend, 'webasm');
      assert.deepEqual(
        engine.selection.skipped.map((s) => s.backend),
        ['webgpu', 'webgl2', 'webgl'],
      );
      for (const skipped of engine.selection.skipped) {
        assert.equal(typeof skipped.reason, 'string');
        assert.ok(skipped.reason.length > 10 && !skipped.reason.includes('[object'), skipped.reason);
      }
      assert.match(engine.selection.skipped[0]!.reason, /navigator\.gpu/);
    } finally {
      engine.dispose();
    }
  });

  it('falls back to the next backend when one fails to compile, keeping the reason', async () => {
    undo.push(failBackend('webasm', 'simulated shader compile error'));
    const engine = await createEngine(model);
    try {
      assert.equal(engine.backend, 'cpu');
      const webasm = engine.selection.skipped.find((s) => s.backend === 'webasm');
      assert.ok(webasm, 'webasm is listed as skipped');
      assert.equal(webasm.stage, 'failed');
      assert.ok(webasm.cause instanceof Error && webasm.cause.message === 'simulated shader compile error', 'the cause is what was thrown');
      assert.match(webasm.reason, /failed to compile or run: simulated shader compile error/);
    } finally {
      engine.dispose();
    }
  });

  it('the registry: a higher priority goes first in auto mode, and a registration can be undone', async () => {
    const cpu = registeredBackends().find((b) => b.name === 'cpu')!;
    assert.deepEqual(
      registeredBackends().map((b) => b.name),
      ['webgpu', 'webgl2', 'webgl', 'webasm', 'cpu'],
    );
    registerBackend('cpu', cpu.entry, 25);
    undo.push(() => registerBackend('cpu', cpu.entry, cpu.priority));
    const engine = await createEngine(model);
    try {
      assert.equal(engine.backend, 'cpu');
      assert.deepEqual(
        engine.selection.skipped.map((s) => [s.backend, s.stage]),
        [
          ['webgpu', 'unavailable'],
          ['webgl2', 'unavailable'],
          ['webgl', 'unavailable'],
        ],
      );
    } finally {
      engine.dispose();
    }
    assert.throws(() => registerBackend('metal' as 'cpu', cpu.entry, 1), TypeError);
    assert.throws(() => registerBackend('cpu', {} as typeof cpu.entry, 1), TypeError);
    assert.throws(() => registerBackend('cpu', cpu.entry, Number.NaN), TypeError);
  });

  it('a requestAdapter() that never settles times out and falls back', async () => {
    fakeWebGpu(() => new Promise(() => undefined));
    const started = performance.now();
    const engine = await createEngine(model, { webgpuTimeoutMs: 150 });
    try {
      const elapsed = performance.now() - started;
      assert.equal(engine.backend, 'webasm');
      const webgpu = engine.selection.skipped.find((s) => s.backend === 'webgpu');
      assert.match(webgpu?.reason ?? '', /did not answer within 150 ms/);
      assert.ok(elapsed < 5000, `fell back after ${elapsed.toFixed(0)} ms`);
    } finally {
      engine.dispose();
    }
  });

  it('a null adapter is a reason, not an error', async () => {
    fakeWebGpu(() => Promise.resolve(null));
    const engine = await createEngine(model);
    try {
      assert.match(engine.selection.skipped.find((s) => s.backend === 'webgpu')?.reason ?? '', /returned null/);
    } finally {
      engine.dispose();
    }
  });

  it('a named backend that cannot run rejects with no-backend and its reason', async () => {
    await assert.rejects(createEngine(model, { backend: 'webgl2' }), (error: unknown) => {
      assert.ok(isNcaEngineError(error));
      assert.equal(error.code, 'no-backend');
      assert.deepEqual(
        error.skipped.map((s) => s.backend),
        ['webgl2'],
      );
      assert.match(error.message, /webgl2: no canvas/);
      return true;
    });
  });

  it('nothing runs: no-backend lists every backend with its reason', async () => {
    undo.push(failBackend('webasm', 'webasm is out'), failBackend('cpu', 'cpu is out'));
    await assert.rejects(createEngine(model), (error: unknown) => {
      assert.ok(error instanceof NcaEngineError);
      assert.equal(error.code, 'no-backend');
      assert.deepEqual(
        error.skipped.map((s) => s.backend),
        ['webgpu', 'webgl2', 'webgl', 'webasm', 'cpu'],
      );
      assert.match(error.skipped[4]!.reason, /cpu is out/);
      return true;
    });
  });
});
