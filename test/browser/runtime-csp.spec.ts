/**
 * The engine under `script-src 'self'` without 'unsafe-eval' or 'wasm-unsafe-eval' (RELIABILITY
 * 17), from a script file of a page served with that header: auto mode must pick a backend that
 * needs no eval (GL or WebGPU), having skipped webasm and cpu with the policy as the reason, and
 * a request for cpu must fail with that reason instead of an uncaught exception.
 */
import { expect, test } from '@playwright/test';

interface CspResult {
  chosen?: string;
  skipped?: Array<{ backend: string; reason: string }>;
  maxDiff?: number;
  painted?: number;
  cpuError?: { code: string; reasons: string[] };
  error?: string;
}

test('strict CSP: auto picks an eval-free backend; webasm and cpu are skipped naming the policy', async ({ page }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  const response = await page.goto('/test/browser/pages/runtime/csp.csp.html');
  expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
  const out = page.locator('#result');
  await expect(out).toHaveAttribute('data-done', 'true', { timeout: 60_000 });
  const result = JSON.parse((await out.textContent()) ?? '{}') as CspResult;
  console.log(`[runtime-csp] chosen ${result.chosen}; skipped: ${(result.skipped ?? []).map((s) => `${s.backend}: ${s.reason}`).join(' | ')}`);
  expect(result.error).toBeUndefined();
  expect(['webgpu', 'webgl2', 'webgl']).toContain(result.chosen);
  const reasons = Object.fromEntries((result.skipped ?? []).map((s) => [s.backend, s.reason]));
  expect(reasons['webasm']).toMatch(/wasm-unsafe-eval/);
  expect(reasons['cpu']).toMatch(/unsafe-eval/);
  expect(result.maxDiff).toBeLessThan(1e-5);
  expect(result.painted).toBeGreaterThan(0);
  expect(result.cpuError?.code).toBe('no-backend');
  expect(result.cpuError?.reasons.join(' ')).toMatch(/Content-Security-Policy/);
  expect(pageErrors).toEqual([]);
});
