/**
 * The trainer's edges: bad inputs fail early and clearly, images are imported as documented,
 * the curriculum and RNG behave, files are replaced atomically, checkpoints reject damage, the
 * backend registry explains itself, and the CLI's exit codes and signals work.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import sharp from 'sharp';
import { createArchitecture } from '../../runtime/format/index.js';
import { writeFileAtomic } from '../../trainer/io/atomic.js';
import { selectBackend } from '../../trainer/model/backend.js';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../../trainer/io/checkpoint.js';
import { resolveOptions, type TrainOptionsInput } from '../../trainer/training/config.js';
import { Curriculum, defaultDifficulty, type CurriculumOptions } from '../../trainer/training/curriculum.js';
import { TrainerError } from '../../trainer/errors.js';
import { Rng } from '../../trainer/training/rng.js';
import { loadTarget } from '../../trainer/io/target.js';
import { train } from '../../trainer/training/train.js';
import { isTrainerError } from './trainer-helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'chick.png');
/** tsx by URL: the CLI children run in a temporary folder, where a bare 'tsx' does not resolve. */
const TSX = import.meta.resolve('tsx');
const ARCH = createArchitecture({ rule: 'essay', random: () => 0.5 });

let folder: string;
before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'nca-trainer-inputs-'));
});
after(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('bad inputs fail before training starts', () => {
  const start = (overrides: Partial<TrainOptionsInput>): Promise<unknown> =>
    train(resolveOptions({ target: FIXTURE, task: 'growth', runDir: join(folder, 'never'), backend: 'wasm', ...overrides }), {
      onEvent: (event) => assert.notEqual(event.type, 'iteration', 'training must not start'),
    });

  it('a missing target', async () => {
    await assert.rejects(start({ target: join(folder, 'missing.png') }), isTrainerError('target-missing', /missing\.png does not exist/));
  });

  it('a target that is not an image', async () => {
    const path = join(folder, 'notes.png');
    await writeFile(path, 'this is text, not a PNG');
    await assert.rejects(start({ target: path }), isTrainerError('target-not-image', /notes\.png is not an image/));
  });

  it('a zero-byte target', async () => {
    const path = join(folder, 'empty.png');
    await writeFile(path, new Uint8Array(0));
    await assert.rejects(start({ target: path }), isTrainerError('target-empty', /empty \(0 bytes\)/));
  });

  it('a fully transparent target', async () => {
    const path = join(folder, 'clear.png');
    await sharp({ create: { width: 20, height: 20, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0 } } }).png().toFile(path);
    await assert.rejects(start({ target: path }), isTrainerError('target-transparent', /fully transparent/));
  });

  it('a white JPEG (nothing but background)', async () => {
    const path = join(folder, 'white.jpg');
    await sharp({ create: { width: 20, height: 20, channels: 3, background: '#ffffff' } }).jpeg().toFile(path);
    await assert.rejects(start({ target: path }), isTrainerError('target-transparent', /near-white/));
  });

  it('unknown task, rule, backend, precision, init, alive gradient; grid smaller than the target', () => {
    const bad: [Partial<TrainOptionsInput>, RegExp][] = [
      [{ task: 'grow' as 'growth' }, /unknown task "grow": use one of growth, persistence, healing/],
      [{ rule: 'game-of-life' as 'essay' }, /unknown rule/],
      [{ backend: 'tpu' as 'cpu' }, /unknown backend "tpu"/],
      [{ precision: 'f8' as 'f16' }, /unknown precision/],
      [{ size: 40, gridWidth: 30 }, /grid 30x72 is smaller than the target size 40/],
      [{ hidden: 0 }, /hidden must be an integer/],
      [{ size: 0 }, /size must be an integer in 1\.\.1024/],
      [{ init: 'zeros' as 'keep' }, /unknown init "zeros": use keep, identity or random/],
      [{ aliveGradient: 'soft' as 'ramp' }, /unknown alive gradient "soft": use constant or ramp/],
    ];
    for (const [overrides, pattern] of bad) {
      assert.throws(() => resolveOptions({ target: FIXTURE, task: 'growth', ...overrides }), isTrainerError('bad-option', pattern));
    }
  });
});

