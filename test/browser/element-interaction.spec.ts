/**
 * <nca-canvas>: pointer, keyboard, methods and events (RELIABILITY 19).
 */
import {
  alive,
  call,
  cellCentre,
  events,
  expect,
  fillGrid,
  FLOOD,
  frames,
  GRID,
  holdRequests,
  mount,
  mountLoaded,
  openPage,
  pixel,
  prop,
  setAttr,
  test,
  waitForEvent,
} from './pages/element/helpers.js';
import type { Browser, BrowserContext, Page } from '@playwright/test';

test.beforeEach(async ({ page }) => {
  await openPage(page);
});

test('clicking erases a disc, which then heals (healing model)', async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD, paused: '', brush: '5' }, { style: 'width: 320px' });
  await fillGrid(page, id);
  const centre = await cellCentre(page, id, 16, 16);
  await page.mouse.click(centre.x, centre.y);
  // The pointer maps to (16.5, 16.5); every cell whose centre is within 5 of it is cleared.
  expect(await alive(page, id, 16.5, 16.5, 4.9)).toBe(0);
  expect(await alive(page, id)).toBeLessThan(GRID * GRID - 60);
  await call(page, id, 'play');
  await expect.poll(() => alive(page, id), { timeout: 15_000 }).toBe(GRID * GRID);
});

test('dragging erases along the path, not only at its ends', async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD, paused: '', brush: '2' }, { style: 'width: 320px' });
  await fillGrid(page, id);
  const from = await cellCentre(page, id, 3, 16);
  const to = await cellCentre(page, id, 28, 16);
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(to.x, to.y, { steps: 2 }); // big jumps between move events
  await page.mouse.up();
  for (const x of [3, 10, 16, 22, 28]) expect(await alive(page, id, x + 0.5, 16.5, 1.5), `cells around ${x},16`).toBe(0);
  expect(await alive(page, id, 16.5, 4.5, 2)).toBeGreaterThan(0);
});

test('shift-click and double-click plant; interaction="seed" plants on a plain click', async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD, paused: '' }, { style: 'width: 320px' });
  await call(page, id, 'damage', 16, 16, 40); // clear everything
  expect(await alive(page, id)).toBe(0);
  const a = await cellCentre(page, id, 5, 6);
  await page.keyboard.down('Shift');
  await page.mouse.click(a.x, a.y);
  await page.keyboard.up('Shift');
  expect(await alive(page, id)).toBe(1);
  expect((await pixel(page, id, 5, 6))[3]).toBeGreaterThan(200);
  const b = await cellCentre(page, id, 20, 25);
  await page.mouse.dblclick(b.x, b.y);
  expect((await pixel(page, id, 20, 25))[3]).toBeGreaterThan(200);
  await setAttr(page, id, 'interaction', 'seed');
  const c = await cellCentre(page, id, 30, 1);
  await page.mouse.click(c.x, c.y);
  expect((await pixel(page, id, 30, 1))[3]).toBeGreaterThan(200);
  expect(await alive(page, id)).toBe(3);
});

test('interaction="none" ignores the pointer', async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD, paused: '', interaction: 'none' });
  await fillGrid(page, id);
  const centre = await cellCentre(page, id, 16, 16);
  await page.mouse.click(centre.x, centre.y);
  await page.mouse.dblclick(centre.x, centre.y);
  expect(await alive(page, id)).toBe(GRID * GRID);
});

for (const dpr of [1, 2, 3]) {
  test(`DPR ${dpr}: presses hit the right cells at a non-multiple, letterboxed CSS size, edges included`, async ({ browser }) => {
    const context = await browser.newContext({ deviceScaleFactor: dpr, viewport: { width: 500, height: 400 } });
    const page = await context.newPage();
    try {
      await openPage(page);
      // 251 x 173 CSS px for a 32x32 grid: 5.40625 px per cell, with bars left and right.
      const id = await mountLoaded(page, { src: FLOOD, paused: '', brush: '0.6' }, { style: 'width: 251px; height: 173px; margin: 3.3px' });
      await fillGrid(page, id);
      const targets = [
        [0, 0],
        [31, 0],
        [0, 31],
        [31, 31],
        [17, 9],
      ] as const;
      for (const [x, y] of targets) {
        const p = await cellCentre(page, id, x, y);
        await page.mouse.click(p.x, p.y);
      }
      for (const [x, y] of targets) expect((await pixel(page, id, x, y))[3], `cell ${x},${y} erased`).toBe(0);
      // Exactly those cells: a 0.6-cell brush at a cell centre clears that cell only.
      expect(await alive(page, id)).toBe(GRID * GRID - targets.length);
      // The outermost CSS pixel of the drawn grid still hits the edge cell.
      const edge = await page.evaluate((i) => {
        const canvas = window.harness.el(i).shadowRoot.querySelector('canvas');
        const box = canvas.getBoundingClientRect();
        const scale = Math.min(box.width / 32, box.height / 32);
        const left = box.left + (box.width - 32 * scale) / 2;
        return { x: left + 32 * scale - 0.2, y: box.top + 16.5 * scale, barX: box.left + 2, barY: box.top + 5 };
      }, id);
      await page.mouse.click(edge.x, edge.y);
      expect((await pixel(page, id, 31, 16))[3]).toBe(0);
      // A press in the letterbox bar changes nothing.
      await page.mouse.click(edge.barX, edge.barY);
      expect(await alive(page, id)).toBe(GRID * GRID - targets.length - 1);
    } finally {
      await context.close();
    }
  });
}

