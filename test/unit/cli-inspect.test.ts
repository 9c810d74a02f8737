/** `nca inspect`, run as a user would: a child process on real files in a temp directory. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { encodeModel } from '../../runtime/format/index.js';
import { sampleModel } from './format-helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function nca(...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'trainer/cli/main.ts', ...args],
      { cwd: root, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let dir = '';
let model = '';
let modelBytes = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nca-inspect-'));
  const bytes = encodeModel(sampleModel({ image: true, name: 'Inspect me' }), { precision: 'int8', biasPrecision: 'int8' });
  modelBytes = bytes.length;
  model = join(dir, 'model.nca');
  await writeFile(model, bytes);
  await writeFile(join(dir, 'page.nca'), '<!DOCTYPE html><html><body>404 Not Found</body></html>');
  const corrupt = bytes.slice();
  corrupt[corrupt.length - 30] = (corrupt[corrupt.length - 30] as number) ^ 1;
  await writeFile(join(dir, 'corrupt.nca'), corrupt);
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('nca inspect', { concurrency: true }, () => {
  test('prints a readable summary', async () => {
    const { code, stdout, stderr } = await nca('inspect', model);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^Inspect me\n/);
    assert.match(stdout, /parameters\s+8,336/);
    assert.match(stdout, /\(\d,\d{3} bytes\)/);
    assert.match(stdout, /16 channels, alpha is channel 3/);
    assert.match(stdout, /k1 sobel_x \/ 8/);
    assert.match(stdout, /-0\.125\s+0\s+0\.125/);
    assert.match(stdout, /0 {2}48 -> 128 {2}relu\s+int8\s+int8\s+6,272/);
    assert.match(stdout, /residual/);
    assert.match(stdout, /rate 0\.5, per cell/);
    assert.match(stdout, /max-pool: .*> 0\.1 before and after/);
    assert.match(stdout, /target\s+40 x 32/);
    assert.match(stdout, /grid\s+72 x 64/);
    assert.match(stdout, /image 5 x 3/);
    assert.match(stdout, /8,000 iterations, final loss 0\.0123/);
    assert.match(stdout, /attribution\s+Noto Emoji/);
  });

  test('--json prints the same as JSON, with params and bytes', async () => {
    const { code, stdout, stderr } = await nca('inspect', '--json', model);
    assert.equal(code, 0, stderr);
    const summary = JSON.parse(stdout);
    assert.equal(summary.params, 8336);
    assert.equal(summary.bytes, modelBytes);
    assert.equal(summary.name, 'Inspect me');
    assert.equal(summary.task, 'healing');
    assert.deepEqual(summary.architecture.kernels[2], {
      name: 'sobel_y / 8',
      values: [
        [-0.125, -0.25, -0.125],
        [0, 0, 0],
        [0.125, 0.25, 0.125],
      ],
    });
    assert.deepEqual(summary.architecture.layers[1], {
      inputs: 128,
      outputs: 16,
      activation: 'identity',
      weightDType: 'int8',
      biasDType: 'int8',
      params: 2064,
    });
    assert.equal(summary.architecture.aliveThreshold, 0.1);
    assert.deepEqual(summary.start, { kind: 'image', width: 5, height: 3 });
    assert.deepEqual(summary.training, { iterations: 8000, finalLoss: 0.0123 });
  });

  test('a bad file prints error [code]: message to stderr and exits 1', async () => {
    const page = await nca('inspect', join(dir, 'page.nca'));
    assert.equal(page.code, 1);
    assert.equal(page.stdout, '');
    assert.match(page.stderr, /^error \[bad-magic\]: not an \.nca file: it looks like HTML/);
    const corrupt = await nca('inspect', join(dir, 'corrupt.nca'));
    assert.equal(corrupt.code, 1);
    assert.match(corrupt.stderr, /^error \[bad-checksum\]: CRC-32 mismatch/);
  });

  test('a missing file exits 1 with a clear message', async () => {
    const { code, stderr } = await nca('inspect', join(dir, 'absent.nca'));
    assert.equal(code, 1);
    assert.match(stderr, /^error: cannot read '.*absent\.nca': no such file/);
  });

  test('usage: --help exits 0, no command or an unknown one exits 2', async () => {
    const [help, none, unknown, noFile] = await Promise.all([nca('--help'), nca(), nca('frobnicate'), nca('inspect')]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /usage: nca <command>[\s\S]*inspect/);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /usage: nca/);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    assert.equal(noFile.code, 2);
    assert.match(noFile.stderr, /usage: nca inspect/);
  });
});
