/**
 * The demo's Home page (demo/index.html): three gallery models side by side, driven by one panel.
 * Waits on events and conditions (animation frames, step counts), never on fixed sleeps.
 */
import { expect, test, type Page } from '@playwright/test';

const HOME = '/demo/index.html';
const IDS = ['persistence', 'growth', 'healing'] as const;

interface Logged {
  readonly type: string;
  readonly id: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from the page
  readonly detail: any;
}

declare global {
  interface Window {
    __ncaEvents: Logged[];
  }
}

/** Console errors and uncaught exceptions of the page; the test fails on any. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.name}: ${error.message}`));
  return errors;
}

/** Records every element event from the start (they bubble to document). */
async function recordEvents(page: Page): Promise<void> {
  await page.addInitScript(() => {
    window.__ncaEvents = [];
    for (const type of ['nca-load', 'nca-error', 'nca-backend', 'nca-step']) {
      document.addEventListener(
        type,
        (event) => {
          const detail = (event as CustomEvent).detail ?? {};
          window.__ncaEvents.push({
            type,
            id: (event.target as Element).id,
            detail: type === 'nca-error' ? { type: detail.type, message: String(detail.cause?.message ?? detail.cause) } : JSON.parse(JSON.stringify(detail)),
          });
        },
        true,
      );
    }
  });
}

function count(page: Page, id: string, type: string): Promise<number> {
  return page.evaluate(([i, t]) => window.__ncaEvents.filter((e) => e.id === i && e.type === t).length, [id, type] as const);
}

function stepCount(page: Page, id: string): Promise<number> {
  return page.evaluate((i) => (document.getElementById(i) as unknown as { stepCount: number }).stepCount, id);
}

/** Resolves after n animation frames: time passing as a condition, not a sleep. */
function frames(page: Page, n: number): Promise<void> {
  return page.evaluate(
    (total) =>
      new Promise<void>((resolve) => {
        let left = total;
        const tick = () => (--left <= 0 ? resolve() : requestAnimationFrame(tick));
        requestAnimationFrame(tick);
      }),
    n,
  );
}

test.use({ viewport: { width: 1280, height: 1000 } });

test.beforeEach(async ({ page }) => {
  await recordEvents(page);
});

