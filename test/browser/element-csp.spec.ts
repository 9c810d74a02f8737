/**
 * <nca-canvas> under `script-src 'self'` (no unsafe-eval, no wasm-unsafe-eval), served as a real
 * header by demo/server.ts for *.csp.html (RELIABILITY 17).
 */
import { events, expect, openPage, test } from './pages/element/helpers.js';

test('strict CSP: a backend that needs no eval runs, or a clear backend error names the policy', async ({ page }) => {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  await openPage(page, '/test/browser/pages/element/csp.csp.html');
  const hasWebGL = await page.evaluate(() => {
    const canvas = document.createElement('canvas');
    return canvas.getContext('webgl2') !== null || document.createElement('canvas').getContext('webgl') !== null;
  });
  await page.waitForFunction(() => window.harness.events('csp').some((e) => e.type === 'nca-load' || e.type === 'nca-error'), null, {
    timeout: 30_000,
  });
  const all = await events(page, 'csp');
  const load = all.find((e) => e.type === 'nca-load');
  const error = all.find((e) => e.type === 'nca-error');
  if (hasWebGL) {
    // This browser has WebGL: the element must run on it, not fail.
    expect(error, `no error expected, got ${JSON.stringify(error?.detail)}`).toBeUndefined();
    expect(['webgpu', 'webgl2', 'webgl']).toContain(load!.detail.backend);
    const backend = all.find((e) => e.type === 'nca-backend')!;
    expect(backend.detail.chosen).not.toBe('cpu');
  } else {
    // No WebGL here (e.g. headless without a GPU): no eval-free backend exists, so the element
    // must say so clearly and keep its fallback up.
    expect(load).toBeUndefined();
    expect(error!.detail.type).toBe('backend');
    const cause = error!.detail.cause as { message: string; skipped?: { backend: string; reason: string }[] };
    const explanation = [cause.message, ...(cause.skipped ?? []).map((s) => `${s.backend}: ${s.reason}`)].join('\n');
    expect(explanation).toMatch(/Content.Security.Policy|CSP|unsafe-eval/i);
    await expect(page.getByText('This sprite could not run here.')).toBeVisible();
  }
  // The element itself (Lit, the loader, the start image path) never needs eval.
  expect(violations.filter((v) => !/unsafe-eval|eval/i.test(v))).toEqual([]);
  expect(await page.evaluate(() => customElements.get('nca-canvas') !== undefined)).toBe(true);
});
