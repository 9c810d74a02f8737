/**
 * One memory budget for every backend, checked before anything is allocated (issue 12, item 2):
 * webasm and cpu have no texture or adapter limit, so without it a decodable model asking for a
 * 1024x1024 grid with 1024-wide layers would allocate 2^30 floats per buffer.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { BACKENDS, createEngine, isNcaEngineError, MAX_ENGINE_BUFFER_VALUES, registerBackend, registeredBackends, type BackendName } from '../../runtime/engine/index.js';
import { createArchitecture, createModel } from '../../runtime/format/index.js';

const undo: Array<() => void> = [];
afterEach(() => {
  for (const restore of undo.splice(0)) restore();
});

/** Replaces every backend by one that records a prepare (an allocation would follow it). */
function watchPrepares(): BackendName[] {
  const prepared: BackendName[] = [];
  for (const { name, entry, priority } of registeredBackends()) {
    registerBackend(
      name,
      {
        prepare: () => {
          prepared.push(name);
          return Promise.resolve({ reason: 'test: preparing is not allowed here' });
        },
        driver: () => {
          throw new Error('test: no driver');
        },
      },
      priority,
    );
    undo.push(() => registerBackend(name, entry, priority));
  }
  return prepared;
}

// The format's largest layer and grid: a decodable model (4 MB of parameters at most).
const wide = createModel(createArchitecture({ rule: 'essay', hidden: 1024 }), { gridWidth: 1024, gridHeight: 1024 });

describe('engine memory budget', () => {
  for (const backend of [...BACKENDS, 'auto'] as const) {
    it(`backend ${backend}: a 1024x1024 grid with a 1024-wide layer is too-large, naming the numbers, before any backend prepares`, async () => {
      const prepared = watchPrepares();
      await assert.rejects(createEngine(wide, { backend }), (error: unknown) => {
        assert.ok(isNcaEngineError(error), String(error));
        assert.equal(error.code, 'too-large', error.message);
        assert.match(error.message, /1024x1024 \(1048576 cells\)/);
        assert.match(error.message, /1048576 x 16 channels = 16777216 values/);
        assert.match(error.message, /1048576 x 1024 = 1073741824 values/);
        assert.match(error.message, new RegExp(`budget of ${MAX_ENGINE_BUFFER_VALUES} values`));
        return true;
      });
      assert.deepEqual(prepared, []);
    });
  }

  it('a grid option over the budget for the model is too-large; the same model on its own grid runs', async () => {
    const model = createModel(createArchitecture({ rule: 'essay', hidden: 128 }), { gridWidth: 16, gridHeight: 16 });
    await assert.rejects(createEngine(model, { backend: 'cpu', gridWidth: 1024, gridHeight: 1024 }), (error: unknown) => isNcaEngineError(error) && error.code === 'too-large');
    const engine = await createEngine(model, { backend: 'cpu' });
    engine.dispose();
  });

  it('exactly at the budget passes the check (1024x1024 cells x 64 values)', async () => {
    const model = createModel(createArchitecture({ rule: 'essay', hidden: 64 }), { gridWidth: 1024, gridHeight: 1024 });
    assert.equal(1024 * 1024 * 64, MAX_ENGINE_BUFFER_VALUES);
    const prepared = watchPrepares();
    // Every backend is replaced by one that refuses: reaching them means the budget let it through.
    await assert.rejects(createEngine(model, { backend: 'cpu' }), (error: unknown) => isNcaEngineError(error) && error.code === 'no-backend');
    assert.deepEqual(prepared, ['cpu']);
  });
});
