/**
 * `nca eval` as a command: inputs (model, target image), errors and exit codes. `run` is called
 * directly with the console captured; one test spawns the CLI as a user would.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createArchitecture, createModel, encodeModel } from '../../runtime/format/index.js';
import type { NcaModel, Task } from '../../runtime/format/types.js';
import { run } from '../../trainer/cli/eval.js';
import { InputError, loadGridImage } from '../../trainer/eval/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** An 8 x 8 sprite: rows 1..6 opaque in varied colours, rows 0 and 7 clear (straight = premultiplied at alpha 255). */
function spriteRgba(): Uint8Array {
  const rgba = new Uint8Array(8 * 8 * 4);
  for (let y = 1; y < 7; y++) {
    for (let x = 0; x < 8; x++) rgba.set([x * 30, y * 40, 200, 255], (y * 8 + x) * 4);
  }
  return rgba;
}

/** Fire rate 0 and own alpha: a model whose state never changes. */
function frozenModel(task: Task, start: NcaModel['metadata']['start']): NcaModel {
  const arch = createArchitecture({ rule: 'essay', hidden: 4, fireRate: 0, random: () => 0.5 });
  return createModel(arch, { name: 'Frozen', task, targetWidth: 8, targetHeight: 8, gridWidth: 16, gridHeight: 16, start });
}

let dir = '';
const file = (name: string): string => join(dir, name);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nca-eval-'));
  const image = { kind: 'image', width: 8, height: 8, rgba: spriteRgba() } as const;
  const frozen = encodeModel(frozenModel('persistence', image));
  await writeFile(file('frozen.nca'), frozen);
  await writeFile(file('frozen-healing.nca'), encodeModel(frozenModel('healing', image)));
  await writeFile(file('seeded.nca'), encodeModel(frozenModel('growth', { kind: 'seed' })));
  await writeFile(file('cropped.nca'), encodeModel(frozenModel('growth', image)));
  const corrupt = frozen.slice();
  corrupt[corrupt.length - 5]! ^= 1;
  await writeFile(file('corrupt.nca'), corrupt);
  await writeFile(file('notes.txt'), 'not an image');
  // The sprite at twice the size: fitted back into the 8 x 8 target it is the start image again.
  await sharp(Buffer.from(spriteRgba()), { raw: { width: 8, height: 8, channels: 4 } })
    .resize(16, 16, { kernel: 'nearest' })
    .png()
    .toFile(file('sprite-16.png'));
  await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toFile(file('clear.png'));
  // A JPEG without alpha: white background, a dark square in the middle.
  const jpeg = Buffer.alloc(8 * 8 * 3, 255);
  for (let y = 2; y < 6; y++) for (let x = 2; x < 6; x++) jpeg.set([20, 40, 60], (y * 8 + x) * 3);
  await sharp(jpeg, { raw: { width: 8, height: 8, channels: 3 } }).jpeg({ quality: 100 }).toFile(file('square.jpg'));
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

async function evalRun(...args: string[]): Promise<Captured> {
  const out: string[] = [];
  const err: string[] = [];
  const log = mock.method(console, 'log', (...parts: unknown[]) => void out.push(parts.join(' ')));
  const error = mock.method(console, 'error', (...parts: unknown[]) => void err.push(parts.join(' ')));
  try {
    const code = await run([...args, '--quiet']);
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    log.mock.restore();
    error.mock.restore();
  }
}

const quick = ['--steps', '4', '--heal-steps', '4', '--long', '8'];

