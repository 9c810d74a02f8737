import { expect, test } from '@playwright/test';

// Proves the Playwright + Chromium setup: the demo server answers and the reference step runs a
// model from the public bundles in a real page and draws it.
test('reference page runs a model and draws non-empty frames', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto('/demo/reference.html?model=/test/browser/pages/element/models/flood.nca');
  const canvas = page.locator('#view');
  await expect(canvas).toHaveAttribute('data-step', /^([5-9]|\d{2,})$/);
  const painted = await canvas.evaluate((element) => {
    const c = element as HTMLCanvasElement;
    const data = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray();
    let alive = 0;
    for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) alive += 1;
    return alive;
  });
  expect(painted).toBeGreaterThan(1);
  expect(errors).toEqual([]);
});

test('reference page reports a missing model instead of failing silently', async ({ page }) => {
  await page.goto('/demo/reference.html?model=/no/such/model.nca');
  await expect(page.locator('#status')).toContainText('HTTP 404');
});
