/**
 * Engine operations against the reference helpers, on every backend Node can run (webasm, cpu;
 * the others are skipped with their reason): reset to a seed or an embedded start image, set
 * state from an RGBA image, damage, plant, readState, stepping on after an edit, and dispose.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { BACKENDS, createEngine, isNcaEngineError, type BackendName, type NcaEngine } from '../../runtime/engine/index.js';
import { liveSharedInstances } from '../../runtime/engine/shared.js';
import { createArchitecture, createModel } from '../../runtime/format/index.js';
import type { NcaModel } from '../../runtime/format/types.js';
import { damageDisc, plantSeed, runSteps, seedState, startState, stateFromImage, type CaState } from '../../runtime/reference/index.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const W = 20;
const H = 16;

function model(rule: 'essay' | 'distill', start?: NcaModel['metadata']['start']): NcaModel {
  const arch = createArchitecture({ rule, hidden: 16, init: 'random', random: seeded(rule === 'essay' ? 1 : 2) });
  if (rule === 'distill') for (const layer of arch.layers.slice(-1)) layer.weights.forEach((w, i, all) => (all[i] = w * 0.1));
  return createModel(arch, { gridWidth: W, gridHeight: H, ...(start ? { start } : {}) });
}

/** A 6x4 straight-alpha RGBA image: a gradient with transparent and half-transparent pixels. */
function image(): { rgba: Uint8Array; width: number; height: number } {
  const width = 6;
  const height = 4;
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) rgba.set([(i * 37) % 256, (i * 91) % 256, (i * 13) % 256, i % 5 === 0 ? 0 : i % 3 === 0 ? 128 : 255], i * 4);
  return { rgba, width, height };
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string, tolerance = 1e-5): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (!(d <= tolerance)) assert.fail(`${what}: value ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

async function engineOn(t: TestContext, backend: BackendName, m: NcaModel): Promise<NcaEngine | undefined> {
  try {
    return await createEngine(m, { backend, seed: 42 });
  } catch (error) {
    if (isNcaEngineError(error) && error.code === 'no-backend') {
      t.skip(`${backend} unavailable here: ${error.skipped.map((s) => s.reason).join('; ')}`);
      return undefined;
    }
    throw error;
  }
}

function copy(state: CaState): CaState {
  return { ...state, data: state.data.slice() };
}

describe('engine operations', () => {
  for (const backend of BACKENDS) {
    it(`${backend}: starts at the seed, resets, and edits like the reference`, async (t) => {
      const m = model('distill');
      const engine = await engineOn(t, backend, m);
      if (!engine) return;
      try {
        const arch = m.architecture;
        assert.equal(engine.width, W);
        assert.equal(engine.height, H);
        assert.equal(engine.stepCount, 0);
        assert.deepEqual(await engine.readState(), seedState(arch, W, H).data, 'starts at the seed');

        await engine.step(8);
        let expected = runSteps(arch, seedState(arch, W, H), { seed: 42, steps: 8 });
        assertClose(await engine.readState(), expected.data, 'after 8 steps');

        // Damage, plant, then step on: the step index continues from 8.
        await engine.damage(10.3, 7.8, 2.5);
        expected = copy(expected);
        damageDisc(expected, 10.3, 7.8, 2.5);
        assertClose(await engine.readState(), expected.data, 'after damage');
        await engine.plant(3.7, 12.2);
        plantSeed(expected, arch, 3.7, 12.2);
        assertClose(await engine.readState(), expected.data, 'after plant');
        await engine.step(3);
        assert.equal(engine.stepCount, 11);
        expected = runSteps(arch, expected, { seed: 42, steps: 3, startStep: 8 });
        assertClose(await engine.readState(), expected.data, 'stepping on after edits');

        // Edits the reference ignores are ignored here too.
        const before = await engine.readState();
        await engine.damage(5, 5, 0);
        await engine.damage(Number.NaN, 5, 3);
        await engine.plant(-1, 3);
        await engine.plant(W, 0);
        assert.deepEqual(await engine.readState(), before, 'no-op edits');

        await engine.reset();
        assert.equal(engine.stepCount, 0);
        assert.deepEqual(await engine.readState(), startState(m, W, H).data, 'reset');
      } finally {
        engine.dispose();
      }
    });

    it(`${backend}: embedded start image, setStateFromImage and setState`, async (t) => {
      const picture = image();
      const base = model('essay');
      const start = { kind: 'image' as const, width: 6, height: 4, rgba: new Uint8Array(6 * 4 * 4) };
      // STRT is premultiplied: colour <= alpha.
      for (let i = 0; i < 24; i++) start.rgba.set([Math.min(i * 9, 200), 10, 0, 200], i * 4);
      const m = createModel(base.architecture, { ...base.metadata, start });
      const engine = await engineOn(t, backend, m);
      if (!engine) return;
      try {
        assert.deepEqual(await engine.readState(), startState(m, W, H).data, 'starts at the embedded image');
        await engine.step(2);
        await engine.setStateFromImage(picture.rgba, picture.width, picture.height);
        assert.equal(engine.stepCount, 0);
        const fromImage = stateFromImage(m.architecture, W, H, picture.rgba, picture.width, picture.height);
        assert.deepEqual(await engine.readState(), fromImage.data, 'setStateFromImage');
        await engine.step(4);
        assertClose(await engine.readState(), runSteps(m.architecture, fromImage, { seed: 42, steps: 4 }).data, 'steps from the image');

        const snapshot = await engine.readState();
        const count = engine.stepCount;
        await engine.step(2);
        await engine.setState(snapshot, count);
        assert.equal(engine.stepCount, count);
        await engine.step(2);
        assertClose(await engine.readState(), runSteps(m.architecture, fromImage, { seed: 42, steps: 6 }).data, 'a snapshot resumes exactly');

        await assert.rejects(engine.setState(new Float32Array(3)), { code: 'bad-option' });
        await assert.rejects(engine.step(-1), { code: 'bad-option' });
        await assert.rejects(engine.setStateFromImage(picture.rgba, 5, 4), RangeError);
      } finally {
        engine.dispose();
      }
    });

    it(`${backend}: dispose frees the shared instance and makes the engine unusable`, async (t) => {
      const m = model('essay');
      const first = await engineOn(t, backend, m);
      if (!first) return;
      const second = await createEngine(m, { backend });
      const shared = liveSharedInstances().get(backend);
      assert.ok(shared, 'one shared instance while engines live');
      assert.equal(shared.clientCount, 2, 'both engines share it');
      first.dispose();
      first.dispose();
      assert.equal(shared.clientCount, 1);
      await assert.rejects(first.step(), { code: 'disposed' });
      await assert.rejects(first.readState(), { code: 'disposed' });
      await second.step(2);
      second.dispose();
      assert.equal(shared.clientCount, 0);
      assert.equal(liveSharedInstances().has(backend), false, 'the last engine out destroys the instance');
    });
  }

  it('rejects options out of range with bad-option', async () => {
    const m = model('essay');
    for (const options of [
      { gridWidth: 0 },
      { gridHeight: 1025 },
      { gridWidth: 2.5 },
      { seed: -1 },
      { seed: 2 ** 32 },
      { fireRate: 1.5 },
      { rotation: Number.NaN },
      { webgpuTimeoutMs: -5 },
      { backend: 'gl' as unknown as BackendName },
    ]) {
      await assert.rejects(createEngine(m, options), { name: 'NcaEngineError', code: 'bad-option' }, JSON.stringify(options));
    }
  });
});
