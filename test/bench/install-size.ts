/**
 * Install footprint: what `npm i nca-canvas` (and `npm i nca-canvas-trainer`) costs a user.
 *
 *   npm run build && npm run bench:install [-- --keep]
 *
 * Packs the repository's packages (`npm pack`, so exactly the published files), installs each
 * tarball into an empty temporary project the way a user would (`npm install --no-audit
 * --no-fund <tgz>`, dependencies from the registry), and prints per package: the installed size of
 * node_modules (the sum of file sizes), the number of packages, the largest ones, and whether
 * anything native or heavy arrived (a compiled `.node` file, tfjs, sharp, Dawn's `webgpu`, headless
 * `gl`). It then imports every `exports` entry of the element package in plain Node (SSR-safe
 * imports) and runs the trainer's `nca --help`.
 *
 * Should the trainer package ever depend on `nca-canvas` (the registry does not hold this
 * version), its probe installs both tarballs together, so its size is the whole tree a trainer
 * user gets. A benchmark prints, it does not assert: the size budget (<= 15 MB for the element package) is
 * read off the table and recorded in docs/performance.md.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';

const run = promisify(execFile);
const { values } = parseArgs({ options: { keep: { type: 'boolean', default: false } } });

const root = resolve(import.meta.dirname, '../..');
/** Names whose arrival means the install pulled a machine-learning stack or a native GPU binding. */
const HEAVY = /^(@tensorflow\/|sharp$|@img\/|webgpu$|gl$)/;

interface PackageInfo {
  readonly name: string;
  readonly bytes: number;
}

interface TreeReport {
  readonly bytes: number;
  readonly packages: PackageInfo[];
  readonly nativeFiles: string[];
}

async function treeBytes(dir: string, nativeFiles: string[]): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await treeBytes(path, nativeFiles);
    else if (entry.isFile()) {
      total += (await stat(path)).size;
      if (entry.name.endsWith('.node')) nativeFiles.push(path);
    }
  }
  return total;
}

/** Every installed package (nested node_modules included), with the bytes under its folder. */
async function listPackages(modules: string, into: PackageInfo[]): Promise<void> {
  if (!existsSync(modules)) return;
  for (const entry of await readdir(modules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === '.bin' || entry.name === '.cache') continue;
    const dirs = entry.name.startsWith('@')
      ? (await readdir(join(modules, entry.name))).map((name) => join(modules, entry.name, name))
      : [join(modules, entry.name)];
    for (const dir of dirs) {
      if (!existsSync(join(dir, 'package.json'))) continue;
      const name = (JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { name?: string }).name ?? dir;
      into.push({ name, bytes: await treeBytes(dir, []) });
      await listPackages(join(dir, 'node_modules'), into);
    }
  }
}

async function measure(project: string): Promise<TreeReport> {
  const modules = join(project, 'node_modules');
  const nativeFiles: string[] = [];
  const bytes = await treeBytes(modules, nativeFiles);
  const packages: PackageInfo[] = [];
  await listPackages(modules, packages);
  return { bytes, packages, nativeFiles: nativeFiles.map((file) => file.slice(modules.length + 1)) };
}

async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run('npm', args, { cwd, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** `npm pack` of the root package or of one workspace; returns the tarball's path. */
async function pack(dest: string, workspace?: string): Promise<string> {
  const args = ['pack', '--json', '--pack-destination', dest, ...(workspace ? ['--workspace', workspace] : [])];
  const [result] = JSON.parse(await npm(args, root)) as { filename: string; size: number; unpackedSize: number }[];
  if (!result) throw new Error(`npm pack ${workspace ?? '(root)'} printed no result`);
  return join(dest, result.filename);
}

async function probe(label: string, tarballs: string[], work: string): Promise<{ project: string; report: TreeReport }> {
  const project = await mkdtemp(join(work, `${label}-`));
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: `probe-${label}`, private: true, type: 'module' }));
  const started = performance.now();
  await npm(['install', '--no-audit', '--no-fund', ...tarballs], project);
  const seconds = (performance.now() - started) / 1000;
  const report = await measure(project);
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  const heavy = report.packages.filter((p) => HEAVY.test(p.name)).map((p) => p.name);
  console.log(`\n${label}: ${mb(report.bytes)} MB in node_modules, ${report.packages.length} packages (install ${seconds.toFixed(0)} s)`);
  console.log(`  native binaries (.node): ${report.nativeFiles.length ? report.nativeFiles.join(', ') : 'none'}`);
  console.log(`  tfjs / sharp / webgpu / gl: ${heavy.length ? [...new Set(heavy)].join(', ') : 'none'}`);
  console.log('  largest:');
  for (const p of [...report.packages].sort((a, b) => b.bytes - a.bytes).slice(0, 8)) {
    console.log(`    ${mb(p.bytes).padStart(6)} MB  ${p.name}`);
  }
  return { project, report };
}

/** Imports each `exports` subpath of an installed package in plain Node: SSR-safe or not. */
async function importEntries(project: string, name: string): Promise<void> {
  const manifest = JSON.parse(await readFile(join(project, 'node_modules', name, 'package.json'), 'utf8')) as {
    exports?: Record<string, unknown>;
  };
  for (const subpath of Object.keys(manifest.exports ?? { '.': null })) {
    if (subpath.endsWith('.json')) continue;
    const specifier = subpath === '.' ? name : `${name}/${subpath.slice(2)}`;
    try {
      await run(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(specifier)});`], { cwd: project });
      console.log(`  import('${specifier}') in Node: ok`);
    } catch (error) {
      console.log(`  import('${specifier}') in Node: FAILED\n${(error as { stderr?: string }).stderr ?? String(error)}`);
      process.exitCode = 1;
    }
  }
}

const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { name: string; workspaces?: string[] };
if (!existsSync(join(root, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
const work = await mkdtemp(join(tmpdir(), 'nca-install-'));
try {
  const element = await pack(work);
  const { project } = await probe(manifest.name, [element], work);
  await importEntries(project, manifest.name);

  const trainerDir = (manifest.workspaces ?? []).find((dir) => existsSync(join(root, dir, 'package.json')));
  if (trainerDir) {
    const trainer = await pack(work, trainerDir);
    const trainerManifest = JSON.parse(await readFile(join(root, trainerDir, 'package.json'), 'utf8')) as {
      name: string;
      dependencies?: Record<string, string>;
    };
    const needsElement = Object.hasOwn(trainerManifest.dependencies ?? {}, manifest.name);
    const { project: trainerProject } = await probe(trainerManifest.name, needsElement ? [element, trainer] : [trainer], work);
    const { stdout } = await run(join(trainerProject, 'node_modules/.bin/nca'), ['--help'], { cwd: trainerProject });
    console.log(`  nca --help: ${stdout.split('\n')[0]}`);
  } else {
    console.log('\n(no trainer workspace: the element package above carries the trainer and its CLI)');
    const { stdout } = await run(join(project, 'node_modules/.bin/nca'), ['--help'], { cwd: project }).catch(() => ({ stdout: 'not installed' }));
    console.log(`  nca --help: ${stdout.split('\n')[0]}`);
  }
} finally {
  if (values.keep) console.log(`\nkept ${work}`);
  else await rm(work, { recursive: true, force: true });
}
