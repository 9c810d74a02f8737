// Builds the package entry points (ESM, dependencies external), the `nca` CLI for Node, and one
// self-contained browser file, dist/nca-canvas.js, that a page loads with <script type="module">.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import commonjs from '@rollup/plugin-commonjs';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import esbuild from 'rollup-plugin-esbuild';

const hasElement = existsSync('component/index.ts');
const hasEngine = existsSync('runtime/index.ts');
const hasCli = existsSync('trainer/cli/main.ts');

// Rollup only transpiles (esbuild, honouring tsconfig's decorator settings); `npm run typecheck`
// and the declaration pass (`tsc -p tsconfig.build.json`) are where types are checked.
const ts = () => esbuild({ target: 'es2022', tsconfig: 'tsconfig.json', sourceMap: true });

const browserResolve = () => nodeResolve({ browser: true, exportConditions: ['browser', 'module', 'import', 'default'] });

/** Prints the gzip size of each emitted chunk so bundle growth is visible in every build. */
const sizeReport = () => ({
  name: 'size-report',
  writeBundle(options, bundle) {
    for (const [file, chunk] of Object.entries(bundle)) {
      if (chunk.type !== 'chunk') continue;
      const raw = Buffer.byteLength(chunk.code);
      const gz = gzipSync(chunk.code).length;
      console.log(`  ${options.file ?? join(options.dir ?? '', file)}: ${(raw / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzip`);
    }
  },
});

const libraryInputs = {
  format: 'runtime/format/index.ts',
  reference: 'runtime/reference/index.ts',
  ...(hasEngine ? { runtime: 'runtime/index.ts' } : {}),
  ...(hasElement ? { index: 'component/index.ts' } : {}),
};

const external = (id) => /^(lit|@lit\/|gpu\.js|node:)/.test(id);

const config = [
  {
    input: libraryInputs,
    external,
    output: { dir: 'dist', format: 'es', sourcemap: true, entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
    plugins: [browserResolve(), commonjs(), ts(), sizeReport()],
  },
  {
    // Until the element exists this file exposes the runtime, so a page can still run a model.
    input: hasElement ? 'component/index.ts' : hasEngine ? 'runtime/index.ts' : 'runtime/reference/index.ts',
    output: { file: 'dist/nca-canvas.js', format: 'es', sourcemap: true },
    plugins: [browserResolve(), commonjs(), ts(), terser({ format: { comments: false } }), sizeReport()],
  },
];

if (hasCli) {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  const deps = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]);
  config.push({
    input: 'trainer/cli/main.ts',
    external: (id) => id.startsWith('node:') || deps.has(id) || [...deps].some((d) => id.startsWith(`${d}/`)),
    output: { file: 'dist/nca.js', format: 'es', sourcemap: true, banner: '#!/usr/bin/env node', inlineDynamicImports: true },
    plugins: [nodeResolve({ preferBuiltins: true }), commonjs(), ts(), sizeReport()],
  });
  // The fused trainer's worker thread, loaded by dist/nca.js from next to itself (trainer/fused/parallel.ts).
  config.push({
    input: 'trainer/fused/worker.ts',
    external: (id) => id.startsWith('node:'),
    output: { file: 'dist/nca-fused-worker.js', format: 'es', sourcemap: true, inlineDynamicImports: true },
    plugins: [nodeResolve({ preferBuiltins: true }), ts(), sizeReport()],
  });
}

export default config;
