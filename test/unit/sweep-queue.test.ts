/**
 * `nca sweep --queue` and `nca worker` on a real Redis (a redis-server of the test's own) and real
 * BullMQ: two workers finish every job and a bad sprite fails alone; a re-run enqueues nothing; a
 * worker killed with SIGKILL mid-job loses nothing, the other resumes from its checkpoint.
 * Short lock and stalled intervals keep a dead worker's job waiting seconds, not a minute.
 */
import assert from 'node:assert/strict';
import { access, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { JobResult, JobSession } from '../../trainer/sweep/job.js';
import type { SweepIndex } from '../../trainer/sweep/sweep-index.js';
import type { StatusReport } from '../../trainer/sweep/status.js';
import { NO_REDIS, nca, ncaRun, pidOf, readJson, startRedis, tinyJobFlags, waitFor, writeSprites, type RedisServer, type Spawned } from './sweep-helpers.js';

// NOTE: the lock must outlast the longest stretch a loaded CI machine keeps a worker's event loop
// busy (module loading, the kernel's first compile), or a live worker's job stalls too.
const FAST_STALLS = ['--lock-seconds', '6', '--stalled-seconds', '1'];

describe('nca sweep on BullMQ', { skip: NO_REDIS }, () => {
  let folder: string;
  let redis: RedisServer;
  const workers: Spawned[] = [];
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'nca-sweep-queue-'));
    redis = await startRedis(join(folder, 'redis'));
  });
  after(async () => {
    for (const worker of workers) worker.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await redis?.stop();
    await rm(folder, { recursive: true, force: true });
  });

  /** Two workers, both polling the queue before the test enqueues (so both get work). */
  const startPair = async (store: string, queueName: string): Promise<Spawned[]> => {
    const pair = [0, 1].map(() => nca(['worker', '--queue', redis.url, '--queue-name', queueName, '--store', store, ...FAST_STALLS]));
    workers.push(...pair);
    await waitFor('both workers to connect', () => (pair.every((w) => /nca worker: worker \S+ on/.test(w.output())) ? true : undefined), 60_000, pair);
    return pair;
  };
  /** SIGTERM: an idle worker closes and exits 0. */
  const stop = async (running: readonly Spawned[]): Promise<void> => {
    for (const worker of running) worker.child.kill('SIGTERM');
    for (const worker of running) assert.equal(await worker.exited, 0, worker.output());
  };

  it('runs 4 jobs on 2 workers, fails the bad sprite alone, and a re-run enqueues nothing', async () => {
    const sprites = await writeSprites(join(folder, 'sprites'));
    const store = join(folder, 'store-grid');
    const out = join(folder, 'models-grid');
    const sweepArgs = ['sweep', sprites.a, sprites.b, sprites.bad, ...tinyJobFlags(20), '--grid-search', 'seed=1,2', '--queue', redis.url, '--queue-name', 'grid', '--store', store, '--out', out];
    const pair = await startPair(store, 'grid');
    const enqueued = await ncaRun([...sweepArgs, '--detach', '--json']);
    assert.equal(enqueued.code, 0, enqueued.output);
    assert.deepEqual(JSON.parse(enqueued.output.split('\n').find((l) => l.startsWith('{'))!), { jobs: 6, enqueued: 6, existing: 0 });

    const finished = await ncaRun([...sweepArgs, '--poll-seconds', '0.3']);
    // Exit 1: the bad sprite's two jobs failed; the sweep still finished the others.
    assert.equal(finished.code, 1, finished.output);
    assert.match(finished.output, /6 jobs: 0 enqueued, 6 already queued or finished/);

    const index = (await readJson<SweepIndex>(join(out, 'index.json')))!;
    const good = index.jobs.filter((job) => job.sprite !== sprites.bad);
    const bad = index.jobs.filter((job) => job.sprite === sprites.bad);
    assert.equal(good.length, 4);
    for (const job of good) {
      assert.equal(job.state, 'completed', JSON.stringify(job));
      assert.ok(job.verdict === 'pass' || job.verdict === 'fail');
      assert.equal(job.iterations, 20);
      assert.ok(job.model);
    }
    assert.equal(bad.length, 2);
    for (const job of bad) {
      assert.equal(job.state, 'failed');
      assert.equal(job.verdict, 'error');
      assert.match(job.reason ?? '', /not an image/);
    }
    // Both workers took jobs, each left the job's files in the store.
    const results = await Promise.all(good.map((job) => readJson<JobResult>(join(store, 'jobs', job.id, 'result.json'))));
    assert.equal(new Set(results.map((r) => r!.sessions[0]!.worker)).size, 2, 'both workers trained');
    for (const r of results) for (const file of [r!.model!, r!.summary!, r!.eval!]) assert.ok(await readJson(join(store, file)) !== undefined || file.endsWith('.nca'), file);

    const status = await ncaRun(['sweep', 'status', '--queue', redis.url, '--queue-name', 'grid', '--json']);
    assert.equal(status.code, 0, status.output);
    const report = JSON.parse(status.output) as StatusReport;
    assert.deepEqual(report.counts, { failed: 2, completed: 4 });
    for (const job of report.jobs.filter((j) => j.state === 'failed')) {
      assert.match(job.failedReason ?? '', /^\[target-not-image\]/);
      assert.equal(job.attemptsMade, 1, 'a bad sprite is not retried');
    }
    for (const job of report.jobs.filter((j) => j.state === 'completed')) assert.equal(job.progress?.iteration, 20, 'progress went through the queue');

    const again = await ncaRun([...sweepArgs, '--detach', '--json']);
    assert.deepEqual(JSON.parse(again.output.split('\n').find((l) => l.startsWith('{'))!), { jobs: 6, enqueued: 0, existing: 6 });
    await stop(pair);
  });

  it('resumes a job from its checkpoint on the other worker after kill -9 of its worker', async () => {
    const sprites = await writeSprites(join(folder, 'sprites-kill'));
    const store = join(folder, 'store-kill');
    const out = join(folder, 'models-kill');
    const iterations = 200;
    const sweepArgs = ['sweep', sprites.a, ...tinyJobFlags(iterations), '--queue', redis.url, '--queue-name', 'kill', '--store', store, '--out', out];
    const pair = await startPair(store, 'kill');
    assert.equal((await ncaRun([...sweepArgs, '--detach'])).code, 0);
    // The job's folder appears in the store when a worker takes it.
    const jobFolder = await waitFor('a worker to take the job', async () => {
      const ids = await readdir(join(store, 'jobs')).catch(() => []);
      return ids[0] === undefined ? undefined : join(store, 'jobs', ids[0]);
    }, 60_000, pair);
    // Kill the worker that holds the job once a checkpoint is in the store.
    const first = await waitFor('a checkpoint', async () => {
      const sessions = await readJson<JobSession[]>(join(jobFolder, 'sessions.json'));
      const summary = await readJson<unknown>(join(jobFolder, 'run', 'summary.json'));
      if (summary !== undefined) throw new Error('the job finished before it could be killed: give it more iterations');
      const saved = await access(join(jobFolder, 'run', 'checkpoint.bin')).then(() => true, () => false);
      return saved && sessions?.length === 1 ? sessions[0]! : undefined;
    }, 60_000, pair);
    const victim = pair.find((w) => w.child.pid === pidOf(first.worker))!;
    assert.ok(victim, `worker ${first.worker} is one of ours`);
    victim.child.kill('SIGKILL');
    assert.equal(await victim.exited, 'SIGKILL');

    const finished = await ncaRun([...sweepArgs, '--poll-seconds', '0.3']);
    assert.equal(finished.code, 0, finished.output);
    const index = (await readJson<SweepIndex>(join(out, 'index.json')))!;
    const result = (await readJson<JobResult>(join(jobFolder, 'result.json')))!;
    assert.equal(result.status, 'completed');
    assert.equal(result.iterations, iterations);
    // The killed worker's session, then the survivor's; under heavy load a live worker may lose
    // its lock too (then a third session), but every session after the first resumes.
    const [killed, ...later] = result.sessions;
    assert.ok(later.length >= 1, JSON.stringify(result.sessions));
    assert.equal(killed!.from, 0);
    assert.notEqual(later[0]!.worker, killed!.worker, 'the other worker took it over');
    for (const session of later) assert.ok(session.from >= 10 && session.from % 10 === 0, `resumed from a checkpoint, not from zero (${JSON.stringify(result.sessions)})`);
    assert.equal(index.jobs[0]!.sessions, result.sessions.length);
    const status = JSON.parse((await ncaRun(['sweep', 'status', '--queue', redis.url, '--queue-name', 'kill', '--json'])).output) as StatusReport;
    assert.equal(status.jobs[0]!.state, 'completed');
    assert.equal(status.jobs[0]!.stalled, later.length, 'BullMQ saw the job stall once per takeover');
    assert.equal(status.jobs[0]!.progress?.resumedFrom, later.at(-1)!.from);
    await stop(pair.filter((w) => w !== victim));
  });

  it('puts the job back, unpenalised, when its worker is stopped with SIGTERM', async () => {
    const sprites = await writeSprites(join(folder, 'sprites-term'));
    const store = join(folder, 'store-term');
    const sweepArgs = ['sweep', sprites.b, ...tinyJobFlags(200), '--queue', redis.url, '--queue-name', 'term', '--store', store, '--out', join(folder, 'models-term')];
    assert.equal((await ncaRun([...sweepArgs, '--detach'])).code, 0);
    const worker = nca(['worker', '--queue', redis.url, '--queue-name', 'term', '--store', store]);
    workers.push(worker);
    await waitFor('a checkpoint', async () => {
      const ids = await readdir(join(store, 'jobs')).catch(() => [] as string[]);
      const saved = ids[0] !== undefined && (await access(join(store, 'jobs', ids[0], 'run', 'checkpoint.bin')).then(() => true, () => false));
      return saved ? true : undefined;
    }, 60_000, [worker]);
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0, worker.output());
    assert.match(worker.output(), /stopped at iteration \d+ \(checkpoint written\), back to the queue/);
    const status = JSON.parse((await ncaRun(['sweep', 'status', '--queue', redis.url, '--queue-name', 'term', '--json'])).output) as StatusReport;
    assert.equal(status.jobs[0]!.state, 'waiting');
    assert.equal(status.jobs[0]!.attemptsMade, 0, 'a stopped worker costs the job no attempt');
    assert.ok((status.jobs[0]!.progress?.checkpoint ?? 0) > 0);
  });
});
