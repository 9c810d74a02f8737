/**
 * <nca-canvas>: loading a model, the fallback, bad sources (RELIABILITY 11, 12, 21).
 * Pages and models: test/browser/pages/element/ (models from make-models.ts).
 */
import {
  alive,
  call,
  DIES,
  events,
  expect,
  FLOOD,
  FLOOD_IMAGE,
  GRID,
  holdRequests,
  MODELS,
  mount,
  mountLoaded,
  openPage,
  prop,
  setAttr,
  test,
  waitForEvent,
} from './pages/element/helpers.js';

test.beforeEach(async ({ page }) => {
  await openPage(page);
});

test('loads a model: nca-backend, then nca-load once the first frame is drawn', async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD, paused: '' });
  const all = await events(page, id);
  const order = all.filter((e) => e.type !== 'nca-step').map((e) => e.type);
  expect(order).toEqual(['nca-backend', 'nca-load']);
  const load = all.find((e) => e.type === 'nca-load')!;
  expect(load.detail).toMatchObject({ name: 'Flood (test model)', width: GRID, height: GRID });
  expect(load.detail.src).toMatch(/\/models\/flood\.nca$/);
  const backend = all.find((e) => e.type === 'nca-backend')!;
  expect(backend.detail.chosen).toBe(load.detail.backend);
  expect(Array.isArray(backend.detail.skipped)).toBe(true);
  for (const skipped of backend.detail.skipped) expect(typeof skipped.reason).toBe('string');
  expect(await prop(page, id, 'status')).toBe('running');
  // The first frame is already on the canvas: the seed cell.
  expect(await alive(page, id)).toBeGreaterThan(0);
  expect(await page.evaluate((i) => window.harness.canvasVisible(i), id)).toBe(true);
  expect(await page.evaluate((i) => window.harness.fallbackVisible(i), id)).toBe(false);
});

test('the fallback content shows while loading and hides once running', async ({ page }) => {
  const held = await holdRequests(page, '**/models/flood.nca');
  const id = await mount(page, { src: FLOOD }, { html: '<p slot="fallback">Loading a lizard…</p>' });
  await expect.poll(() => held.seen()).toBe(1);
  expect(await prop(page, id, 'status')).toBe('loading');
  await expect(page.getByText('Loading a lizard…')).toBeVisible();
  held.release();
  await waitForEvent(page, id, 'nca-load');
  await expect(page.getByText('Loading a lizard…')).toBeHidden();
});

test('grows: the rendered frame changes over steps', async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD, paused: '' });
  const start = await alive(page, id);
  await call(page, id, 'step', 10);
  const later = await alive(page, id);
  await call(page, id, 'step', 110);
  const full = await alive(page, id);
  expect(start).toBe(1);
  expect(later).toBeGreaterThan(start);
  expect(full).toBe(GRID * GRID);
  expect(await prop(page, id, 'stepCount')).toBe(120);
});

test('autoplays: steps run without calling step()', async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD });
  await expect.poll(() => prop<number>(page, id, 'stepCount')).toBeGreaterThan(10);
  expect(await prop(page, id, 'playing')).toBe(true);
});

const BAD_SOURCES = [
  { name: '404', file: 'missing.nca', type: 'load', check: { name: 'NcaLoadError', status: 404 } },
  { name: 'an HTML page served as the model', file: 'not-a-model.nca', type: 'format', check: { name: 'NcaFormatError', code: 'bad-magic' } },
  { name: 'a truncated download', file: 'truncated.nca', type: 'format', check: { name: 'NcaFormatError', code: 'length-mismatch' } },
] as const;

for (const bad of BAD_SOURCES) {
  test(`bad src (${bad.name}): nca-error type ${bad.type}, fallback visible, no nca-load`, async ({ page }) => {
    const id = await mount(page, { src: `${MODELS}/${bad.file}` }, { html: 'Sprite unavailable' });
    const error = await waitForEvent(page, id, 'nca-error');
    expect(error.detail.type).toBe(bad.type);
    expect(error.detail.cause).toMatchObject(bad.check);
    expect(await prop(page, id, 'status')).toBe('error');
    await expect(page.getByText('Sprite unavailable')).toBeVisible();
    expect(await page.evaluate((i) => window.harness.canvasVisible(i), id)).toBe(false);
    expect(await events(page, id, 'nca-load')).toHaveLength(0);
    // Methods on a failed element are harmless no-ops.
    expect(await call(page, id, 'snapshot')).toBeNull();
    await call(page, id, 'step', 5);
    await call(page, id, 'damage', 1, 1, 3);
  });
}