describe('target import', () => {
  it('fits the image into size x size keeping the aspect ratio, premultiplied', async () => {
    const path = join(folder, 'wide.png');
    // Left half opaque red, right half half-transparent blue.
    const pixels = new Uint8Array(64 * 32 * 4);
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 64; x++) {
        pixels.set(x < 32 ? [255, 0, 0, 255] : [0, 0, 255, 128], (y * 64 + x) * 4);
      }
    }
    await sharp(pixels, { raw: { width: 64, height: 32, channels: 4 } }).png().toFile(path);
    const target = await loadTarget(path, 16, ARCH);
    assert.equal(target.width, 16);
    assert.equal(target.height, 8);
    assert.deepEqual(Array.from(target.rgba.subarray(0, 4)), [255, 0, 0, 255]);
    const right = Array.from(target.rgba.subarray(15 * 4, 16 * 4));
    assert.deepEqual(right, [0, 0, 128, 128], 'blue premultiplied by alpha 128');
    for (let i = 0; i < target.rgba.length; i += 4) {
      for (let c = 0; c < 3; c++) assert.ok(target.rgba[i + c]! <= target.rgba[i + 3]!, 'colour <= alpha');
    }
  });

  it('keys out near-white in images without alpha', async () => {
    const path = join(folder, 'square.jpg');
    const square = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#2040c0' } }).png().toBuffer();
    await sharp({ create: { width: 24, height: 24, channels: 3, background: '#ffffff' } })
      .composite([{ input: square, left: 8, top: 8 }])
      .jpeg({ quality: 100 })
      .toFile(path);
    const target = await loadTarget(path, 24, ARCH);
    assert.equal(target.sourceHadAlpha, false);
    assert.equal(target.rgba[3], 0, 'corner is background');
    assert.equal(target.rgba[(12 * 24 + 12) * 4 + 3], 255, 'centre is opaque');
  });
});

describe('curriculum', () => {
  const options: CurriculumOptions = { levels: 3, threshold: 0.1, patience: 3, smoothing: 0.5, ...defaultDifficulty('healing') };

  it('raises the level only after the patience and once the smoothed loss passes the threshold', () => {
    const curriculum = new Curriculum(options);
    const trivial = 1;
    assert.equal(curriculum.record(0.01, trivial), false, 'patience not yet met');
    assert.equal(curriculum.record(0.01, trivial), false);
    assert.equal(curriculum.record(0.01, trivial), true, 'third low loss: level up');
    assert.equal(curriculum.level, 1);
    for (let i = 0; i < 10; i++) assert.equal(curriculum.record(0.5, trivial), false, 'loss above threshold: stays');
    // The moving average must come down below 0.1 first.
    let raised = false;
    for (let i = 0; i < 10 && !raised; i++) raised = curriculum.record(0.01, trivial);
    assert.ok(raised);
    assert.equal(curriculum.level, 2);
    for (let i = 0; i < 10; i++) assert.equal(curriculum.record(0, trivial), false, 'capped at the last level');
  });

  it('makes every knob harder from level to level, up to the caps', () => {
    const curriculum = new Curriculum(options);
    const [easy, middle, hard] = [0, 1, 2].map((level) => curriculum.difficulty(level));
    for (const [a, b] of [[easy!, middle!], [middle!, hard!]] as const) {
      assert.ok(b.maxSteps >= a.maxSteps && b.minSteps >= a.minSteps);
      assert.ok(b.noise >= a.noise && b.bites >= a.bites && b.biteRadius >= a.biteRadius && b.lateDamage >= a.lateDamage);
    }
    assert.deepEqual(hard, options.hard);
    const growth = new Curriculum({ ...options, ...defaultDifficulty('growth') });
    assert.ok(growth.difficulty(0).truncation > growth.difficulty(1).truncation);
    assert.equal(growth.hardest.truncation, 0, 'growth ends at the bare seed');
  });
});

describe('rng', () => {
  it('is reproducible from a seed and from a saved state', () => {
    const a = Rng.fromSeed(42);
    const first = Array.from({ length: 5 }, () => a.nextUint32());
    const saved = a.state;
    const next = Array.from({ length: 5 }, () => a.nextUint32());
    const b = Rng.fromSeed(42);
    assert.deepEqual(Array.from({ length: 5 }, () => b.nextUint32()), first);
    const c = Rng.fromState(saved);
    assert.deepEqual(Array.from({ length: 5 }, () => c.nextUint32()), next);
    assert.throws(() => Rng.fromState([0, 0, 0, 0]), /all zero/);
  });

  it('draws fire masks at the requested rate and normals with mean 0, variance 1', () => {
    const rng = Rng.fromSeed(1);
    const mask = rng.bernoulli(new Float32Array(100_001), 0.3);
    const rate = mask.reduce((s, v) => s + v, 0) / mask.length;
    assert.ok(Math.abs(rate - 0.3) < 0.01, `rate ${rate}`);
    assert.ok(rng.bernoulli(new Float32Array(1000), 1).every((v) => v === 1));
    assert.ok(rng.bernoulli(new Float32Array(1000), 0).every((v) => v === 0));
    const normals = Array.from({ length: 20_000 }, () => rng.normal());
    const mean = normals.reduce((s, v) => s + v, 0) / normals.length;
    const variance = normals.reduce((s, v) => s + (v - mean) ** 2, 0) / normals.length;
    assert.ok(Math.abs(mean) < 0.03 && Math.abs(variance - 1) < 0.05, `mean ${mean}, variance ${variance}`);
  });
});

