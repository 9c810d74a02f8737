/**
 * `npm run bench:runtime:browser`: the same table as runtime.bench.ts, measured in headless
 * Chromium (the Playwright config's binary and flags) on every backend, beside the reference step
 * in the same page. Needs the test page bundle: `rollup -c rollup.test.config.mjs` first.
 *
 *   node --import tsx test/bench/runtime-browser.bench.ts [--budget MS] [--only distill|essay] [--size 64|96]
 */
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { startServer } from '../../demo/server.js';
import { BENCH_CASES, formatTable, type BenchRow } from './runtime-measure.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const budget = Number(arg('budget') ?? 1500);
const only = arg('only');
const size = arg('size');
const cases = BENCH_CASES.filter((c) => (!only || c.rule === only) && (!size || c.size === Number(size)));
const root = fileURLToPath(new URL('../..', import.meta.url));
if (!existsSync(`${root}/test/browser/pages/runtime/dist/harness.js`)) {
  throw new Error('test/browser/pages/runtime/dist/harness.js is missing: run `rollup -c rollup.test.config.mjs` first');
}

const server = await startServer({ root, port: 0 });
const address = server.address();
const port = typeof address === 'object' && address !== null ? address.port : 0;
const executablePath = process.env['NCA_CHROMIUM'] ?? '/usr/bin/chromium';
// The flags of playwright.config.ts, so the backends are the ones the browser tests see.
const browser = await chromium.launch({
  executablePath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--enable-unsafe-webgpu', '--enable-features=Vulkan'],
});
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/test/browser/pages/runtime/harness.html`);
  await page.waitForFunction(() => document.documentElement.dataset['ready'] === 'true');
  console.log(`Chromium ${browser.version()} (headless), ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}; load average before: ${load()}`);
  const rows: BenchRow[] = [];
  for (const c of cases) {
    const caseRows = await page.evaluate(
      async ({ c, budget }) => {
        const { bench } = window.nca;
        const out = [await bench.measureReference(c, budget)];
        for (const backend of ['webgpu', 'webgl2', 'webgl'] as const) out.push(await bench.measureEngine(c, backend, {}, '', budget));
        out.push(await bench.measureEngine(c, 'webasm', { threads: true }, 'threads', budget));
        out.push(await bench.measureEngine(c, 'webasm', { threads: false }, '1 thread', budget));
        out.push(await bench.measureEngine(c, 'cpu', {}, '', budget));
        return out;
      },
      { c, budget },
    );
    console.error(caseRows.map((r) => `${r.rule} ${r.size} ${r.hidden} ${r.runner}: ${r.msPerStep?.toFixed(1) ?? '-'} ms`).join('\n'));
    rows.push(...caseRows);
  }
  console.log(formatTable(rows));
  console.log(`load average after: ${load()}`);
} finally {
  await browser.close();
  server.close();
}
