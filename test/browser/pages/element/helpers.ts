/**
 * Shared helpers for the `<nca-canvas>` specs (test/browser/element-*.spec.ts). They drive the
 * page-side harness (harness.js) through `page.evaluate` and wait on conditions, never sleeps.
 */
import { test as base, expect, type Page } from '@playwright/test';

export const PAGE = '/test/browser/pages/element/basic.html';
export const MODELS = '/test/browser/pages/element/models';
export const FLOOD = `${MODELS}/flood.nca`;
export const FLOOD_IMAGE = `${MODELS}/flood-image.nca`;
export const DIES = `${MODELS}/dies.nca`;
export const GRID = 32;

export interface LoggedEvent {
  readonly type: 'nca-load' | 'nca-error' | 'nca-backend' | 'nca-step';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from the page
  readonly detail: any;
  readonly t: number;
  readonly connected: boolean;
}

export interface MountOptions {
  readonly style?: string;
  readonly append?: boolean;
  /** Children of the element (fallback content). */
  readonly html?: string;
}

interface Harness {
  mount(attributes?: Record<string, string>, options?: MountOptions & { parent?: string }): string;
  record(id: string): void;
  events(id: string, type?: string): LoggedEvent[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the element (typed in the bundle, not here)
  el(id: string): any;
  remove(id: string): void;
  reinsert(id: string, parent?: string): void;
  frames(n: number): Promise<void>;
  alive(id: string, x?: number, y?: number, r?: number): number;
  pixel(id: string, x: number, y: number): number[];
  cellCentre(id: string, x: number, y: number): { x: number; y: number };
  fallbackVisible(id: string): boolean;
  canvasVisible(id: string): boolean;
}

declare global {
  interface Window {
    harness: Harness;
  }
}

/** Every test fails on an uncaught exception or unhandled rejection in the page. */
export const test = base.extend<{ pageErrors: string[]; consoleWarnings: string[] }>({
  pageErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(`${error.name}: ${error.message}`));
      await use(errors);
      expect(errors, 'uncaught exceptions in the page').toEqual([]);
    },
    { auto: true },
  ],
  consoleWarnings: async ({ page }, use) => {
    const warnings: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'warning') warnings.push(message.text());
    });
    await use(warnings);
  },
});
export { expect };

export async function openPage(page: Page, path = PAGE): Promise<void> {
  await page.goto(path);
  await page.waitForFunction(() => window.harness !== undefined && customElements.get('nca-canvas') !== undefined);
}

export function mount(page: Page, attributes: Record<string, string>, options: MountOptions = {}): Promise<string> {
  return page.evaluate(([a, o]) => window.harness.mount(a, o), [attributes, options] as const);
}

export function events(page: Page, id: string, type?: LoggedEvent['type']): Promise<LoggedEvent[]> {
  return page.evaluate(([i, t]) => window.harness.events(i, t), [id, type] as const);
}

/** Waits until the element has fired `type` at least `count` times; returns that event. */
export async function waitForEvent(page: Page, id: string, type: LoggedEvent['type'], count = 1, timeout = 20_000): Promise<LoggedEvent> {
  await page.waitForFunction(([i, t, c]) => window.harness.events(i, t).length >= c, [id, type, count] as const, { timeout });
  const list = await events(page, id, type);
  return list[count - 1]!;
}

/** Mounts and waits for nca-load. */
export async function mountLoaded(page: Page, attributes: Record<string, string>, options: MountOptions = {}): Promise<string> {
  const id = await mount(page, attributes, options);
  await waitForEvent(page, id, 'nca-load');
  return id;
}

export function prop<T = unknown>(page: Page, id: string, name: string): Promise<T> {
  return page.evaluate(([i, n]) => window.harness.el(i)[n], [id, name] as const) as Promise<T>;
}

export function call<T = unknown>(page: Page, id: string, method: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(([i, m, a]) => window.harness.el(i)[m](...a), [id, method, args] as const) as Promise<T>;
}

export function setAttr(page: Page, id: string, name: string, value: string | null): Promise<void> {
  return page.evaluate(
    ([i, n, v]) => {
      const el = window.harness.el(i);
      if (v === null) el.removeAttribute(n);
      else el.setAttribute(n, v);
    },
    [id, name, value] as const,
  );
}

export function alive(page: Page, id: string, x?: number, y?: number, r?: number): Promise<number> {
  return page.evaluate(([i, a, b, c]) => window.harness.alive(i, a, b, c), [id, x, y, r] as const);
}

export function pixel(page: Page, id: string, x: number, y: number): Promise<number[]> {
  return page.evaluate(([i, a, b]) => window.harness.pixel(i, a, b), [id, x, y] as const);
}

export function frames(page: Page, n: number): Promise<void> {
  return page.evaluate((count) => window.harness.frames(count), n);
}

/** Steps until every cell is alive (the flood model fills its 32x32 grid well within 120 steps). */
export async function fillGrid(page: Page, id: string): Promise<void> {
  await call(page, id, 'step', 120);
  expect(await alive(page, id)).toBe(GRID * GRID);
}

export function cellCentre(page: Page, id: string, x: number, y: number): Promise<{ x: number; y: number }> {
  return page.evaluate(([i, a, b]) => window.harness.cellCentre(i, a, b), [id, x, y] as const);
}

/** Holds every request matching `pattern` until `release()` is called. */
export async function holdRequests(page: Page, pattern: string): Promise<{ release: () => void; seen: () => number }> {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let seen = 0;
  await page.route(pattern, async (route) => {
    seen++;
    await gate;
    await route.continue().catch(() => undefined); // the page may have aborted it meanwhile
  });
  return { release, seen: () => seen };
}
