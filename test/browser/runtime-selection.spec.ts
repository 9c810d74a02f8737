/**
 * Backend selection in Chromium: on a software rasteriser (headless Chromium's SwiftShader) auto
 * mode prefers webasm/cpu and says why for each GPU backend; on a real GPU a GPU backend wins.
 * A `requestAdapter()` that never settles times out into the next backend, and a backend that
 * fails to compile hands over to the next one with its reason (RELIABILITY 16).
 */
import { expect, test } from '@playwright/test';
import { openHarness } from './pages/runtime/helpers.js';

test('auto: software GL/WebGPU yield to webasm/cpu, a real GPU wins', async ({ page }) => {
  await openHarness(page);
  const result = await page.evaluate(async () => {
    const { nca } = window;
    const canvas = document.createElement('canvas');
    const gl = canvas.getContext('webgl2') ?? canvas.getContext('webgl');
    const debug = gl?.getExtension('WEBGL_debug_renderer_info');
    const renderer = gl ? String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER)) : '';
    const engine = await nca.createEngine(nca.randomModel('essay', 16, 1, 24, 24));
    const { chosen, skipped } = engine.selection;
    engine.dispose();
    return { renderer, chosen, skipped };
  });
  console.log(`[runtime-selection] renderer "${result.renderer}": chose ${result.chosen}; skipped ${JSON.stringify(result.skipped)}`);
  const software = /swiftshader|llvmpipe|softpipe|lavapipe|software/i.test(result.renderer);
  if (software) {
    expect(['webasm', 'cpu']).toContain(result.chosen);
    for (const backend of ['webgl2', 'webgl']) {
      const skipped = result.skipped.find((s) => s.backend === backend);
      expect(skipped?.stage).toBe('software-renderer');
      expect(skipped?.reason).toMatch(/software renderer/);
    }
  } else {
    expect(['webgpu', 'webgl2', 'webgl']).toContain(result.chosen);
  }
  for (const s of result.skipped) expect(typeof s.reason).toBe('string');
});

test('a WebGPU requestAdapter() that never answers falls back within the timeout', async ({ page }) => {
  await page.addInitScript(() => {
    if (navigator.gpu) {
      Object.defineProperty(navigator.gpu, 'requestAdapter', { value: () => new Promise(() => undefined) });
    }
  });
  await openHarness(page);
  const result = await page.evaluate(async () => {
    const { nca } = window;
    if (!navigator.gpu) return { skip: 'navigator.gpu is missing in this browser' };
    const started = performance.now();
    const engine = await nca.createEngine(nca.randomModel('distill', 16, 2, 16, 16), { webgpuTimeoutMs: 300 });
    const elapsed = performance.now() - started;
    const reason = engine.selection.skipped.find((s) => s.backend === 'webgpu')?.reason;
    const chosen = engine.backend;
    engine.dispose();
    return { elapsed, reason, chosen };
  });
  if ('skip' in result) {
    test.skip(true, result.skip);
    return;
  }
  console.log(`[runtime-selection] hung adapter: ${JSON.stringify(result)}`);
  expect(result.reason).toMatch(/did not answer within 300 ms/);
  expect(result.chosen).not.toBe('webgpu');
  expect(result.elapsed).toBeLessThan(20_000);
});

test('a backend that fails to compile hands over to the next, with its reason', async ({ page }) => {
  await openHarness(page);
  const result = await page.evaluate(async () => {
    const { nca } = window;
    const undo = nca.failBackend('webasm', 'simulated wasm compile error');
    try {
      const engine = await nca.createEngine(nca.randomModel('essay', 16, 3, 16, 16));
      const out = { chosen: engine.backend, skipped: engine.selection.skipped };
      await engine.step(2);
      engine.dispose();
      return out;
    } finally {
      undo();
    }
  });
  console.log(`[runtime-selection] with webasm failing: chose ${result.chosen}`);
  expect(result.chosen).not.toBe('webasm');
  const webasm = result.skipped.find((s) => s.backend === 'webasm');
  expect(webasm?.stage).toBe('failed');
  expect(webasm?.reason).toMatch(/failed to compile or run: simulated wasm compile error/);
});
