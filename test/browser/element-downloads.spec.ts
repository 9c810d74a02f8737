/**
 * <nca-canvas> downloads under hostile servers (issue 12, item 1; RELIABILITY 11): a body that
 * trickles forever ends in `timeout`, a declared or hidden huge length in `too-large` (the
 * connection is closed, not drained), a CORS refusal and a connection cut mid-body in `load`, a
 * tiny image that declares a huge bitmap in `too-large` before it is decoded. The fallback stays
 * visible in each. The servers are a second origin (pages/element/hostile-server.ts).
 */
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { DEFAULT_MAX_BYTES } from '../../component/fetch-limits.js';
import { events, expect, FLOOD, mount, openPage, prop, test, waitForEvent, type LoggedEvent } from './pages/element/helpers.js';
import { startHostileServer, type HostileServer } from './pages/element/hostile-server.js';

let server: HostileServer;

test.beforeAll(async () => {
  server = await startHostileServer(fileURLToPath(new URL('./pages/element/models/flood.nca', import.meta.url)));
});
test.afterAll(async () => {
  await server.close();
});
test.beforeEach(async ({ page }) => {
  await openPage(page);
});

const FALLBACK = 'Sprite unavailable';

/** Mounts with fallback content, waits for the first nca-error, and checks the element shows its fallback. */
async function failsWith(page: Page, attributes: Record<string, string>, type: string): Promise<LoggedEvent & { after: number }> {
  const start = await page.evaluate(() => performance.now());
  const id = await mount(page, attributes, { html: FALLBACK });
  const error = await waitForEvent(page, id, 'nca-error', 1, 40_000);
  expect(error.detail.type, JSON.stringify(error.detail.cause)).toBe(type);
  expect(await prop(page, id, 'status')).toBe('error');
  await expect(page.getByText(FALLBACK)).toBeVisible();
  expect(await page.evaluate((i) => window.harness.canvasVisible(i), id)).toBe(false);
  expect(await events(page, id, 'nca-load')).toHaveLength(0);
  return { ...error, after: error.t - start };
}

test('a src that trickles forever: nca-error timeout after load-timeout, fallback visible, connection closed', async ({ page }) => {
  const error = await failsWith(page, { src: `${server.origin}/trickle.nca`, 'load-timeout': '1500' }, 'timeout');
  expect(error.detail.cause).toMatchObject({ name: 'NcaTimeoutError', timeoutMs: 1500 });
  expect(error.after).toBeGreaterThanOrEqual(1400);
  expect(error.after).toBeLessThan(10_000);
  await expect.poll(() => server.sent.get('/trickle.nca')?.closedEarly).toBe(true);
});

test('a src that declares 2 GiB: nca-error too-large from the header, before the body is read', async ({ page }) => {
  const error = await failsWith(page, { src: `${server.origin}/declares-huge.nca` }, 'too-large');
  expect(error.detail.cause).toMatchObject({ name: 'NcaTooLargeError', unit: 'bytes', size: 2 ** 31, limit: DEFAULT_MAX_BYTES });
  // Refused at the header: no waiting for the trickle (the default timeout is 30 s).
  expect(error.after).toBeLessThan(10_000);
  await expect.poll(() => server.sent.get('/declares-huge.nca')?.closedEarly).toBe(true);
  expect(server.sent.get('/declares-huge.nca')!.bytes).toBeLessThan(1024 * 1024);
});

test('a src that hides a huge length: cut off at the default 16 MB cap, nca-error too-large', async ({ page }) => {
  const error = await failsWith(page, { src: `${server.origin}/hides-huge.nca` }, 'too-large');
  expect(error.detail.cause).toMatchObject({ name: 'NcaTooLargeError', unit: 'bytes', limit: DEFAULT_MAX_BYTES });
  expect(error.detail.cause.size).toBeUndefined();
  await expect.poll(() => server.sent.get('/hides-huge.nca')?.closedEarly).toBe(true);
  // The server was stopped well before its 256 MiB (what TCP buffers let through on top of 16 MB).
  expect(server.sent.get('/hides-huge.nca')!.bytes).toBeLessThan(64 * 1024 * 1024);
});

test('max-bytes changes the cap: a model over it is too-large, the same model under it loads (cross-origin, CORS allowed)', async ({ page }) => {
  const error = await failsWith(page, { src: `${server.origin}/model.nca`, 'max-bytes': '100' }, 'too-large');
  expect(error.detail.cause).toMatchObject({ name: 'NcaTooLargeError', unit: 'bytes', limit: 100 });
  const id = await mount(page, { src: `${server.origin}/model.nca`, 'max-bytes': '100000' });
  await waitForEvent(page, id, 'nca-load');
});

test('a cross-origin src without CORS: nca-error load, fallback visible', async ({ page }) => {
  await failsWith(page, { src: `${server.origin}/no-cors/model.nca` }, 'load');
});

test('a download cut off mid-body: nca-error load, fallback visible', async ({ page }) => {
  await failsWith(page, { src: `${server.origin}/cut-off.nca` }, 'load');
});

test('a start image declaring 30000x30000 pixels: too-large before decoding; the model start runs', async ({ page }) => {
  const id = await mount(page, { src: FLOOD, start: `${server.origin}/huge-image.png` });
  const error = await waitForEvent(page, id, 'nca-error');
  expect(error.detail.type).toBe('too-large');
  expect(error.detail.cause).toMatchObject({ name: 'NcaTooLargeError', unit: 'pixels', size: 30_000 * 30_000, limit: 4096 * 4096 });
  await waitForEvent(page, id, 'nca-load');
  expect(await prop(page, id, 'status')).toBe('running');
});