test('Home: three models run, and the panel pauses, steps, resets, changes speed, brush, interaction and backend', async ({ page }) => {
  const errors = watchErrors(page);
  const sprites = page.locator('main nca-canvas');
  const stepEvents = (id: string) => count(page, id, 'nca-step');

  await test.step('the three models load, animate and show their backend and speed', async () => {
    await page.goto(HOME);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('nca-canvas');
    await expect(page.locator('header .lede')).toContainText('neural cellular automaton');
    await expect(sprites).toHaveCount(3);
    // One wait in the page for all three (a software renderer keeps the page busy: few round trips).
    await page.waitForFunction((ids) => ids.every((id) => window.__ncaEvents.some((e) => e.id === id && e.type === 'nca-load')), [...IDS], { timeout: 30_000 });
    // Animating: nca-step events keep arriving (counted as events: a `loop` reset zeroes stepCount).
    const before = await Promise.all(IDS.map(stepEvents));
    await page.waitForFunction(
      ([ids, counts]) => ids.every((id, i) => window.__ncaEvents.filter((e) => e.id === id && e.type === 'nca-step').length > counts[i]!),
      [[...IDS], before] as const,
    );
    // The readouts: the backend each nca-backend event chose, and a live steps-per-second number.
    const readouts = await page.evaluate((ids) =>
      ids.map((id) => ({
        chosen: window.__ncaEvents.filter((e) => e.id === id && e.type === 'nca-backend').at(-1)?.detail.chosen,
        backend: document.querySelector(`[data-stats="${id}"] [data-backend]`)?.textContent,
        sps: document.querySelector(`[data-stats="${id}"] [data-sps]`)?.textContent,
      })),
      [...IDS],
    );
    for (const readout of readouts) {
      expect(readout.chosen).toMatch(/^(webgpu|webgl2|webgl|webasm|cpu)$/);
      expect(readout.backend).toBe(readout.chosen);
      expect(readout.sps).toMatch(/^\d+$/);
    }
    // The other pages are linked, the element page included.
    const links = await page.locator('nav a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(links).toEqual(expect.arrayContaining(['scenes.html', 'gallery.html', 'report.html', 'embed.html', 'element.html']));
  });

  await test.step('pause stops the step counts; step and reset work while paused', async () => {
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect(page.locator('#play-pause')).toHaveText('Play');
    for (const id of IDS) await expect(page.locator(`#${id}`)).toHaveAttribute('paused', '');
    // A batch of steps already in flight (webgpu, webasm) may still land: wait for the counts to settle.
    const counts = () => Promise.all(IDS.map((id) => stepCount(page, id)));
    let paused = await counts();
    for (let settled = false; !settled; ) {
      await frames(page, 5);
      const now = await counts();
      settled = now.every((n, i) => n === paused[i]);
      paused = now;
    }
    await frames(page, 15);
    expect(await Promise.all(IDS.map((id) => stepCount(page, id)))).toEqual(paused);
    for (const id of IDS) await expect(page.locator(`[data-stats="${id}"] [data-sps]`)).toHaveText('paused');

    await page.getByRole('button', { name: 'Step', exact: true }).click();
    await expect.poll(() => Promise.all(IDS.map((id) => stepCount(page, id)))).toEqual(paused.map((n) => n + 1));
    await page.getByRole('button', { name: 'Reset all' }).click();
    await expect.poll(() => Promise.all(IDS.map((id) => stepCount(page, id)))).toEqual([0, 0, 0]);
  });

  await test.step('speed: slow motion to fast', async () => {
    await page.getByLabel('Speed').fill('5');
    await expect(page.locator('#speed-out')).toHaveText('4×');
    for (const id of IDS) {
      await expect(page.locator(`#${id}`)).toHaveAttribute('speed', '4');
      expect(await page.evaluate((i) => (document.getElementById(i) as unknown as { speed: number }).speed, id)).toBe(4);
    }
    // Slow motion for the rest of the test (a software renderer runs these models at a few steps per second).
    await page.getByLabel('Speed').fill('0');
    await expect(page.locator('#speed-out')).toHaveText('0.1×');
    for (const id of IDS) await expect(page.locator(`#${id}`)).toHaveAttribute('speed', '0.1');
  });

  await test.step('brush and interaction change the elements', async () => {
    await page.getByLabel('Brush radius (cells)').fill('9');
    for (const id of IDS) await expect(page.locator(`#${id}`)).toHaveAttribute('brush', '9');
    await page.getByLabel('plants a seed').check();
    for (const id of IDS) await expect(page.locator(`#${id}`)).toHaveAttribute('interaction', 'seed');
    await page.getByLabel('does nothing').check();
    for (const id of IDS) await expect(page.locator(`#${id}`)).toHaveAttribute('interaction', 'none');
    await page.getByLabel('damages').check();
    await expect(sprites.and(page.locator('[interaction="damage"]'))).toHaveCount(3);
  });

  await test.step('backend select switches the backend: a new nca-backend arrives', async () => {
    const backendsBefore = await Promise.all(IDS.map((id) => count(page, id, 'nca-backend')));
    const loadsBefore = await Promise.all(IDS.map((id) => count(page, id, 'nca-load')));
    await page.getByLabel('Backend').selectOption('cpu');
    for (const [i, id] of IDS.entries()) {
      await expect(page.locator(`#${id}`)).toHaveAttribute('backend', 'cpu');
      await expect.poll(() => count(page, id, 'nca-backend'), { timeout: 30_000 }).toBeGreaterThan(backendsBefore[i]!);
      const last = await page.evaluate((n) => window.__ncaEvents.filter((e) => e.id === n && e.type === 'nca-backend').at(-1)!.detail.chosen, id);
      expect(last).toBe('cpu');
      await expect(page.locator(`[data-stats="${id}"] [data-backend]`)).toHaveText('cpu');
      await expect.poll(() => count(page, id, 'nca-load'), { timeout: 30_000 }).toBeGreaterThan(loadsBefore[i]!);
    }
    // Play resumes all three (in slow motion), now on the new backend.
    const stepsBefore = await Promise.all(IDS.map(stepEvents));
    await page.getByRole('button', { name: 'Play' }).click();
    await expect(page.locator('#play-pause')).toHaveText('Pause');
    await page.waitForFunction(
      ([ids, counts]) => ids.every((id, i) => window.__ncaEvents.filter((e) => e.id === id && e.type === 'nca-step').length > counts[i]!),
      [[...IDS], stepsBefore] as const,
    );
    await page.getByRole('button', { name: 'Pause' }).click();
  });

  expect(errors).toEqual([]);
});
