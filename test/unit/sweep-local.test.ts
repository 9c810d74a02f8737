/**
 * The embedded sweep (no Redis): `kill -9` of `nca sweep` mid-job loses nothing; the same
 * command run again skips the finished job, resumes the interrupted one from its checkpoint,
 * and a third run trains nothing.
 */
import assert from 'node:assert/strict';
import { access, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { JobResult, JobSession } from '../../trainer/sweep/job.js';
import type { SweepIndex } from '../../trainer/sweep/sweep-index.js';
import { nca, ncaRun, readJson, tinyJobFlags, waitFor, writeSprites } from './sweep-helpers.js';

describe('nca sweep without a queue', () => {
  let folder: string;
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'nca-sweep-local-'));
  });
  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('resumes after kill -9 of the sweep: finished jobs skipped, the interrupted one from its checkpoint', async () => {
    const sprites = await writeSprites(join(folder, 'sprites'));
    const store = join(folder, 'store');
    const out = join(folder, 'models');
    const iterations = 120;
    const args = ['sweep', sprites.a, sprites.b, ...tinyJobFlags(iterations), '--store', store, '--out', out];

    const first = nca(args);
    // Kill it once the second job has a checkpoint (the first is then finished).
    const interrupted = await waitFor('the second job to checkpoint', async () => {
      const ids = await readdir(join(store, 'jobs')).catch(() => [] as string[]);
      for (const id of ids) {
        const done = await readJson<JobResult>(join(store, 'jobs', id, 'result.json'));
        const saved = await access(join(store, 'jobs', id, 'run', 'checkpoint.bin')).then(() => true, () => false);
        if (!done && saved && ids.length === 2) return id;
      }
      return undefined;
    }, 90_000, [first]);
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');
    const before = (await readJson<JobSession[]>(join(store, 'jobs', interrupted, 'sessions.json')))!;
    assert.equal(before.length, 1);

    const second = await ncaRun(args);
    assert.equal(second.code, 0, second.output);
    assert.match(second.output, /already completed/);
    assert.match(second.output, /resuming at iteration [1-9]\d*/);
    const result = (await readJson<JobResult>(join(store, 'jobs', interrupted, 'result.json')))!;
    assert.equal(result.status, 'completed');
    assert.equal(result.iterations, iterations);
    assert.equal(result.sessions.length, 2);
    assert.ok(result.sessions[1]!.from >= 10, `resumed from a checkpoint, not from zero (from ${result.sessions[1]!.from})`);

    const index = (await readJson<SweepIndex>(join(out, 'index.json')))!;
    assert.deepEqual(index.jobs.map((job) => job.state), ['completed', 'completed']);
    for (const job of index.jobs) await access(join(out, job.model!));

    const third = await ncaRun(args);
    assert.equal(third.code, 0, third.output);
    assert.doesNotMatch(third.output, /training|resuming/);
    assert.equal((await readJson<JobResult>(join(store, 'jobs', interrupted, 'result.json')))!.sessions.length, 2);
  });
});
