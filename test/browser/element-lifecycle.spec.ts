/**
 * <nca-canvas>: live attributes, visibility, reduced motion, removal and re-insertion, many
 * elements, dying states and lost contexts (RELIABILITY 12-15, 18, 20).
 */
import {
  alive,
  call,
  DIES,
  events,
  expect,
  FLOOD,
  FLOOD_IMAGE,
  frames,
  holdRequests,
  MODELS,
  mount,
  mountLoaded,
  openPage,
  pixel,
  prop,
  setAttr,
  test,
  waitForEvent,
} from './pages/element/helpers.js';
import type { Page } from '@playwright/test';

test.beforeEach(async ({ page }) => {
  await openPage(page);
});

/** Steps per second measured in the page over `n` frames. */
function measureRate(page: Page, id: string, n = 60): Promise<number> {
  return page.evaluate(
    async ([i, count]) => {
      const el = window.harness.el(i);
      const s0 = el.stepCount;
      const t0 = performance.now();
      await window.harness.frames(count);
      return ((el.stepCount - s0) * 1000) / (performance.now() - t0);
    },
    [id, n] as const,
  );
}

test('paused stops and resumes stepping live', async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD });
  await expect.poll(() => prop<number>(page, id, 'stepCount')).toBeGreaterThan(3);
  await setAttr(page, id, 'paused', '');
  const held = await prop<number>(page, id, 'stepCount');
  await frames(page, 20);
  expect(await prop(page, id, 'stepCount')).toBe(held);
  await setAttr(page, id, 'paused', null);
  await expect.poll(() => prop<number>(page, id, 'stepCount')).toBeGreaterThan(held);
});

test('speed changes the rate live; a fraction is slow motion, 0 holds still', async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD, speed: '0.25', loop: '100000' });
  const slow = await measureRate(page, id);
  // 15 steps/s at 60 Hz; a busy machine drops frames (gaps up to 100 ms still count in full,
  // longer ones are not caught up), so the absolute rate only has an upper bound and the figure
  // checked is the ratio to speed 2 (8x), which frame drops scale alike.
  expect(slow).toBeGreaterThan(0);
  expect(slow).toBeLessThan(25);
  await setAttr(page, id, 'speed', '2');
  const fast = await measureRate(page, id);
  expect(fast / slow).toBeGreaterThan(3);
  expect(fast / slow).toBeLessThan(16);
  await setAttr(page, id, 'speed', '0');
  expect(await measureRate(page, id, 20)).toBe(0);
});

test('backend changes live: a new engine, nca-backend and nca-load again', async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD });
  await setAttr(page, id, 'backend', 'cpu');
  const backend = await waitForEvent(page, id, 'nca-backend', 2);
  expect(backend.detail.chosen).toBe('cpu');
  await waitForEvent(page, id, 'nca-load', 2);
  expect(await prop(page, id, 'status')).toBe('running');
});

test('start="url": the run starts from the image; start changes live', async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD, paused: '', start: `${MODELS}/red-square.png` });
  // 16x16 image with an 8x8 red square, centred on the 32x32 grid: cells 12..19.
  expect(await pixel(page, id, 16, 16)).toEqual([255, 0, 0, 255]);
  expect(await pixel(page, id, 12, 12)).toEqual([255, 0, 0, 255]);
  expect((await pixel(page, id, 11, 11))[3]).toBe(0);
  expect(await alive(page, id)).toBe(64);
  expect(await prop(page, id, 'stepCount')).toBe(0);
  await setAttr(page, id, 'start', 'seed');
  await expect.poll(() => alive(page, id)).toBe(1);
  expect(await events(page, id, 'nca-load')).toHaveLength(1); // a start change restarts, it does not reload
});

