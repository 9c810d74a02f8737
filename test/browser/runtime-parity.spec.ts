/**
 * Every backend against the reference step in Chromium: random models of both rule families, one
 * odd architecture (kernel-major, two hidden layers of widths 30 and 10), random states, and a
 * trained model (the Distill article's lizard, imported from test/fixtures/distill, from a young
 * lizard grown 30 steps from a seed); the same seed, after 1 and after 50 steps. A backend this browser cannot run is
 * skipped with the engine's own reason, never counted as passing.
 *
 * Tolerance (absolute, every element): 1e-6 after 1 step, 1e-5 after 50. The reference sums in
 * doubles; GL, WebGPU and WebAssembly in float32 with their own atan/exp (and the GL formulation
 * in another order), so single steps differ by a few float32 ulps and 50 steps let that grow
 * through the network. Measured on SwiftShader: at most 5e-7 after 1 step (the lizard), 8e-7 after 50.
 */
import { expect, test } from '@playwright/test';
import { openHarness, type ParityResult } from './pages/runtime/helpers.js';

const BACKENDS = ['webgl2', 'webgl', 'webgpu', 'webasm', 'cpu'] as const;

for (const backend of BACKENDS) {
  test(`parity with the reference on ${backend}`, async ({ page }, testInfo) => {
    await openHarness(page);
    const results = await page.evaluate(async (name): Promise<ParityResult[] | { skip: string }> => {
      const { nca } = window;
      const out: ParityResult[] = [];
      const lizardText = await (await fetch('/test/fixtures/distill/ex3_1f98e.json')).text();
      for (const [rule, seed] of [
        ['essay', 11],
        ['distill', 12],
        ['odd', 13],
        ['distill-lizard', 14],
      ] as const) {
        const model =
          rule === 'odd' ? nca.oddModel(seed, 24, 20) : rule === 'distill-lizard' ? nca.distillLizard(lizardText, 24, 20) : nca.randomModel(rule, 32, seed, 24, 20);
        let engine;
        try {
          engine = await nca.createEngine(model, { backend: name, seed: 7 });
        } catch (error) {
          if (nca.isNcaEngineError(error) && error.code === 'no-backend') return { skip: error.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ') };
          throw error;
        }
        const state =
          rule === 'distill-lizard'
            ? nca.runSteps(model.architecture, nca.seedState(model.architecture, 24, 20), { seed, steps: 30 })
            : nca.randomState(24, 20, 16, seed + 100);
        await engine.setState(state.data);
        await engine.step(1);
        const one = nca.compare(await engine.readState(), nca.runSteps(model.architecture, state, { seed: 7, steps: 1 }).data, 1e-6);
        await engine.step(49);
        const fifty = nca.compare(await engine.readState(), nca.runSteps(model.architecture, state, { seed: 7, steps: 50 }).data, 1e-5);
        out.push({ rule, backend: engine.backend, renderer: engine.selection.renderer ?? '', one, fifty, stepCount: engine.stepCount });
        engine.dispose();
      }
      return out;
    }, backend);
    if ('skip' in results) {
      console.log(`[runtime-parity] ${backend} skipped: ${results.skip}`);
      testInfo.annotations.push({ type: 'skip-reason', description: results.skip });
      test.skip(true, `${backend} unavailable here: ${results.skip}`);
      return;
    }
    for (const r of results) {
      console.log(`[runtime-parity] ${backend} ${r.rule} (${r.renderer || 'cpu'}): max |diff| ${r.one.maxDiff.toExponential(2)} after 1 step, ${r.fifty.maxDiff.toExponential(2)} after 50`);
      expect(r.backend).toBe(backend);
      expect(r.stepCount).toBe(50);
      expect(r.one.over, `${r.rule}: elements over 1e-6 after 1 step (max ${r.one.maxDiff})`).toBe(0);
      expect(r.fifty.over, `${r.rule}: elements over 1e-5 after 50 steps (max ${r.fifty.maxDiff})`).toBe(0);
    }
  });
}
