/**
 * The gpu.js engine against the reference step, in Node: random models and states, the golden
 * fixtures, and a trained model (the Distill article's lizard, imported from test/fixtures/distill
 * and stored in int8, from a young lizard grown 30 steps from a seed; measured 4.8e-7 after 1 step,
 * 7.4e-7 after 50 on cpu and webasm). Every backend the registry knows is
 * tried; the ones Node cannot run (webgpu, webgl2, webgl) are skipped with the engine's own
 * reason, never counted as passing. The Chromium specs (test/browser/runtime-parity.spec.ts) run
 * the GPU backends.
 *
 * Tolerance, on every element: |diff| <= 1e-6 after 1 step; |diff| <= 1e-5 + 1e-4 * |expected|
 * after 50 (and after the few steps of the smaller cases). webasm computes in float32 where the
 * reference sums in doubles and rounds to float32 between stages (cpu sums in doubles too, but in
 * another order). Measured: about 2e-7 after 1 step and 7e-7 after 50 on the bounded random
 * models; the golden distill case grows to |values| of 6 through its random residual layer and
 * ends 1.7e-4 (2.7e-5 relative) apart, hence the relative term.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it, type TestContext } from 'node:test';
import { BACKENDS, createEngine, isNcaEngineError, type BackendName, type NcaEngine } from '../../runtime/engine/index.js';
import { createArchitecture, createModel, decodeModel, encodeModel } from '../../runtime/format/index.js';
import type { Architecture, NcaModel } from '../../runtime/format/types.js';
import { runSteps, seedState, type CaState } from '../../runtime/reference/index.js';
import { loadGoldenCases } from '../fixtures/golden.js';
import { importDistillModel } from '../../trainer/import/distill.js';

const ONE_STEP_TOLERANCE = { absolute: 1e-6, relative: 0 };
const FIFTY_STEP_TOLERANCE = { absolute: 1e-5, relative: 1e-4 };

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Random (Glorot) layers; distill's residual last layer scaled by 0.1 so 50 steps stay bounded. */
function randomModel(rule: 'essay' | 'distill', hidden: number, seed: number, width: number, height: number): NcaModel {
  const arch = createArchitecture({ rule, hidden, init: 'random', random: seeded(seed) });
  if (rule === 'distill') for (const layer of arch.layers.slice(-1)) layer.weights.forEach((w, i, all) => (all[i] = w * 0.1));
  return createModel(arch, { gridWidth: width, gridHeight: height });
}

/**
 * A trained model: the Distill article's regenerating lizard (test/fixtures/distill, CC-BY 4.0),
 * imported and stored in int8 as a page would load it, on a 32x32 grid.
 */
function distillLizard(): NcaModel {
  const text = readFileSync(new URL('../fixtures/distill/ex3_1f98e.json', import.meta.url), 'utf8');
  const stored = decodeModel(encodeModel(importDistillModel(text, { fileName: 'ex3_1f98e.json' }).model));
  return createModel(stored.architecture, { ...stored.metadata, gridWidth: 32, gridHeight: 32 });
}

function randomState(arch: Architecture, width: number, height: number, seed: number): CaState {
  const random = seeded(seed);
  return { width, height, channels: arch.channels, data: Float32Array.from({ length: width * height * arch.channels }, () => random() * 1.2 - 0.1) };
}

function assertClose(actual: Float32Array, expected: Float32Array, tolerance: { absolute: number; relative: number }, what: string): number {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let max = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    const allowed = tolerance.absolute + tolerance.relative * Math.abs(expected[i]!);
    if (!(d <= allowed)) assert.fail(`${what}: value ${i} is ${actual[i]}, expected ${expected[i]} (|diff| ${d} > ${allowed})`);
    max = Math.max(max, d);
  }
  return max;
}

/** An engine on `backend`, or undefined after marking the test skipped with the engine's reason. */
async function engineOn(t: TestContext, backend: BackendName, model: NcaModel, options: Record<string, unknown> = {}): Promise<NcaEngine | undefined> {
  try {
    return await createEngine(model, { backend, ...options });
  } catch (error) {
    if (isNcaEngineError(error) && error.code === 'no-backend') {
      t.skip(`${backend} unavailable here: ${error.skipped.map((s) => s.reason).join('; ')}`);
      return undefined;
    }
    throw error;
  }
}

