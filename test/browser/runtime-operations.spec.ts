/**
 * Engine operations and rendering in Chromium, on GPU backends (webgl2, webgl, webgpu) and CPU
 * backends (webasm, cpu): damage, plant, set state from an image, reset, each compared with the
 * reference helpers; render compared pixel by pixel with the reference's `toRgba`; and on GL,
 * no `readPixels` while rendering (the state is drawn from the texture, never read back).
 * Unavailable backends are skipped with the engine's reason.
 */
import { expect, test } from '@playwright/test';
import { openHarness } from './pages/runtime/helpers.js';

const BACKENDS = ['webgl2', 'webgl', 'webgpu', 'webasm', 'cpu'] as const;

interface OperationsResult {
  readonly backend: string;
  readonly diffs: Record<string, number>;
  readonly render: { pixels: number; opaqueOff: number; translucentOff: number; transparentOff: number; painted: number; readPixels: number };
}

for (const backend of BACKENDS) {
  test(`operations and render on ${backend}`, async ({ page }) => {
    await openHarness(page);
    const result = await page.evaluate(async (name): Promise<OperationsResult | { skip: string }> => {
      const { nca } = window;
      const W = 20;
      const H = 16;
      const model = nca.randomModel('distill', 16, 4, W, H);
      const arch = model.architecture;
      let engine;
      try {
        engine = await nca.createEngine(model, { backend: name, seed: 42 });
      } catch (error) {
        if (nca.isNcaEngineError(error) && error.code === 'no-backend') return { skip: error.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ') };
        throw error;
      }
      const diffs: Record<string, number> = {};
      const check = async (what: string, expected: Float32Array): Promise<void> => {
        diffs[what] = nca.compare(await engine.readState(), expected, 1e-5).maxDiff;
      };
      await check('start', nca.seedState(arch, W, H).data);
      await engine.step(8);
      let expected = nca.runSteps(arch, nca.seedState(arch, W, H), { seed: 42, steps: 8 });
      await check('8 steps', expected.data);
      await engine.damage(10.3, 7.8, 2.5);
      expected = nca.cloneState(expected);
      nca.damageDisc(expected, 10.3, 7.8, 2.5);
      await check('damage', expected.data);
      await engine.plant(3.7, 12.2);
      nca.plantSeed(expected, arch, 3.7, 12.2);
      await check('plant', expected.data);
      await engine.step(3);
      await check('3 more steps', nca.runSteps(arch, expected, { seed: 42, steps: 3, startStep: 8 }).data);

      // An image with opaque, half-transparent and transparent pixels, bigger than the grid.
      const iw = 24;
      const ih = 10;
      const rgba = new Uint8Array(iw * ih * 4);
      for (let i = 0; i < iw * ih; i++) rgba.set([(i * 37) % 256, (i * 91) % 256, (i * 13) % 256, i % 7 === 0 ? 0 : i % 3 === 0 ? 128 : 255], i * 4);
      await engine.setStateFromImage(rgba, iw, ih);
      const fromImage = nca.stateFromImage(arch, W, H, rgba, iw, ih);
      await check('setStateFromImage', fromImage.data);

      // Render the image state; compare with toRgba (straight alpha, 8 bits).
      const gl = nca.sharedContext(name === 'webgl' ? 'webgl' : 'webgl2');
      let readPixels = 0;
      const original = gl?.readPixels;
      if (gl && original && (name === 'webgl2' || name === 'webgl')) {
        gl.readPixels = function (this: typeof gl, ...args: unknown[]) {
          readPixels++;
          return (original as (...a: unknown[]) => void).apply(this, args);
        } as typeof gl.readPixels;
      }
      const canvas = document.createElement('canvas');
      engine.render(canvas);
      if (gl && original) gl.readPixels = original;
      // webgpu draws when its RGBA readback lands: wait for the condition, frame by frame.
      let drawn = canvas.getContext('2d')!.getImageData(0, 0, W, H).data;
      for (let frame = 0; frame < 600 && !drawn.some((v, i) => i % 4 === 3 && v > 0); frame++) {
        await new Promise((resolve) => requestAnimationFrame(resolve));
        drawn = canvas.getContext('2d')!.getImageData(0, 0, W, H).data;
      }
      const wanted = nca.toRgba(fromImage, arch);
      let opaqueOff = 0;
      let translucentOff = 0;
      let transparentOff = 0;
      let painted = 0;
      for (let p = 0; p < W * H; p++) {
        const a = wanted[p * 4 + 3]!;
        if (drawn[p * 4 + 3]! > 0) painted++;
        for (let c = 0; c < 4; c++) {
          const off = Math.abs(drawn[p * 4 + c]! - wanted[p * 4 + c]!);
          // The 2D canvas stores premultiplied 8-bit colour: at alpha 128 a colour is only known
          // to about 2 levels after un-premultiplying.
          if (a === 255) opaqueOff = Math.max(opaqueOff, off);
          else if (a > 0) translucentOff = Math.max(translucentOff, off);
          else transparentOff = Math.max(transparentOff, c === 3 ? off : 0);
        }
      }

      await engine.reset();
      await check('reset', nca.startState(model, W, H).data);
      const stepCount = engine.stepCount;
      engine.dispose();
      return {
        backend: engine.backend,
        diffs: { ...diffs, stepCount },
        render: { pixels: W * H, opaqueOff, translucentOff, transparentOff, painted, readPixels },
      };
    }, backend);
    if ('skip' in result) {
      console.log(`[runtime-operations] ${backend} skipped: ${result.skip}`);
      test.skip(true, `${backend} unavailable here: ${result.skip}`);
      return;
    }
    console.log(`[runtime-operations] ${backend}: ${JSON.stringify(result)}`);
    expect(result.backend).toBe(backend);
    const { stepCount, ...diffs } = result.diffs;
    expect(stepCount).toBe(0);
    for (const [what, diff] of Object.entries(diffs)) expect(diff, what).toBeLessThanOrEqual(1e-5);
    expect(result.render.painted).toBeGreaterThan(100);
    expect(result.render.opaqueOff).toBeLessThanOrEqual(1);
    expect(result.render.translucentOff).toBeLessThanOrEqual(3);
    expect(result.render.transparentOff).toBe(0);
    expect(result.render.readPixels, 'render reads nothing back').toBe(0);
  });
}
