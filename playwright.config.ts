import { existsSync } from 'node:fs';
import { defineConfig } from '@playwright/test';

/**
 * Browser tests drive an installed Chromium (Debian's by default); nothing is downloaded.
 * Point NCA_CHROMIUM at another Chromium/Chrome binary elsewhere.
 */
const chromium = process.env['NCA_CHROMIUM'] ?? '/usr/bin/chromium';
if (!existsSync(chromium)) {
  throw new Error(
    `No Chromium at ${chromium}. Install one (Debian/Ubuntu: \`apt-get install chromium\`) ` +
      'or set NCA_CHROMIUM to the path of a Chromium or Chrome binary.',
  );
}

const port = Number(process.env['NCA_TEST_PORT'] ?? 4173);

export default defineConfig({
  testDir: 'test/browser',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  workers: 2,
  reporter: [['list']],
  retries: 0,
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: 'chromium',
    launchOptions: {
      executablePath: chromium,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
        '--enable-unsafe-webgpu',
        '--enable-features=Vulkan',
      ],
    },
  },
  // The 50-element memory test loads both cores for a minute; run beside the timing-sensitive
  // lifecycle tests it made them flaky, so it runs alone, after everything else.
  projects: [
    { name: 'browser', testIgnore: /element-memory\.spec\.ts/ },
    { name: 'memory', testMatch: /element-memory\.spec\.ts/, dependencies: ['browser'] },
  ],
  webServer: {
    command: `node --import tsx demo/serve.ts --port ${port}`,
    url: `http://127.0.0.1:${port}/package.json`,
    reuseExistingServer: !process.env['CI'],
    stdout: 'ignore',
  },
});
