// Builds the package entry points (ESM, dependencies external), the `nca` CLI for Node, and one
// self-contained browser file, dist/nca-canvas.js, that a page loads with <script type="module">.
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import commonjs from '@rollup/plugin-commonjs';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import typescript from '@rollup/plugin-typescript';

const hasElement = existsSync('component/index.ts');
const hasEngine = existsSync('runtime/index.ts');
const hasCli = existsSync('trainer/cli/main.ts');

const ts = () =>
  typescript({
    tsconfig: './tsconfig.json',
    include: ['runtime/**/*.ts', 'component/**/*.ts', 'trainer/**/*.ts'],
    // Declarations come from `tsc -p tsconfig.build.json` after rollup (see the build script).
    compilerOptions: { noEmit: false, declaration: false, sourceMap: true },
    noEmitOnError: true,
  });

const browserResolve = () => nodeResolve({ browser: true, exportConditions: ['browser', 'module', 'import', 'default'] });

/** Prints the gzip size of each emitted chunk so bundle growth is visible in every build. */
const sizeReport = () => ({
  name: 'size-report',
  writeBundle(options, bundle) {
    for (const [file, chunk] of Object.entries(bundle)) {
      if (chunk.type !== 'chunk') continue;
      const raw = Buffer.byteLength(chunk.code);
      const gz = gzipSync(chunk.code).length;
      console.log(`  ${options.dir ?? ''}${options.file ?? file}: ${(raw / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzip`);
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
}

export default config;