describe('engine parity with the reference (random models, random states)', () => {
  for (const backend of BACKENDS) {
    for (const rule of ['essay', 'distill'] as const) {
      it(`${backend}, ${rule}: 1 and 50 steps`, async (t) => {
        const model = randomModel(rule, 32, rule === 'essay' ? 21 : 22, 24, 20);
        const engine = await engineOn(t, backend, model, { seed: 0xdeadbeef });
        if (!engine) return;
        try {
          assert.equal(engine.backend, backend);
          const state = randomState(model.architecture, 24, 20, 5);
          await engine.setState(state.data);
          await engine.step();
          const one = assertClose(await engine.readState(), runSteps(model.architecture, state, { seed: 0xdeadbeef, steps: 1 }).data, ONE_STEP_TOLERANCE, 'after 1 step');
          await engine.step(49);
          assert.equal(engine.stepCount, 50);
          const fifty = assertClose(await engine.readState(), runSteps(model.architecture, state, { seed: 0xdeadbeef, steps: 50 }).data, FIFTY_STEP_TOLERANCE, 'after 50 steps');
          t.diagnostic(`max |diff| ${one.toExponential(2)} after 1 step, ${fifty.toExponential(2)} after 50`);
        } finally {
          engine.dispose();
        }
      });
    }

    it(`${backend}: fire-rate override, rotation and a non-square grid`, async (t) => {
      const model = randomModel('distill', 16, 31, 13, 7);
      const engine = await engineOn(t, backend, model, { seed: 77, fireRate: 0.8, rotation: 0.7 });
      if (!engine) return;
      try {
        const state = randomState(model.architecture, 13, 7, 6);
        await engine.setState(state.data);
        await engine.step(5);
        const expected = runSteps(model.architecture, state, { seed: 77, steps: 5, fireRate: 0.8, rotation: 0.7 });
        assertClose(await engine.readState(), expected.data, FIFTY_STEP_TOLERANCE, 'after 5 steps');
      } finally {
        engine.dispose();
      }
    });

    it(`${backend}: the Distill article's lizard (a trained model), growing from a seed`, async (t) => {
      const model = distillLizard();
      // 30 steps in: a young lizard with living, dying and empty cells, where a step changes most.
      const start = runSteps(model.architecture, seedState(model.architecture, 32, 32), { seed: 9, steps: 30 });
      const engine = await engineOn(t, backend, model, { seed: 9 });
      if (!engine) return;
      try {
        await engine.setState(start.data, 30);
        await engine.step();
        const one = assertClose(await engine.readState(), runSteps(model.architecture, start, { seed: 9, steps: 1, startStep: 30 }).data, ONE_STEP_TOLERANCE, 'after 1 step');
        await engine.step(49);
        const fifty = assertClose(await engine.readState(), runSteps(model.architecture, start, { seed: 9, steps: 50, startStep: 30 }).data, FIFTY_STEP_TOLERANCE, 'after 50 steps');
        t.diagnostic(`max |diff| ${one.toExponential(2)} after 1 step, ${fifty.toExponential(2)} after 50`);
      } finally {
        engine.dispose();
      }
    });

    it(`${backend}: golden fixtures`, async (t) => {
      for (const golden of loadGoldenCases()) {
        const model = createModel(golden.architecture, { gridWidth: golden.input.width, gridHeight: golden.input.height });
        const options = { seed: golden.run.seed, fireRate: golden.run.fireRate, rotation: golden.run.rotation };
        const engine = await engineOn(t, backend, model, options);
        if (!engine) return;
        try {
          let done = 0;
          await engine.setState(golden.input.data, golden.run.startStep);
          for (const { steps, state } of golden.expected) {
            await engine.step(steps - done);
            done = steps;
            assertClose(await engine.readState(), state.data, steps === 1 ? ONE_STEP_TOLERANCE : FIFTY_STEP_TOLERANCE, `${golden.name} after ${steps} steps`);
          }
        } finally {
          engine.dispose();
        }
      }
    });
  }

  it('webasm on a 64x64 grid (threaded where the platform allows) matches too', async (t) => {
    const model = randomModel('distill', 32, 41, 64, 64);
    const engine = await engineOn(t, 'webasm', model, { seed: 3 });
    if (!engine) return;
    try {
      const state = randomState(model.architecture, 64, 64, 8);
      await engine.setState(state.data);
      await engine.step(3);
      assertClose(await engine.readState(), runSteps(model.architecture, state, { seed: 3, steps: 3 }).data, FIFTY_STEP_TOLERANCE, 'after 3 steps');
    } finally {
      engine.dispose();
    }
  });
});