test('a network failure (connection refused) is a load error', async ({ page }) => {
  await page.route('**/models/flood.nca', (route) => route.abort('connectionrefused'));
  const id = await mount(page, { src: FLOOD });
  const error = await waitForEvent(page, id, 'nca-error');
  expect(error.detail.type).toBe('load');
  expect(await prop(page, id, 'status')).toBe('error');
  expect(await page.evaluate((i) => window.harness.fallbackVisible(i), id)).toBe(true);
});

test('src changed during a load: only the latest src renders', async ({ page }) => {
  const held = await holdRequests(page, '**/models/flood-image.nca');
  const id = await mount(page, { src: FLOOD_IMAGE, paused: '' });
  await expect.poll(() => held.seen()).toBe(1);
  await setAttr(page, id, 'src', DIES);
  await setAttr(page, id, 'src', FLOOD);
  const load = await waitForEvent(page, id, 'nca-load');
  expect(load.detail.src).toMatch(/\/flood\.nca$/);
  // Let the stale response arrive now; it must be dropped.
  held.release();
  await page.evaluate(() => window.harness.frames(30));
  const loads = await events(page, id, 'nca-load');
  expect(loads).toHaveLength(1);
  expect(await page.evaluate((i) => window.harness.el(i).model.metadata.name, id)).toBe('Flood (test model)');
  expect(await events(page, id, 'nca-error')).toHaveLength(0);
  // Changing src after a load replaces the model.
  await setAttr(page, id, 'src', FLOOD_IMAGE);
  const second = await waitForEvent(page, id, 'nca-load', 2);
  expect(second.detail.name).toBe('Flood from a ring (test model)');
});

test('removing src returns to idle and shows the fallback', async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD });
  await setAttr(page, id, 'src', null);
  await expect.poll(() => prop(page, id, 'status')).toBe('idle');
  expect(await prop(page, id, 'engine')).toBeUndefined();
  expect(await page.evaluate((i) => window.harness.fallbackVisible(i), id)).toBe(true);
});

test('invalid attribute values are warned about by name and never break the element', async ({ page, consoleWarnings }) => {
  const id = await mountLoaded(page, {
    src: FLOOD,
    backend: 'vulkan',
    speed: '-2',
    grid: '0',
    seed: 'abc',
    'fire-rate': '7',
    brush: '-1',
    interaction: 'poke',
    loop: 'often',
    'freeze-frames': '-4',
  });
  for (const attribute of ['backend', 'speed', 'grid', 'seed', 'fire-rate', 'brush', 'interaction', 'loop', 'freeze-frames']) {
    expect(consoleWarnings.some((w) => w.includes(`${attribute}=`)), `a warning names ${attribute}`).toBe(true);
  }
  expect(consoleWarnings.find((w) => w.includes('seed='))).toContain('"abc"');
  expect(await prop(page, id, 'status')).toBe('running');
  expect((await events(page, id, 'nca-load'))[0]!.detail.width).toBe(GRID); // grid 0 → the model's
  // A bad value set as a property is handled the same way.
  await page.evaluate((i) => (window.harness.el(i).speed = Number.NaN), id);
  await expect.poll(() => consoleWarnings.filter((w) => w.includes('speed=')).length).toBe(2);
});

test('the grid attribute sets the grid size', async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD, grid: '20x12', paused: '' });
  const load = (await events(page, id, 'nca-load'))[0]!;
  expect(load.detail).toMatchObject({ width: 20, height: 12 });
  expect(await page.evaluate((i) => window.harness.el(i).snapshot().width, id)).toBe(20);
});

test('loading the bundle twice (two copies of the package) does not throw', async ({ page }) => {
  await page.evaluate((url) => import(url), '/dist/nca-canvas.js?second-copy');
  const id = await mountLoaded(page, { src: FLOOD, paused: '' });
  expect(await prop(page, id, 'status')).toBe('running');
});
