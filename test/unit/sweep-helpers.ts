/**
 * What the sweep tests share: a real redis-server of their own (free loopback port, temp folder),
 * the CLI spawned as a user runs it, tiny sprites and the flags that make a job take seconds.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import sharp from 'sharp';

export const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'chick.png');

/** Why the Redis tests cannot run here, or undefined when they can. */
export const NO_REDIS: string | undefined =
  spawnSync('redis-server', ['--version']).status === 0 ? undefined : 'redis-server is not installed (apt-get install redis-server; .ci/run does)';

/**
 * A job of a few seconds: Distill's rule on an 8-pixel sprite in a 12x12 grid, one thread, one
 * curriculum level, a short eval. `iterations` sets how long it trains.
 */
export function tinyJobFlags(iterations: number, checkpointEvery = 10): string[] {
  return [
    // No pool and the seed start: the Distill rule's default pool of 1024 and growth's default crop
    // would make each tiny job's checkpoints a hundred times larger.
    '--task', 'growth', '--rule', 'distill', '--pool-size', '0', '--crop', '0', '--size', '8', '--grid', '12', '--batch', '2', '--levels', '1',
    '--iterations', String(iterations), '--checkpoint-every', String(checkpointEvery), '--preview-every', '0',
    '--threads', '1', '--backend', 'wasm', '--eval-steps', '20', '--eval-long', '0', '--eval-heal-steps', '0',
  ];
}

/** Two distinct sprites (the chick and its mirror image) and one file that is not an image. */
export async function writeSprites(folder: string): Promise<{ a: string; b: string; bad: string }> {
  await mkdir(folder, { recursive: true });
  const a = join(folder, 'chick.png');
  const b = join(folder, 'mirror.png');
  const bad = join(folder, 'broken.png');
  await sharp(FIXTURE).toFile(a);
  await sharp(FIXTURE).flop().toFile(b);
  await import('node:fs/promises').then((fs) => fs.writeFile(bad, 'this is not a PNG'));
  return { a, b, bad };
}

export interface Spawned {
  readonly child: ChildProcess;
  /** stdout + stderr so far. */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  readonly exited: Promise<number | string>;
}

/** `nca <args>` from the sources, as `npm run nca` runs it. */
export function nca(args: readonly string[]): Spawned {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'trainer', 'cli', 'main.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('close', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, output: () => text, exited };
}

/** Runs `nca <args>` to the end; rejects after `timeoutMs` with what it printed. */
export async function ncaRun(args: readonly string[], timeoutMs = 120_000): Promise<{ code: number | string; output: string }> {
  const run = nca(args);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  const code = await run.exited;
  clearTimeout(timer);
  return { code, output: run.output() };
}

/**
 * Polls `check` (every 100 ms) until it returns a value; after `timeoutMs` throws, naming `what`
 * and showing what the processes watched printed.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, watched: readonly Spawned[] = []): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${watched.map((p) => p.output()).join('\n---\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface RedisServer {
  readonly url: string;
  stop(): Promise<void>;
}

/** A redis-server on a free loopback port, nothing saved to disk, its files in `folder`. */
export async function startRedis(folder: string): Promise<RedisServer> {
  await mkdir(folder, { recursive: true });
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', folder], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${log}`)), 15_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('close', () => reject(new Error(`redis-server exited:\n${log}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The pid in a worker name (`<host>-<pid>`). */
export function pidOf(worker: string): number {
  return Number(worker.slice(worker.lastIndexOf('-') + 1));
}