describe('atomic writes and checkpoints', () => {
  it('a writer killed with SIGKILL mid-write leaves the previous file intact', async () => {
    const path = join(folder, 'model.nca');
    const previous = new Uint8Array(1000).fill(7);
    await writeFileAtomic(path, previous);
    // A child writes a new version slowly, chunk by chunk; it is killed after the first chunk.
    const script = `
      import { writeFileAtomic } from ${JSON.stringify(join(ROOT, 'trainer', 'io', 'atomic.ts'))};
      async function* chunks() {
        for (let i = 0; i < 100; i++) {
          yield new Uint8Array(4096).fill(9);
          process.stdout.write('chunk\\n');
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      await writeFileAtomic(${JSON.stringify(path)}, chunks());`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    assert.deepEqual(new Uint8Array(await readFile(path)), previous);
    const strays = (await readdir(folder)).filter((name) => name.startsWith('model.nca.tmp-'));
    assert.equal(strays.length, 1, 'the half-written temporary file is beside it, not in its place');
  });

  const checkpoint: Checkpoint = {
    identity: {
      task: 'growth', rule: 'essay', channels: 16, hidden: 64, fireRate: 0.5, aliveThreshold: 0.1, gridWidth: 12, gridHeight: 12,
      targetWidth: 2, targetHeight: 1, targetCrc: 1, batch: 2, poolSize: 2, seed: 1,
    },
    options: resolveOptions({ target: 'x.png', task: 'growth' }),
    iteration: 3,
    rng: [1, 2, 3, 4],
    curriculum: { level: 1, iterationsAtLevel: 2, smoothed: 0.25 },
    losses: [0.5, 0.4, 0.3],
    levels: [0, 0, 1],
    firstLoss: 0.5,
    seconds: 1.5,
    adamStep: 3,
    weights: [Float32Array.of(1, 2, 3), Float32Array.of(-1)],
    adamM: [Float32Array.of(0.1, 0.2, 0.3), Float32Array.of(0.4)],
    adamV: [Float32Array.of(0.01, 0.02, 0.03), Float32Array.of(0.04)],
    pool: [null, Float32Array.of(5, 6)],
    target: { width: 2, height: 1, rgba: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) },
  };
  const joined = (): Uint8Array => Buffer.concat(encodeCheckpoint(checkpoint));

  it('round-trips', () => {
    assert.deepEqual(decodeCheckpoint(joined()), checkpoint);
  });

  it('rejects truncation, wrong magic and any changed byte with a bad-checkpoint error', () => {
    const bytes = joined();
    assert.throws(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 1)), isTrainerError('bad-checkpoint', /checksum/));
    assert.throws(() => decodeCheckpoint(new TextEncoder().encode('<!doctype html><html><body>Not found: the server sent a page</body></html>')), isTrainerError('bad-checkpoint', /magic/));
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const copy = bytes.slice();
        copy[at] = copy[at]! ^ flip;
        assert.throws(() => decodeCheckpoint(copy), (error: unknown) => error instanceof TrainerError && error.code === 'bad-checkpoint');
      }),
      { numRuns: 200 },
    );
  });
});

describe('backends', () => {
  it('auto picks the fastest that loads and keeps why the others were skipped', async () => {
    const selection = await selectBackend('auto');
    const reasons = new Map(selection.skipped.map((s) => [s.backend, s.reason]));
    // tfjs-node(-gpu) are optional peers; where they are absent the reason says so.
    if (selection.chosen === 'wasm') {
      assert.match(reasons.get('cuda') ?? '', /@tensorflow\/tfjs-node-gpu: not installed/);
      assert.match(reasons.get('native') ?? '', /@tensorflow\/tfjs-node: not installed/);
      assert.equal(reasons.get('cpu'), 'not tried: wasm is faster');
    } else {
      console.log(`# auto chose ${selection.chosen}: the wasm-specific expectations do not apply`);
    }
  });

  it('an explicit backend that cannot load is a typed error naming the package', async () => {
    if (existsSync(join(ROOT, 'node_modules', '@tensorflow', 'tfjs-node'))) {
      console.log('# skipped: @tensorflow/tfjs-node is installed here');
      return;
    }
    await assert.rejects(selectBackend('native'), isTrainerError('backend-unavailable', /@tensorflow\/tfjs-node: not installed/));
  });
});