describe('nca eval', () => {
  it('passes a persistence model that keeps its start image (exit 0), exact PSNR', async () => {
    const { code, stdout, stderr } = await evalRun(file('frozen.nca'), ...quick);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^Frozen\n/);
    assert.match(stdout, /target\s+the model's start image \(8 x 8\), box x 4\.\.11, y 5\.\.10/);
    assert.match(stdout, /growth\s+pass\s+PSNR exact dB after 4 steps/);
    assert.match(stdout, /healing\s+fail/);
    assert.match(stdout, /verdict\s+PASS\s+\(a persistence model must pass growth, persistence\)/);
  });

  it('fails the same model as a healing model (exit 1)', async () => {
    const { code, stdout } = await evalRun(file('frozen-healing.nca'), ...quick, '--json');
    assert.equal(code, 1);
    const report = JSON.parse(stdout);
    assert.equal(report.verdict, 'fail');
    assert.equal(report.healing.verdict, 'fail');
    assert.deepEqual(report.healing.bites.map((b: { verdict: string }) => b.verdict), ['fail', 'fail', 'fail']);
    assert.equal(report.growth.psnr, 100);
  });

  it('scores against --target, fitted into the target size', async () => {
    const { code, stdout, stderr } = await evalRun(file('seeded.nca'), '--target', file('sprite-16.png'), ...quick, '--json');
    // A seed cell is not the sprite: growth fails, with PSNR reported.
    assert.equal(code, 1, stderr);
    const report = JSON.parse(stdout);
    assert.equal(report.target.source, 'file');
    assert.deepEqual([report.target.width, report.target.height], [8, 8]);
    // Lanczos rings a little into the clear rows, so the box (alpha > 0) is the full 8 x 8.
    assert.deepEqual(report.target.box, { x: 4, y: 4, width: 8, height: 8 });
    assert.ok(report.growth.psnr > 0 && report.growth.psnr < 20, String(report.growth.psnr));
  });

  it('needs --target for a model without a start image (exit 2)', async () => {
    const { code, stderr } = await evalRun(file('seeded.nca'), ...quick);
    assert.equal(code, 2);
    assert.match(stderr, /error \[no-target\]: .*seeded\.nca' starts from a seed and embeds no image: PSNR needs --target/);
  });

  it('needs --target for a growth model whose image is its start (a crop), and scores with it', async () => {
    // Frozen: it only keeps its start, so scored against that start it would pass growth.
    const { code, stderr } = await evalRun(file('cropped.nca'), ...quick);
    assert.equal(code, 2);
    assert.match(stderr, /error \[no-target\]: .*cropped\.nca' is a growth model: its embedded image is its start .*PSNR needs --target/);
    const scored = await evalRun(file('cropped.nca'), '--target', file('sprite-16.png'), ...quick, '--json');
    assert.equal(JSON.parse(scored.stdout).target.source, 'file', scored.stderr);
  });

  it('reports a missing model, a corrupt model and a bad target with their codes (exit 2)', async () => {
    let result = await evalRun(file('missing.nca'));
    assert.equal(result.code, 2);
    assert.match(result.stderr, /error \[not-found\]: cannot read model '.*missing\.nca': no such file/);
    result = await evalRun(file('corrupt.nca'));
    assert.equal(result.code, 2);
    assert.match(result.stderr, /error \[bad-checksum\]/);
    result = await evalRun(file('frozen.nca'), '--target', file('nope.png'));
    assert.match(result.stderr, /error \[not-found\]: cannot read image/);
    result = await evalRun(file('frozen.nca'), '--target', file('notes.txt'));
    assert.equal(result.code, 2);
    assert.match(result.stderr, /error \[not-image\]/);
    result = await evalRun(file('frozen.nca'), '--target', file('clear.png'));
    assert.equal(result.code, 2);
    assert.match(result.stderr, /error \[transparent\]: .*every pixel is fully transparent/);
  });

  it('rejects bad flags with usage (exit 2)', async () => {
    for (const args of [[], ['a.nca', 'b.nca'], [file('frozen.nca'), '--steps', '0'], [file('frozen.nca'), '--seed', '-1'], [file('frozen.nca'), '--bogus']]) {
      const { code, stderr } = await evalRun(...args);
      assert.equal(code, 2, args.join(' '));
      assert.match(stderr, /nca eval: /, args.join(' '));
    }
    const { code, stderr } = await evalRun(file('frozen.nca'), '--steps', '10', '--long', '5');
    assert.equal(code, 2);
    assert.match(stderr, /--long 5 is shorter than --steps 10/);
  });
});

describe('target images', () => {
  const arch = createArchitecture({ rule: 'essay', hidden: 4, fireRate: 0, random: () => 0.5 });
  const model = createModel(arch, { targetWidth: 8, targetHeight: 8, gridWidth: 12, gridHeight: 12 });
  const alphaAt = (state: { data: Float32Array; width: number; channels: number }, x: number, y: number): number =>
    state.data[(y * state.width + x) * state.channels + 3]!;

  it('keys near-white out of an image without alpha, centred in the grid', async () => {
    const image = await loadGridImage(file('square.jpg'), model);
    assert.equal(image.hadAlpha, false);
    assert.deepEqual([image.width, image.height], [8, 8]);
    // Image (0, 0) lands on cell (2, 2); the dark square (2..5) on cells 4..7.
    assert.equal(alphaAt(image.state, 2, 2), 0);
    assert.equal(alphaAt(image.state, 5, 5), 1);
  });

  it('throws InputError for what it cannot use', async () => {
    await assert.rejects(loadGridImage(file('clear.png'), model), (e: unknown) => e instanceof InputError && e.code === 'transparent');
    await assert.rejects(loadGridImage(dir, model), (e: unknown) => e instanceof InputError && e.code === 'not-found');
  });
});

describe('nca eval, spawned', () => {
  it('prints JSON and exits with the verdict', async () => {
    const result = await new Promise<Captured>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'trainer/cli/main.ts', 'eval', file('frozen.nca'), ...quick, '--json'],
        { cwd: root, timeout: 60_000 },
        (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
      );
    });
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.verdict, 'pass');
    assert.deepEqual(report.persistence.checkpoints.map((c: { step: number }) => c.step), [4, 8]);
    // Progress goes to stderr, never into the JSON.
    assert.match(result.stderr, /nca eval: long run 8\/8 steps/);
  });
});
