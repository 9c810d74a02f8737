// Builds the element package's entry points twice (dist/ for browsers and bundlers, dist/node/ for
// Node, picked by the exports map's "node" condition), one self-contained browser file,
// dist/nca-canvas.js, that a page loads with <script type="module">, and the trainer package's
// `nca` CLI (trainer/dist/).
//
// NOTE: gpu.js is bundled into every output rather than left as a dependency: gpu.js 2.24.1 depends
// on `webgpu` (Dawn's Node binding, ~84 MB) that its own code never requires, and a dependent
// cannot drop a dependency's dependency (npm's `overrides` only apply in the root project). It is
// pinned, so a bundled copy is the same code a consumer would have installed (issue 15).
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
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

/**
 * Drops the text of bundled third-party files (gpu.js, acorn) from the source maps, keeping their
 * mappings and our own sources: gpu.js's source is ~1.2 MB per build, and three builds carry it,
 * which alone would put the installed package over its 15 MB budget (docs/performance.md).
 */
const dependencySourcesOut = () => ({
  name: 'dependency-sources-out',
  generateBundle(options, bundle) {
    for (const file of Object.values(bundle)) {
      if (file.type !== 'asset' || !file.fileName.endsWith('.map')) continue;
      const map = JSON.parse(String(file.source));
      if (!Array.isArray(map.sourcesContent)) continue;
      map.sourcesContent = map.sourcesContent.map((text, i) => (String(map.sources[i]).includes('node_modules/') ? null : text));
      file.source = JSON.stringify(map);
    }
  },
});

/**
 * Fails the trainer's build if it reaches into the runtime beyond its two public rooms (format and
 * reference): gpu.js, the engine or the element in the CLI bundle would be a wrong-way import
 * (../shared/STYLE.md) and would drag the browser runtime into the trainer package.
 */
const trainerBoundary = () => ({
  name: 'trainer-boundary',
  async resolveId(source, importer, options) {
    if (!importer || source.startsWith('\0')) return null;
    const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
    const id = resolved?.id ?? '';
    const runtimeDir = resolve('runtime') + '/';
    const allowed = [resolve('runtime/format') + '/', resolve('runtime/reference') + '/'];
    if (id.startsWith(runtimeDir) && !allowed.some((dir) => id.startsWith(dir))) {
      this.error(`trainer bundle: ${importer} imports ${source}, outside runtime/format and runtime/reference`);
    }
    if (source === 'gpu.js' || source === 'lit' || source.startsWith('lit/')) {
      this.error(`trainer bundle: ${importer} imports ${source}, which belongs to the element package`);
    }
    return resolved;
  },
});

const libraryInputs = {
  format: 'runtime/format/index.ts',
  reference: 'runtime/reference/index.ts',
  ...(hasEngine ? { runtime: 'runtime/index.ts' } : {}),
  ...(hasElement ? { index: 'component/index.ts' } : {}),
};

// lit stays a dependency: pages that use other Lit elements share one copy.
const external = (id) => /^(lit|@lit\/|node:)/.test(id);
const nodeBuiltins = new Set(builtinModules);

const config = [
  {
    // The browser build bundles gpu.js's browser file (its package.json "browser" field).
    input: libraryInputs,
    external,
    output: { dir: 'dist', format: 'es', sourcemap: true, entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
    plugins: [browserResolve(), commonjs(), ts(), dependencySourcesOut(), sizeReport()],
  },
  {
    // The Node build bundles gpu.js's CommonJS source (its "main"), which has the webasm worker
    // pool (node:worker_threads) and the cpu backend. gpu.js probes `require('os')` and the
    // optional headless `gl` inside try/catch, which @rollup/plugin-commonjs leaves as plain
    // `require` calls (ignoreTryCatch), so each chunk gets a real `require` from createRequire.
    input: libraryInputs,
    external: (id) => external(id) || nodeBuiltins.has(id),
    output: {
      dir: 'dist/node',
      format: 'es',
      sourcemap: true,
      entryFileNames: '[name].js',
      chunkFileNames: 'chunks/[name]-[hash].js',
      banner: "import { createRequire as __ncaCreateRequire } from 'node:module'; const require = __ncaCreateRequire(import.meta.url);",
    },
    plugins: [nodeResolve({ preferBuiltins: true }), commonjs(), ts(), dependencySourcesOut(), sizeReport()],
  },
  {
    // Until the element exists this file exposes the runtime, so a page can still run a model.
    input: hasElement ? 'component/index.ts' : hasEngine ? 'runtime/index.ts' : 'runtime/reference/index.ts',
    output: { file: 'dist/nca-canvas.js', format: 'es', sourcemap: true },
    plugins: [browserResolve(), commonjs(), ts(), terser({ format: { comments: false } }), dependencySourcesOut(), sizeReport()],
  },
];

if (hasCli) {
  // The trainer package (trainer/package.json): its dependencies stay external, everything else is
  // bundled, including the runtime's format and reference step (plain TypeScript, a few KiB). It
  // does not import them from `nca-canvas`: an npm workspace cannot depend on the workspace root
  // (npm looks `nca-canvas` up in the registry), so the repository could not install.
  const pkg = JSON.parse(readFileSync('trainer/package.json', 'utf8'));
  const deps = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]);
  config.push({
    input: 'trainer/cli/main.ts',
    external: (id) => id.startsWith('node:') || deps.has(id) || [...deps].some((d) => id.startsWith(`${d}/`)),
    output: { file: 'trainer/dist/nca.js', format: 'es', sourcemap: true, banner: '#!/usr/bin/env node', inlineDynamicImports: true },
    plugins: [trainerBoundary(), nodeResolve({ preferBuiltins: true }), commonjs(), ts(), sizeReport()],
  });
  // The fused trainer's worker thread, loaded by nca.js from next to itself (trainer/fused/parallel.ts).
  config.push({
    input: 'trainer/fused/worker.ts',
    external: (id) => id.startsWith('node:'),
    output: { file: 'trainer/dist/nca-fused-worker.js', format: 'es', sourcemap: true, inlineDynamicImports: true },
    plugins: [trainerBoundary(), nodeResolve({ preferBuiltins: true }), ts(), sizeReport()],
  });
}

export default config;
