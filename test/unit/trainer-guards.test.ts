/**
 * The trainer's guards: the divergence guard on NaN, +/-Infinity and finite blow-ups (the last
 * good checkpoint and export untouched), and checkpoints whose hash is valid but whose contents
 * have the wrong shape (a typed error, and the resume falls back to the previous checkpoint).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { selectBackend } from '../../trainer/model/backend.js';
import { CHECKPOINT_FILE, decodeCheckpoint, encodeCheckpoint, loadCheckpoint, PREVIOUS_CHECKPOINT_FILE, type Checkpoint } from '../../trainer/io/checkpoint.js';
import { divergence } from '../../trainer/training/divergence.js';
import { train, type TrainEvent } from '../../trainer/training/train.js';
import { makeCheckpoint } from '../fixtures/checkpoints.js';
import { isTrainerError, tinyOptions } from './trainer-helpers.js';

let folder: string;
before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'nca-guards-'));
  await selectBackend('wasm');
});
after(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** Rewrites a checkpoint file through `edit`, with a fresh (valid) hash. */
async function rewrite(path: string, edit: (checkpoint: Checkpoint) => Checkpoint): Promise<void> {
  await writeFile(path, Buffer.concat(encodeCheckpoint(edit(decodeCheckpoint(await readFile(path))))));
}

