/**
 * Node-side helpers for the runtime specs (not bundled into the page: rollup.test.config.mjs
 * bundles only the page scripts, and this file imports nothing of the page at runtime).
 */
import { expect, type Page } from '@playwright/test';

export interface Comparison {
  readonly maxDiff: number;
  readonly over: number;
  readonly length: number;
}

export interface ParityResult {
  readonly rule: string;
  readonly backend: string;
  readonly renderer: string;
  readonly one: Comparison;
  readonly fifty: Comparison;
  readonly stepCount: number;
}

/** Opens the runtime harness page and waits until its script has run; fails on page errors. */
export async function openHarness(page: Page, path = '/test/browser/pages/runtime/harness.html'): Promise<void> {
  page.on('pageerror', (error) => {
    throw error;
  });
  await page.goto(path);
  await expect(page.locator('html')).toHaveAttribute('data-ready', 'true');
}
