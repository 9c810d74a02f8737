/**
 * <nca-canvas> on every backend the engine has: the element must behave the same whether engine
 * operations finish synchronously (webgl2, webgl, cpu) or later (webgpu, webasm). A backend this
 * browser cannot run is skipped with the engine's reason printed, never silently.
 */
import type { Page } from '@playwright/test';
import { alive, call, expect, FLOOD, GRID, mount, openPage, pixel, prop, test, waitForEvent } from './pages/element/helpers.js';

/** The first `nca-error` of type backend the element fired, if any. */
async function backendFault(page: Page, id: string): Promise<unknown> {
  const errors = await page.evaluate((i) => window.harness.events(i, 'nca-error'), id);
  return errors.find((e) => e.detail.type === 'backend')?.detail.cause;
}

for (const backend of ['webgpu', 'webgl2', 'webgl', 'webasm', 'cpu'] as const) {
  test(`backend=${backend}: grows, renders, erases and heals, snapshots`, async ({ page }) => {
    await openPage(page);
    const id = await mount(page, { src: FLOOD, backend, paused: '', brush: '5' });
    await page.waitForFunction((i) => window.harness.events(i).some((e) => e.type === 'nca-load' || e.type === 'nca-error'), id);
    try {
      const chosen = await waitForEvent(page, id, 'nca-backend', 1, 5000);
      expect(chosen.detail.chosen).toBe(backend);
      // NOTE: polled, not read once: webgpu draws through an asynchronous RGBA readback, so the
      // canvas (and snapshot()) shows a finished state a moment after the operation settles.
      const aliveBecomes = (n: number, ...disc: number[]) => expect.poll(() => alive(page, id, ...disc)).toBe(n);
      await aliveBecomes(1);
      await call(page, id, 'step', 120);
      expect(await prop(page, id, 'stepCount')).toBe(120);
      await aliveBecomes(GRID * GRID);
      // The flood model's constant colour, straight alpha.
      const [r, g, b, a] = await pixel(page, id, 3, 3);
      expect(a).toBe(255);
      expect(Math.abs(r! - 242) + Math.abs(g! - 140) + Math.abs(b! - 38)).toBeLessThan(12);
      await call(page, id, 'damage', 16, 16, 5);
      await aliveBecomes(0, 16, 16, 4.9);
      await call(page, id, 'step', 40);
      await aliveBecomes(GRID * GRID);
      await call(page, id, 'reset');
      expect(await prop(page, id, 'stepCount')).toBe(0);
      await aliveBecomes(1);
      await call(page, id, 'play');
      await expect.poll(() => prop<number>(page, id, 'stepCount')).toBeGreaterThan(10);
    } catch (failure) {
      // Attribute the failure to the engine only if the engine reported a fault; then the
      // element's part is that the fault is visible: an nca-error and the fallback.
      const fault = await backendFault(page, id);
      if (fault === undefined) throw failure;
      expect(await prop(page, id, 'status')).toBe('error');
      expect(await page.evaluate((i) => window.harness.fallbackVisible(i), id)).toBe(true);
      const reason = `${backend} cannot run here (engine: ${JSON.stringify(fault)})`;
      console.log(`skipped: ${reason}`); // the list reporter prints this
      test.skip(true, reason);
    }
  });
}