test('start="image" and the default use the embedded image; start="seed" overrides it', async ({ page }) => {
  const plain = await mountLoaded(page, { src: FLOOD_IMAGE, paused: '' });
  expect(await pixel(page, plain, 16, 16)).toEqual([255, 255, 255, 255]);
  const image = await mountLoaded(page, { src: FLOOD_IMAGE, paused: '', start: 'image' });
  expect(await pixel(page, image, 16, 16)).toEqual([255, 255, 255, 255]);
  const seed = await mountLoaded(page, { src: FLOOD_IMAGE, paused: '', start: 'seed' });
  expect(await alive(page, seed)).toBe(1);
});

test('a start image that fails is reported, and the model start runs', async ({ page }) => {
  const broken = await mount(page, { src: FLOOD, paused: '', start: `${MODELS}/not-an-image.png` });
  const error = await waitForEvent(page, broken, 'nca-error');
  expect(error.detail.type).toBe('format');
  await waitForEvent(page, broken, 'nca-load');
  expect(await alive(page, broken)).toBe(1);
  const missing = await mount(page, { src: FLOOD, paused: '', start: `${MODELS}/missing.png` });
  expect((await waitForEvent(page, missing, 'nca-error')).detail).toMatchObject({ type: 'load', cause: { status: 404 } });
  await waitForEvent(page, missing, 'nca-load');
});

test('freeze-frames holds the start before the rule runs', async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD, 'freeze-frames': '40' });
  await frames(page, 20);
  expect(await prop(page, id, 'stepCount')).toBe(0);
  await expect.poll(() => prop<number>(page, id, 'stepCount')).toBeGreaterThan(0);
});

test('off-screen: no steps until scrolled into view, and none after scrolling away', async ({ page }) => {
  await page.evaluate(() => {
    const spacer = document.createElement('div');
    spacer.style.height = '3000px';
    spacer.style.flexBasis = '100%';
    document.querySelector('#stage')!.append(spacer);
  });
  const id = await mountLoaded(page, { src: FLOOD });
  await frames(page, 30);
  expect(await prop(page, id, 'stepCount')).toBe(0);
  expect(await prop(page, id, 'playing')).toBe(false);
  await page.locator(`#${id}`).scrollIntoViewIfNeeded();
  await expect.poll(() => prop<number>(page, id, 'stepCount')).toBeGreaterThan(5);
  await page.evaluate(() => window.scrollTo(0, 0));
  await expect.poll(() => prop(page, id, 'playing')).toBe(false);
  const held = await prop<number>(page, id, 'stepCount');
  await frames(page, 20);
  expect(await prop(page, id, 'stepCount')).toBe(held);
});

test('a hidden document runs no steps', async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD });
  await expect.poll(() => prop<number>(page, id, 'stepCount')).toBeGreaterThan(2);
  // Headless pages are never really hidden; emulate the Page Visibility API the element reads.
  const setHidden = (hidden: boolean) =>
    page.evaluate((h) => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
      document.dispatchEvent(new Event('visibilitychange'));
    }, hidden);
  await setHidden(true);
  expect(await prop(page, id, 'playing')).toBe(false);
  const held = await prop<number>(page, id, 'stepCount');
  await frames(page, 20);
  expect(await prop(page, id, 'stepCount')).toBe(held);
  await setHidden(false);
  await expect.poll(() => prop<number>(page, id, 'stepCount')).toBeGreaterThan(held);
});

test('prefers-reduced-motion: reduce shows the start frame without autoplay; play() runs it', async ({ page }) => {
  await page.emulateMedia({ reducedMotion: 'reduce' });
  const id = await mountLoaded(page, { src: FLOOD });
  await frames(page, 30);
  expect(await prop(page, id, 'stepCount')).toBe(0);
  expect(await alive(page, id)).toBe(1);
  await page.keyboard.press('Tab');
  await page.keyboard.press('ArrowRight'); // stepping by hand is allowed
  expect(await prop(page, id, 'stepCount')).toBe(1);
  await call(page, id, 'play');
  await expect.poll(() => prop<number>(page, id, 'stepCount')).toBeGreaterThan(5);
  // Turning the preference on while running stops autoplay again.
  await page.emulateMedia({ reducedMotion: 'no-preference' });
  await page.emulateMedia({ reducedMotion: 'reduce' });
  await expect.poll(() => prop(page, id, 'playing')).toBe(false);
});

