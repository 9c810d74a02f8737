/**
 * Planning a sweep without running it: --grid-search parsing, deterministic job ids, the store's
 * key checks and the CLI's refusals of bad input (exit 2, a typed error, nothing enqueued).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import { FLAGS as TRAIN_FLAGS, type Values as TrainValues } from '../../trainer/cli/train.js';
import { run } from '../../trainer/cli/sweep.js';
import { TrainerError } from '../../trainer/errors.js';
import { SweepError } from '../../trainer/sweep/errors.js';
import { parseGridSearch } from '../../trainer/sweep/grid-search.js';
import { planJobs, type SweepSprite } from '../../trainer/sweep/plan.js';
import { DirectoryStore } from '../../trainer/sweep/store.js';

const sprite = (path: string, sha256 = 'a'.repeat(64)): SweepSprite => ({ path, sha256, key: `targets/${sha256.slice(0, 24)}.png` });
const base = { task: 'healing', iterations: '50' } as TrainValues;

let folder: string;
before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'nca-sweep-plan-'));
});
after(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('--grid-search', () => {
  it('takes key=v1,v2 flags and JSON files, as a cartesian product', async () => {
    assert.deepEqual(await parseGridSearch([], TRAIN_FLAGS), [{}]);
    assert.deepEqual(await parseGridSearch(['lr=0.001,0.002', 'seed=1,2'], TRAIN_FLAGS), [
      { lr: '0.001', seed: '1' },
      { lr: '0.001', seed: '2' },
      { lr: '0.002', seed: '1' },
      { lr: '0.002', seed: '2' },
    ]);
    const file = join(folder, 'grid.json');
    await writeFile(file, JSON.stringify({ lr: [0.001, 0.002], rule: ['essay'] }));
    assert.deepEqual(await parseGridSearch([file], TRAIN_FLAGS), [
      { lr: '0.001', rule: 'essay' },
      { lr: '0.002', rule: 'essay' },
    ]);
  });

  it('names what is wrong', async () => {
    const bad = async (specs: string[], pattern: RegExp): Promise<void> =>
      assert.rejects(parseGridSearch(specs, TRAIN_FLAGS), (e: unknown) => e instanceof SweepError && e.code === 'bad-grid-search' && pattern.test(e.message));
    await bad(['learning=1,2'], /"learning" is not an nca train flag/);
    await bad(['target=a.png'], /--target is set by the sweep/);
    await bad(['pool=1'], /switch/);
    await bad(['lr=0.1,'], /key=v1,v2/);
    await bad(['lr=0.1', 'lr=0.2'], /given twice/);
    await bad(['lr=0.1,0.1'], /repeats/);
    await bad([join(folder, 'missing.json')], /cannot be read/);
    const notJson = join(folder, 'not.json');
    await writeFile(notJson, '{lr: [1]');
    await bad([notJson], /not JSON/);
    const notArrays = join(folder, 'scalar.json');
    await writeFile(notArrays, '{"lr": 0.1}');
    await bad([notArrays], /non-empty array/);
  });
});

describe('planJobs', () => {
  it('gives every job an id from what it computes, stable across runs', () => {
    const combos = [{ lr: '0.001' }, { lr: '0.002' }];
    const first = planJobs([sprite('sprites/chick.png')], base, combos, {});
    const again = planJobs([sprite('elsewhere/chick.png')], base, combos, {});
    assert.deepEqual(first.map((j) => j.id), again.map((j) => j.id), 'same bytes and options, same ids');
    assert.equal(new Set(first.map((j) => j.id)).size, 2);
    assert.deepEqual(first.map((j) => j.name), ['chick.lr-0.001', 'chick.lr-0.002']);
    for (const job of first) {
      // BullMQ refuses custom ids with ':' or that parse as integers.
      assert.doesNotMatch(job.id, /:/);
      assert.notEqual(String(Number.parseInt(job.id, 10)), job.id);
    }
    const threads = planJobs([sprite('sprites/chick.png')], { ...base, threads: '7' }, combos, {});
    assert.deepEqual(threads.map((j) => j.id), first.map((j) => j.id), 'threads do not change what a job computes');
    const other = planJobs([sprite('sprites/chick.png', 'b'.repeat(64))], base, combos, {});
    assert.notDeepEqual(other.map((j) => j.id), first.map((j) => j.id), 'other pixels, other jobs');
    const evaluated = planJobs([sprite('sprites/chick.png')], base, combos, { longSteps: 0 });
    assert.notDeepEqual(evaluated.map((j) => j.id), first.map((j) => j.id));
  });

  it('refuses a bad option with the trainer\'s typed error before anything runs', () => {
    assert.throws(() => planJobs([sprite('a.png')], base, [{ lr: 'fast' }], {}), (e: unknown) => e instanceof TrainerError && e.code === 'bad-option' && /--lr/.test(e.message));
    assert.throws(() => planJobs([sprite('a.png')], { ...base, task: 'dance' }, [{}], {}), (e: unknown) => e instanceof TrainerError && /unknown task/.test(e.message));
  });

  it('keeps both of two sprites with one name in two folders', () => {
    const jobs = planJobs([sprite('a/chick.png'), sprite('b/chick.png', 'c'.repeat(64))], base, [{}], {});
    assert.equal(new Set(jobs.map((j) => j.name)).size, 2);
  });
});

describe('DirectoryStore', () => {
  it('keeps keys inside its folder', async () => {
    const store = new DirectoryStore(join(folder, 'store'));
    await store.writeText('jobs/x/result.json', '{}');
    assert.equal(await store.readText('jobs/x/result.json'), '{}');
    assert.equal(await store.readText('jobs/y/result.json'), undefined);
    for (const key of ['../outside', '/etc/passwd', 'jobs/../../outside', '']) {
      await assert.rejects(store.writeText(key, 'x'), (e: unknown) => e instanceof SweepError && e.code === 'bad-store');
    }
  });
});

describe('nca sweep refuses bad input with exit 2', () => {
  const runQuietly = async (argv: string[]): Promise<{ code: number; errors: string }> => {
    const error = mock.method(console, 'error', () => undefined);
    try {
      const code = await run(argv);
      return { code, errors: error.mock.calls.map((c) => String(c.arguments[0])).join('\n') };
    } finally {
      error.mock.restore();
    }
  };

  it('names the problem', async () => {
    const store = join(folder, 'cli-store');
    const cases: [string[], RegExp][] = [
      [['--task', 'healing', '--store', store], /no sprites given/],
      [[join(folder, 'missing.png'), '--task', 'healing', '--store', store], /\[sprite-missing\]: cannot read sprite .*no such file/],
      [[join(folder, 'x.png'), '--task', 'healing', '--queue', 'http://host:6379', '--store', store], /\[bad-queue-url\]/],
      [[join(folder, 'x.png'), '--task', 'healing', '--queue', 'redis://127.0.0.1:6379'], /--queue needs --store/],
      [[join(folder, 'x.png'), '--task', 'healing', '--grid-search', 'nope=1', '--store', store], /\[bad-grid-search\]/],
      [[join(folder, 'x.png'), '--task', 'healing', '--target', 'y.png'], /Unknown option '--target'/],
      [['status'], /status needs --queue/],
    ];
    for (const [argv, pattern] of cases) {
      const { code, errors } = await runQuietly(argv);
      assert.equal(code, 2, `${argv.join(' ')}: ${errors}`);
      assert.match(errors, pattern);
    }
  });

  it('says when Redis does not answer', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 1));
      });
    });
    const { code, errors } = await runQuietly(['status', '--queue', `redis://127.0.0.1:${port}`]);
    assert.equal(code, 2);
    assert.match(errors, /\[queue-unreachable\]: no Redis answers at redis:\/\/127\.0\.0\.1/);
  });
});

describe('module loading', () => {
  /**
   * Every module `entry` imports statically (import ... from), recursively, within the repository;
   * type-only imports are erased and do not count.
   */
  async function staticImports(entry: string, seen = new Set<string>()): Promise<Set<string>> {
    if (seen.has(entry)) return seen;
    seen.add(entry);
    const source = await readFile(entry, 'utf8');
    for (const match of source.matchAll(/^(?:import|export)\s(?!type\s)[^;]*?from\s+'([^']+)'/gms)) {
      const specifier = match[1]!;
      if (!specifier.startsWith('.')) {
        seen.add(specifier);
        continue;
      }
      await staticImports(resolve(dirname(entry), specifier.replace(/\.js$/, '.ts')), seen);
    }
    return seen;
  }

  it('imports bullmq and ioredis only when a queue is used: never statically, so not for the local sweep, other commands or the runtime', async () => {
    const root = join(import.meta.dirname, '..', '..');
    for (const entry of ['trainer/cli/main.ts', 'trainer/cli/sweep.ts', 'trainer/cli/worker.ts', 'trainer/sweep/local.ts', 'trainer/sweep/queue.ts', 'runtime/format/index.ts']) {
      const loaded = await staticImports(join(root, entry));
      // NOTE: not even queue.ts: the built CLI is one file, where a static import loads for every command.
      assert.ok(!loaded.has('bullmq') && !loaded.has('ioredis'), `${entry} imports the queue's packages statically`);
    }
  });
});
