// Bundles the scripts of the runtime's browser test pages (test/browser/pages/runtime/*.page.ts)
// into test/browser/pages/runtime/dist/<name>.js, self-contained (gpu.js included), so the pages
// can import engine internals the public bundles do not expose. Run: rollup -c rollup.test.config.mjs
import { readdirSync } from 'node:fs';
import commonjs from '@rollup/plugin-commonjs';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import esbuild from 'rollup-plugin-esbuild';

const dir = 'test/browser/pages/runtime';
const input = Object.fromEntries(
  readdirSync(dir)
    .filter((name) => name.endsWith('.page.ts'))
    .map((name) => [name.slice(0, -'.page.ts'.length), `${dir}/${name}`]),
);

export default {
  input,
  output: { dir: `${dir}/dist`, format: 'es', sourcemap: true, entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
  plugins: [
    nodeResolve({ browser: true, exportConditions: ['browser', 'module', 'import', 'default'] }),
    commonjs(),
    // Transpile only, like rollup.config.mjs; types are checked by `npm run typecheck`.
    esbuild({ target: 'es2022', tsconfig: 'tsconfig.json', sourceMap: true }),
  ],
};