/** Runs `body` on a fresh page of a phone-like context (touch, DPR 2) with the harness open. */
async function onTouchPage(browser: Browser, body: (page: Page, context: BrowserContext) => Promise<void>): Promise<void> {
  const context = await browser.newContext({ hasTouch: true, isMobile: true, deviceScaleFactor: 2, viewport: { width: 400, height: 600 } });
  try {
    const page = await context.newPage();
    await openPage(page);
    await body(page, context);
  } finally {
    await context.close();
  }
}

test('touch: a tap erases (pointer events, not mouse events)', async ({ browser }) => {
  await onTouchPage(browser, async (page) => {
    const id = await mountLoaded(page, { src: FLOOD, paused: '', brush: '3' }, { style: 'width: 300px; height: 300px' });
    await fillGrid(page, id);
    const p = await cellCentre(page, id, 10, 20);
    await page.touchscreen.tap(p.x, p.y);
    expect(await alive(page, id, 10.5, 20.5, 2.9)).toBe(0);
  });
});

test('touch: a finger drag erases along its path without scrolling; with interaction="none" it scrolls', async ({ browser }) => {
  await onTouchPage(browser, async (page, context) => {
    const id = await mountLoaded(page, { src: FLOOD, paused: '', brush: '2' }, { style: 'width: 320px; height: 320px' });
    // Room to scroll: a vertical drag the element does not claim (touch-action) moves the page.
    await page.evaluate(() => {
      document.body.style.minHeight = '3000px';
    });
    await fillGrid(page, id);
    // Real touch input through the DevTools protocol (Playwright's touchscreen only taps).
    const cdp = await context.newCDPSession(page);
    const touch = (type: 'touchStart' | 'touchMove' | 'touchEnd', x: number, y: number): Promise<unknown> =>
      cdp.send('Input.dispatchTouchEvent', { type, touchPoints: type === 'touchEnd' ? [] : [{ x, y, id: 1 }] });
    const drag = async (): Promise<void> => {
      const from = await cellCentre(page, id, 16, 28);
      const to = await cellCentre(page, id, 16, 3);
      await touch('touchStart', from.x, from.y);
      for (let i = 1; i <= 8; i++) await touch('touchMove', from.x + ((to.x - from.x) * i) / 8, from.y + ((to.y - from.y) * i) / 8);
      await touch('touchEnd', to.x, to.y);
    };
    await drag();
    for (const y of [3, 10, 16, 22, 28]) expect(await alive(page, id, 16.5, y + 0.5, 1.5), `cells around 16,${y}`).toBe(0);
    expect(await alive(page, id, 4.5, 16.5, 2)).toBeGreaterThan(0);
    expect(await page.evaluate(() => window.scrollY)).toBe(0);

    await fillGrid(page, id);
    await setAttr(page, id, 'interaction', 'none');
    await drag();
    await expect.poll(() => page.evaluate(() => window.scrollY)).toBeGreaterThan(0);
    expect(await alive(page, id)).toBe(GRID * GRID);
  });
});

test('rapid clicks, and clicks during the load, never throw', async ({ page }) => {
  const held = await holdRequests(page, '**/models/flood.nca');
  const id = await mount(page, { src: FLOOD });
  await expect.poll(() => held.seen()).toBe(1);
  const box = (await page.locator(`#${id}`).boundingBox())!;
  for (let i = 0; i < 5; i++) await page.mouse.click(box.x + 10 + i * 20, box.y + 40);
  await page.keyboard.press('r');
  held.release();
  await waitForEvent(page, id, 'nca-load');
  for (let i = 0; i < 40; i++) await page.mouse.click(box.x + ((i * 37) % box.width), box.y + ((i * 53) % box.height), { delay: 0 });
  expect(await events(page, id, 'nca-error')).toHaveLength(0);
});