/** Wraps the element's engine.dispose so the page counts calls in window.__disposed. */
function spyOnDispose(page: Page, id: string): Promise<void> {
  return page.evaluate((i) => {
    const engine = window.harness.el(i).engine;
    const w = window as unknown as { __disposed: number };
    w.__disposed = 0;
    const dispose = engine.dispose.bind(engine);
    engine.dispose = () => {
      w.__disposed++;
      dispose();
    };
    engine.__marker = 'original';
  }, id);
}

const disposed = (page: Page) => page.evaluate(() => (window as unknown as { __disposed: number }).__disposed);

test('removal stops the loop, fires nothing, and frees the engine after a short delay', async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD });
  await expect.poll(() => prop<number>(page, id, 'stepCount')).toBeGreaterThan(2);
  await spyOnDispose(page, id);
  await page.evaluate((i) => window.harness.remove(i), id);
  expect(await prop(page, id, 'playing')).toBe(false);
  const held = await prop<number>(page, id, 'stepCount');
  await frames(page, 10);
  expect(await prop(page, id, 'stepCount')).toBe(held);
  await expect.poll(() => disposed(page), { timeout: 5000 }).toBe(1);
  expect(await prop(page, id, 'engine')).toBeUndefined();
  expect(await prop(page, id, 'status')).toBe('idle');
  expect((await events(page, id)).filter((e) => !e.connected)).toEqual([]);
  // Back in the document later: it loads again.
  await page.evaluate((i) => window.harness.reinsert(i), id);
  await waitForEvent(page, id, 'nca-load', 2);
});

test('re-insertion within the delay (a DOM move) keeps the engine and its state', async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD });
  await expect.poll(() => prop<number>(page, id, 'stepCount')).toBeGreaterThan(20);
  await spyOnDispose(page, id);
  const before = await prop<number>(page, id, 'stepCount');
  await page.evaluate((i) => {
    // Move it into another container, as a framework re-rendering a list would.
    const box = document.createElement('section');
    box.id = 'moved';
    document.body.append(box);
    window.harness.remove(i);
    window.harness.reinsert(i, '#moved');
  }, id);
  await frames(page, 90); // well past the 1 s release delay
  expect(await disposed(page)).toBe(0);
  expect(await page.evaluate((i) => window.harness.el(i).engine.__marker, id)).toBe('original');
  expect(await prop<number>(page, id, 'stepCount')).toBeGreaterThan(before);
  expect(await events(page, id, 'nca-load')).toHaveLength(1);
});

test('removal during a load: nothing fires, and re-insertion loads', async ({ page }) => {
  const held = await holdRequests(page, '**/models/flood.nca');
  const id = await mount(page, { src: FLOOD });
  await expect.poll(() => held.seen()).toBe(1);
  await page.evaluate((i) => window.harness.remove(i), id);
  held.release();
  await frames(page, 30);
  expect(await events(page, id)).toEqual([]);
  expect(await prop(page, id, 'engine')).toBeUndefined();
  await page.unroute('**/models/flood.nca');
  await page.evaluate((i) => window.harness.reinsert(i), id);
  await waitForEvent(page, id, 'nca-load');
});