/** `bytes` with its JSON header changed by `edit` and the hash recomputed (the blobs keep their offsets). */
function withHeader(bytes: Uint8Array, edit: (header: Record<string, unknown>) => void): Buffer {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(12, true);
  const pad = (n: number): number => (4 - (n % 4)) % 4;
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + length))) as Record<string, unknown>;
  edit(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const prefix = Buffer.from(bytes.subarray(0, 16));
  prefix.writeUInt32LE(json.byteLength, 12);
  const blobs = bytes.subarray(16 + length + pad(16 + length), bytes.byteLength - 32);
  const body = Buffer.concat([prefix, json, new Uint8Array(pad(16 + json.byteLength)), blobs]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

const eventsOf = (events: TrainEvent[]) => (event: TrainEvent): void => {
  events.push(event);
};

describe('the divergence guard', () => {
  const judge = (loss: number, gradientNorm = 1): string | null => divergence({ loss, gradientNorm, reference: 0.2, factor: 10, iteration: 7 });

  it('stops on a NaN, +Infinity or -Infinity loss or gradient, and on a finite loss over factor x reference', () => {
    assert.match(judge(Number.NaN) ?? '', /loss NaN .* at iteration 7 is not finite/);
    assert.match(judge(Number.POSITIVE_INFINITY) ?? '', /loss Infinity .* is not finite/);
    assert.match(judge(Number.NEGATIVE_INFINITY) ?? '', /loss -Infinity .* is not finite/);
    assert.match(judge(0.1, Number.POSITIVE_INFINITY) ?? '', /gradient norm Infinity .* is not finite/);
    assert.match(judge(2.5) ?? '', /loss 2\.500 at iteration 7 exceeds 10 x 0\.2000: diverging/);
    assert.equal(judge(2), null, 'exactly factor x reference still trains');
    assert.equal(judge(0.01), null);
  });

  /** A completed tiny run, then a resume from its checkpoint with the output bias set to `bias`. */
  async function resumeWithBias(name: string, bias: number): Promise<{ events: TrainEvent[]; status: string; untouched: () => Promise<void> }> {
    await train(tinyOptions(folder, name, { iterations: 4 }));
    const options = tinyOptions(folder, name, { iterations: 6, resume: true });
    const latest = join(options.runDir, CHECKPOINT_FILE);
    // Every step then adds `bias` to every channel of every firing cell: the loss blows up.
    await rewrite(latest, (checkpoint) => ({ ...checkpoint, weights: checkpoint.weights.map((w, i) => (i === checkpoint.weights.length - 1 ? new Float32Array(w.length).fill(bias) : w)) }));
    const before = await Promise.all([latest, join(options.runDir, PREVIOUS_CHECKPOINT_FILE), options.out].map((path) => readFile(path)));
    const events: TrainEvent[] = [];
    const result = await train(options, { onEvent: eventsOf(events) });
    const untouched = async (): Promise<void> => {
      const now = await Promise.all([latest, join(options.runDir, PREVIOUS_CHECKPOINT_FILE), options.out].map((path) => readFile(path)));
      assert.deepEqual(now, before, 'the checkpoints and the export are the ones from before');
      assert.ok(!events.some((e) => e.type === 'checkpoint' || e.type === 'export'));
    };
    return { events, status: result.status, untouched };
  }

  it('a run whose loss blows up but stays finite stops as diverged, writing nothing', async () => {
    const run = await resumeWithBias('finite', 5);
    assert.equal(run.status, 'diverged');
    const stopped = run.events.find((e) => e.type === 'stopped');
    assert.ok(stopped?.type === 'stopped' && stopped.reason === 'diverged' && /exceeds 10 x .*: diverging/.test(stopped.message), JSON.stringify(stopped));
    await run.untouched();
  });

  it('a run whose loss overflows to Infinity stops as diverged, writing nothing', async () => {
    const run = await resumeWithBias('infinite', 1e20);
    assert.equal(run.status, 'diverged');
    const stopped = run.events.find((e) => e.type === 'stopped');
    assert.ok(stopped?.type === 'stopped' && stopped.reason === 'diverged' && /loss Infinity .* is not finite/.test(stopped.message), JSON.stringify(stopped));
    await run.untouched();
  });
});

describe('a checkpoint with a valid hash but the wrong shape', () => {
  it('a header without a field, or with one of the wrong type, is bad-checkpoint (not a TypeError)', () => {
    const bytes = Buffer.concat(encodeCheckpoint(makeCheckpoint(1)));
    const edits: [(header: Record<string, unknown>) => void, RegExp][] = [
      [(header) => delete (header['blobs'] as Record<string, unknown>)['adamM'], /adamM is not a list of blobs/],
      [(header) => delete (header['blobs'] as Record<string, unknown>)['pool'], /pool is not a list/],
      [(header) => (header['losses'] = 'many'), /loss or level history/],
      [(header) => (header['rng'] = [1, 2]), /RNG state/],
      [(header) => delete header['identity'], /run identity/],
      [(header) => ((header['blobs'] as Record<string, unknown>)['weights'] = [{ offset: 'x', length: 4 }]), /weights is not a list of blobs/],
    ];
    for (const [edit, pattern] of edits) {
      assert.throws(() => decodeCheckpoint(withHeader(bytes, edit)), isTrainerError('bad-checkpoint', pattern));
    }
  });

  it('loadCheckpoint falls back past it to the previous checkpoint, saying why', async () => {
    const runDir = join(folder, 'shape-load');
    await mkdir(runDir, { recursive: true });
    await writeFile(join(runDir, PREVIOUS_CHECKPOINT_FILE), Buffer.concat(encodeCheckpoint(makeCheckpoint(1))));
    const cases: [Buffer, RegExp][] = [
      [withHeader(Buffer.concat(encodeCheckpoint(makeCheckpoint(2))), (header) => delete (header['blobs'] as Record<string, unknown>)['adamV']), /adamV/],
      [Buffer.concat(encodeCheckpoint({ ...makeCheckpoint(2), weights: makeCheckpoint(2).weights.map((w, i) => (i === 0 ? w.subarray(0, 10) : w)) })), /weight\[0\] holds 10 values, the architecture needs 384/],
      [Buffer.concat(encodeCheckpoint({ ...makeCheckpoint(2), pool: [null, new Float32Array(3)] })), /pool slot 1 holds 3 values/],
      [Buffer.concat(encodeCheckpoint({ ...makeCheckpoint(2), target: { width: 2, height: 1, rgba: new Uint8Array(4) } })), /target is 2x1 with 4 bytes/],
    ];
    for (const [bytes, pattern] of cases) {
      await writeFile(join(runDir, CHECKPOINT_FILE), bytes);
      const loaded = await loadCheckpoint(runDir);
      assert.equal(loaded.checkpoint.iteration, 1);
      assert.ok(loaded.path.endsWith(PREVIOUS_CHECKPOINT_FILE));
      assert.match(loaded.fallbackReason ?? '', pattern);
    }
  });

  it('a resume from it continues from the previous checkpoint instead of failing', async () => {
    await train(tinyOptions(folder, 'shape', { iterations: 4 }));
    const options = tinyOptions(folder, 'shape', { iterations: 6, resume: true });
    await rewrite(join(options.runDir, CHECKPOINT_FILE), (checkpoint) => ({ ...checkpoint, weights: checkpoint.weights.map((w, i) => (i === 1 ? w.subarray(1) : w)) }));
    const events: TrainEvent[] = [];
    const result = await train(options, { onEvent: eventsOf(events) });
    assert.equal(result.status, 'completed');
    const warning = events.find((e) => e.type === 'warning');
    assert.ok(warning?.type === 'warning' && /weight\[1\] holds 127 values, the architecture needs 128; resuming from .*checkpoint\.prev\.bin/.test(warning.message), JSON.stringify(warning));
    const start = events.find((e) => e.type === 'start');
    assert.equal(start?.type === 'start' && start.iteration, 2);
  });
});
