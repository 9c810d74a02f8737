/**
 * <nca-canvas>: role, accessible name and focus, checked with Playwright's role engine and with
 * Chromium's own accessibility tree (CDP), since the two are computed independently.
 */
import { expect, FLOOD, mount, mountLoaded, openPage, setAttr, test } from './pages/element/helpers.js';
import type { Page } from '@playwright/test';

test.beforeEach(async ({ page }) => {
  await openPage(page);
});

/** Role and name of the element as Chromium's accessibility tree has them. */
async function chromiumAxNode(page: Page, id: string): Promise<{ role: string; name: string; focusable: boolean }> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { root } = (await cdp.send('DOM.getDocument')) as { root: { nodeId: number } };
    const { nodeId } = (await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: `#${id}` })) as { nodeId: number };
    const { nodes } = (await cdp.send('Accessibility.getPartialAXTree', { nodeId, fetchRelatives: false })) as {
      nodes: { role?: { value: string }; name?: { value: string }; properties?: { name: string; value: { value: unknown } }[] }[];
    };
    const node = nodes[0]!;
    const focusable = node.properties?.find((p) => p.name === 'focusable')?.value.value === true;
    return { role: node.role?.value ?? '', name: node.name?.value ?? '', focusable };
  } finally {
    await cdp.detach();
  }
}

test('role img, named after the model, focusable', async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD, paused: '' });
  const img = page.getByRole('img', { name: 'Flood (test model)' });
  await expect(img).toBeVisible();
  await expect(img).toHaveAttribute('tabindex', '0');
  await expect(page.locator('#stage')).toMatchAriaSnapshot('- img "Flood (test model)"');
  expect(await chromiumAxNode(page, id)).toEqual({ role: 'image', name: 'Flood (test model)', focusable: true });
  await page.keyboard.press('Tab');
  await expect(img).toBeFocused();
});

test('alt names it (live); an author aria-label wins; a generic name while loading', async ({ page }) => {
  await page.route('**/flood.nca?never', () => undefined); // never answers
  const loading = await mount(page, { src: `${FLOOD}?never` });
  await expect(page.locator(`#${loading}`)).toHaveAccessibleName('Neural cellular automaton');

  const id = await mountLoaded(page, { src: FLOOD, alt: 'A blob that regrows when bitten', paused: '' });
  await expect(page.locator(`#${id}`)).toHaveAccessibleName('A blob that regrows when bitten');
  await setAttr(page, id, 'alt', 'Orange flood');
  await expect(page.getByRole('img', { name: 'Orange flood' })).toBeVisible();
  expect((await chromiumAxNode(page, id)).name).toBe('Orange flood');
  await setAttr(page, id, 'alt', null);
  await expect(page.locator(`#${id}`)).toHaveAccessibleName('Flood (test model)');

  const labelled = await mountLoaded(page, { src: FLOOD, 'aria-label': 'Author label', alt: 'ignored', paused: '' });
  await expect(page.locator(`#${labelled}`)).toHaveAccessibleName('Author label');
  await setAttr(page, labelled, 'alt', 'still ignored');
  await expect(page.locator(`#${labelled}`)).toHaveAccessibleName('Author label');
});

test("an author's role and tabindex are kept", async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD, tabindex: '-1', role: 'presentation', paused: '' });
  await expect(page.locator(`#${id}`)).toHaveAttribute('tabindex', '-1');
  await expect(page.locator(`#${id}`)).toHaveAttribute('role', 'presentation');
});

test('a visible focus indicator', async ({ page }) => {
  const id = await mountLoaded(page, { src: FLOOD, paused: '' });
  await page.keyboard.press('Tab');
  const outline = await page.locator(`#${id}`).evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline).not.toBe('none');
});