test('20 elements on one page all animate, driven by one animation-frame loop', async ({ page }) => {
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) ids.push(await mount(page, { src: FLOOD, loop: '200' }, { style: 'width: 64px' }));
  for (const id of ids) await waitForEvent(page, id, 'nca-load');
  for (const id of ids) await expect.poll(() => prop<number>(page, id, 'stepCount')).toBeGreaterThan(0);
  const { requests, frameCount } = await page.evaluate(async () => {
    const original = window.requestAnimationFrame;
    let count = 0;
    const frameTimes = new Set<number>();
    window.requestAnimationFrame = (callback) => {
      count++;
      return original.call(window, (now) => {
        frameTimes.add(now);
        callback(now);
      });
    };
    await new Promise((resolve) => setTimeout(resolve, 500));
    window.requestAnimationFrame = original;
    return { requests: count, frameCount: frameTimes.size };
  });
  // One request per frame serves all twenty elements (twenty loops would make ~20 per frame).
  expect(frameCount).toBeGreaterThan(0);
  expect(requests).toBeLessThanOrEqual(frameCount + 1);
  const backends = new Set((await Promise.all(ids.map((id) => events(page, id, 'nca-load')))).map((e) => e[0]!.detail.backend));
  expect(backends.size).toBe(1);
});

test('20 elements on WebGL share the GPU: no "too many WebGL contexts", all animate', async ({ page }) => {
  const contextWarnings: string[] = [];
  page.on('console', (message) => {
    if (/too many active webgl contexts|context lost/i.test(message.text())) contextWarnings.push(message.text());
  });
  const probe = await mount(page, { src: FLOOD, backend: 'webgl2', paused: '' });
  await page.waitForFunction((i) => window.harness.events(i).some((e) => e.type === 'nca-load' || e.type === 'nca-error'), probe);
  const unavailable = (await events(page, probe, 'nca-error'))[0];
  if (unavailable !== undefined) console.log(`skipped: webgl2 unavailable here: ${JSON.stringify(unavailable.detail.cause)}`);
  test.skip(unavailable !== undefined, 'webgl2 is unavailable in this browser');
  // Slow motion: on a software GL (SwiftShader) every render is a GPU readback stall.
  test.setTimeout(120_000);
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) ids.push(await mount(page, { src: FLOOD, backend: 'webgl2', seed: String(i), speed: '0.1' }, { style: 'width: 48px' }));
  for (const id of ids) await waitForEvent(page, id, 'nca-load');
  for (const id of ids) await expect.poll(() => prop<number>(page, id, 'stepCount')).toBeGreaterThan(0);
  for (const id of ids) expect(await events(page, id, 'nca-error')).toEqual([]);
  expect(contextWarnings).toEqual([]);
});

test('a state that dies is reported (nca-error type state) and stops; loop restarts it', async ({ page }) => {
  const id = await mountLoaded(page, { src: DIES });
  const error = await waitForEvent(page, id, 'nca-error');
  expect(error.detail).toMatchObject({ type: 'state', cause: { name: 'NcaStateError', problem: 'dead' } });
  await expect.poll(() => prop(page, id, 'playing')).toBe(false);
  expect(await prop(page, id, 'status')).toBe('running'); // the (empty) frame is still shown
  // play() on a dead state starts over.
  await call(page, id, 'play');
  await waitForEvent(page, id, 'nca-error', 2);
  const looping = await mountLoaded(page, { src: DIES, loop: '' });
  await waitForEvent(page, looping, 'nca-error', 3);
  expect(await prop(page, looping, 'playing')).toBe(true);
});

test('a lost context pauses and reports; a restored one resumes', async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD });
  await expect.poll(() => prop<number>(page, id, 'stepCount')).toBeGreaterThan(2);
  // The engine reports context loss as an event (runtime/engine/types.ts); simulate one here so
  // the element's handling is tested on any backend. The engine's own WEBGL_lose_context handling
  // is tested with the engine.
  await page.evaluate((i) => {
    const engine = window.harness.el(i).engine;
    engine.dispatchEvent(new CustomEvent('context-lost', { detail: { backend: engine.backend } }));
  }, id);
  const error = await waitForEvent(page, id, 'nca-error');
  expect(error.detail.type).toBe('context-lost');
  expect(await prop(page, id, 'playing')).toBe(false);
  await page.evaluate((i) => {
    const engine = window.harness.el(i).engine;
    engine.dispatchEvent(new CustomEvent('context-restored', { detail: { backend: engine.backend } }));
  }, id);
  await expect.poll(() => prop(page, id, 'playing')).toBe(true);
});