test('keyboard: focusable; Space toggles play, r resets, → steps while paused', async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD });
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement?.id)).toBe(id);
  await expect.poll(() => prop<number>(page, id, 'stepCount')).toBeGreaterThan(5);
  await page.keyboard.press(' ');
  expect(await prop(page, id, 'paused')).toBe(true);
  expect(await prop(page, id, 'playing')).toBe(false);
  const held = await prop<number>(page, id, 'stepCount');
  await frames(page, 10);
  expect(await prop(page, id, 'stepCount')).toBe(held);
  await page.keyboard.press('ArrowRight');
  expect(await prop(page, id, 'stepCount')).toBe(held + 1);
  await page.keyboard.press('Shift+ArrowRight');
  expect(await prop(page, id, 'stepCount')).toBe(held + 11);
  await page.keyboard.press('r');
  expect(await prop(page, id, 'stepCount')).toBe(0);
  expect(await alive(page, id)).toBe(1);
  await page.keyboard.press(' ');
  expect(await prop(page, id, 'paused')).toBe(false);
  await expect.poll(() => prop<number>(page, id, 'stepCount')).toBeGreaterThan(0);
  // Ctrl+R is the browser's, not ours: no preventDefault, no reset (checked without reloading).
  const prevented = await page.evaluate((i) => {
    const event = new KeyboardEvent('keydown', { key: 'r', ctrlKey: true, bubbles: true, cancelable: true });
    window.harness.el(i).dispatchEvent(event);
    return event.defaultPrevented;
  }, id);
  expect(prevented).toBe(false);
});

test('methods: pause, play, step, reset, damage, plant, snapshot, snapshotBlob', async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD });
  await call(page, id, 'pause');
  expect(await page.locator(`#${id}`).getAttribute('paused')).toBe('');
  await call(page, id, 'reset');
  expect(await prop(page, id, 'stepCount')).toBe(0);
  await call(page, id, 'step', 120);
  expect(await prop(page, id, 'stepCount')).toBe(120);
  expect(await alive(page, id)).toBe(GRID * GRID);
  await call(page, id, 'damage', 16, 16, 6);
  expect(await alive(page, id, 16, 16, 5.9)).toBe(0);
  await call(page, id, 'plant', 16, 16);
  expect((await pixel(page, id, 16, 16))[3]).toBeGreaterThan(200);
  const image = await page.evaluate((i) => {
    const data = window.harness.el(i).snapshot();
    return { width: data.width, height: data.height, isImageData: data instanceof ImageData };
  }, id);
  expect(image).toEqual({ width: GRID, height: GRID, isImageData: true });
  const png = await page.evaluate(async (i) => {
    const blob = await window.harness.el(i).snapshotBlob();
    return { type: blob.type, head: Array.from(new Uint8Array(await blob.arrayBuffer()).slice(0, 8)) };
  }, id);
  expect(png.type).toBe('image/png');
  expect(png.head).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  await call(page, id, 'play');
  expect(await page.locator(`#${id}`).getAttribute('paused')).toBeNull();
  await expect.poll(() => prop<number>(page, id, 'stepCount')).toBeGreaterThan(120);
});

test('nca-step: throttled to at most 4 per second, with stepCount and steps/s', async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD });
  await waitForEvent(page, id, 'nca-step', 6);
  const steps = await events(page, id, 'nca-step');
  // The throttle runs on the dispatch clock, so every gap a listener sees is at least 250 ms
  // (less 1 ms: the listener's performance.now() is a separate reading from the element's).
  const rate = ((steps.length - 1) * 1000) / (steps.at(-1)!.t - steps[0]!.t);
  expect(rate).toBeLessThanOrEqual(4.2);
  for (let i = 1; i < steps.length; i++) {
    expect(steps[i]!.t - steps[i - 1]!.t).toBeGreaterThanOrEqual(249);
    expect(steps[i]!.detail.stepCount).toBeGreaterThan(steps[i - 1]!.detail.stepCount);
  }
  expect(steps.at(-1)!.detail.stepsPerSecond).toBeGreaterThan(0);
  // Events bubble and are composed: one listener on document hears every element.
  const heard = await page.evaluate(
    (i) =>
      new Promise<string>((resolve) => {
        document.addEventListener('nca-step', (e) => resolve((e.target as Element).id), { once: true });
        void i;
      }),
    id,
  );
  expect(heard).toBe(id);
});