describe('nca train (CLI)', () => {
  const cli = (args: string[]): { done: Promise<number | null>; lines: string[]; stderr: string[]; child: ReturnType<typeof spawn> } => {
    const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'trainer', 'cli', 'main.ts'), 'train', ...args], {
      cwd: folder,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const stderr: string[] = [];
    let partial = '';
    child.stdout!.on('data', (data: Buffer) => {
      partial += data.toString();
      const parts = partial.split('\n');
      partial = parts.pop()!;
      lines.push(...parts);
    });
    child.stderr!.on('data', (data: Buffer) => stderr.push(data.toString()));
    const done = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { done, lines, stderr, child };
  };
  const tiny = ['--target', FIXTURE, '--task', 'growth', '--rule', 'distill', '--size', '8', '--grid', '12', '--batch', '2', '--backend', 'wasm', '--levels', '1'];

  it('exits 2 with the reason for a missing target, and prints JSON errors with --json', async () => {
    const plain = cli(['--target', 'nope.png', '--task', 'growth']);
    assert.equal(await plain.done, 2);
    assert.match(plain.stderr.join(''), /nca train: target image nope\.png does not exist/);
    const json = cli(['--target', 'nope.png', '--task', 'growth', '--json']);
    assert.equal(await json.done, 2);
    assert.deepEqual(JSON.parse(json.lines[0]!), { type: 'error', code: 'target-missing', message: 'target image nope.png does not exist' });
  });

  /** Resolves once `run` has printed its first iteration. */
  const firstIteration = (run: ReturnType<typeof cli>): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        if (run.lines.some((line) => line.includes('"type":"iteration"'))) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
      void run.done.then((code) => {
        clearInterval(poll);
        reject(new Error(`the run ended (${code}) before its first iteration: ${run.stderr.join('')}`));
      });
    });

  it('SIGINT finishes the iteration, writes a checkpoint and exits 130; --resume continues', async () => {
    // No periodic checkpoint (its await would also let a signal in): the loop itself must yield.
    const run = cli([...tiny, '--iterations', '1000', '--checkpoint-every', '1000', '--run-dir', 'sig', '--out', 'sig.nca', '--json']);
    await firstIteration(run);
    run.child.kill('SIGINT');
    const seen = run.lines.filter((line) => line.includes('"type":"iteration"')).length;
    assert.equal(await run.done, 130);
    const events = run.lines.map((line) => JSON.parse(line) as { type: string; reason?: string; iteration?: number });
    const stopped = events.find((e) => e.type === 'stopped');
    assert.equal(stopped?.reason, 'interrupted');
    assert.ok(stopped!.iteration! <= seen + 2, `stopped at iteration ${stopped!.iteration}, signalled after ${seen}: the iteration in progress should be the last`);
    assert.ok(events.some((e) => e.type === 'checkpoint'));
    assert.ok((await stat(join(folder, 'sig', 'checkpoint.bin'))).size > 0);
    const resumed = cli(['--resume', '--run-dir', 'sig', '--iterations', String(stopped!.iteration! + 2), '--json']);
    assert.equal(await resumed.done, 0, resumed.stderr.join(''));
    const resumedEvents = resumed.lines.map((line) => JSON.parse(line) as { type: string; iteration?: number });
    assert.equal(resumedEvents.find((e) => e.type === 'start')?.iteration, stopped!.iteration);
    assert.ok(existsSync(join(folder, 'sig.nca')), 'the resumed run exported to the original --out');
  });

  it('SIGTERM (what a service manager or `kill` sends) does the same: checkpoint, exit 130, resumable', async () => {
    const run = cli([...tiny, '--iterations', '1000', '--checkpoint-every', '1000', '--run-dir', 'term', '--out', 'term.nca', '--json']);
    await firstIteration(run);
    run.child.kill('SIGTERM');
    assert.equal(await run.done, 130, run.stderr.join(''));
    const events = run.lines.map((line) => JSON.parse(line) as { type: string; reason?: string; iteration?: number; message?: string });
    assert.ok(events.some((e) => e.type === 'warning' && /^SIGTERM: finishing this iteration/.test(e.message ?? '')), 'the signal is named');
    const stopped = events.find((e) => e.type === 'stopped');
    assert.equal(stopped?.reason, 'interrupted');
    const checkpoint = events.find((e) => e.type === 'checkpoint');
    assert.equal(checkpoint?.iteration, stopped!.iteration);
    const resumed = cli(['--resume', '--run-dir', 'term', '--iterations', String(stopped!.iteration! + 1), '--json']);
    assert.equal(await resumed.done, 0, resumed.stderr.join(''));
    assert.equal((resumed.lines.map((line) => JSON.parse(line) as { type: string; iteration?: number })).find((e) => e.type === 'start')?.iteration, stopped!.iteration);
  });
});
