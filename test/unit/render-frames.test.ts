/**
 * `nca render`: frames of a run (with bites), compositing and scaling, GIF and PNG-strip output
 * read back with sharp, and the command's errors. One test spawns the CLI.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createArchitecture, createModel, encodeModel } from '../../runtime/format/index.js';
import type { NcaModel } from '../../runtime/format/types.js';
import { startState } from '../../runtime/reference/index.js';
import { parseDamage, run } from '../../trainer/cli/render.js';
import { ReferenceStepper } from '../../trainer/eval/index.js';
import { compositeAndScale, encodeGif, encodePngStrip, frameSteps, parseBackground, renderFrames, WHITE, type Frame } from '../../trainer/render/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Fire rate 0: the 8 x 8 start image (rows 1..6 opaque, half-transparent column 0) never changes. */
function frozenModel(): NcaModel {
  const rgba = new Uint8Array(8 * 8 * 4);
  for (let y = 1; y < 7; y++) {
    for (let x = 0; x < 8; x++) rgba.set(x === 0 ? [64, 0, 0, 128] : [200, 100, 50, 255], (y * 8 + x) * 4);
  }
  const arch = createArchitecture({ rule: 'essay', hidden: 4, fireRate: 0, random: () => 0.5 });
  return createModel(arch, { name: 'Frozen', task: 'persistence', targetWidth: 8, targetHeight: 8, gridWidth: 12, gridHeight: 10, start: { kind: 'image', width: 8, height: 8, rgba } });
}

const model = frozenModel();
const stepper = (): ReferenceStepper => new ReferenceStepper(model.architecture, startState(model), 0);
const pixel = (frame: Frame, x: number, y: number): number[] => Array.from(frame.rgba.subarray((y * frame.width + x) * 4, (y * frame.width + x) * 4 + 4));

describe('frames', () => {
  it('are taken at 0, K, 2K, ... and N', () => {
    assert.deepEqual(frameSteps(10, 4), [0, 4, 8, 10]);
    assert.deepEqual(frameSteps(8, 4), [0, 4, 8]);
    assert.deepEqual(frameSteps(0, 4), [0]);
  });

  it('show a bite from the step it is taken at', async () => {
    // Image (x, y) is cell (x + 2, y + 1); cell (6, 4) is opaque.
    const frames = await renderFrames(stepper(), model.architecture, { steps: 6, every: 2, damage: [{ x: 6.5, y: 4.5, radius: 1, step: 3 }] });
    assert.deepEqual(frames.map((f) => f.step), [0, 2, 4, 6]);
    assert.deepEqual(pixel(frames[1]!, 6, 4), [200, 100, 50, 255]);
    assert.deepEqual(pixel(frames[2]!, 6, 4), [0, 0, 0, 0]);
    assert.deepEqual(pixel(frames[3]!, 6, 4), [0, 0, 0, 0]);
    // Straight alpha: the half-transparent column un-premultiplied.
    assert.deepEqual(pixel(frames[0]!, 2, 2), [128, 0, 0, 128]);
  });

  it('refuse a bite outside the run', async () => {
    await assert.rejects(renderFrames(stepper(), model.architecture, { steps: 4, every: 1, damage: [{ x: 1, y: 1, radius: 1, step: 5 }] }), RangeError);
  });
});

describe('encoding', () => {
  const frame: Frame = { step: 0, width: 2, height: 1, rgba: new Uint8ClampedArray([255, 0, 0, 255, 0, 0, 255, 128]) };

  it('composites straight alpha on the background and scales nearest-neighbour', () => {
    const { data, channels } = compositeAndScale(frame, { scale: 2, background: WHITE });
    assert.equal(channels, 3);
    // 4 x 2 pixels: red, red, blended blue-on-white, blended; twice.
    const row = [255, 0, 0, 255, 0, 0, 127, 127, 255, 127, 127, 255];
    assert.deepEqual(Array.from(data), [...row, ...row]);
    const kept = compositeAndScale(frame, { scale: 1, background: 'none' });
    assert.equal(kept.channels, 4);
    assert.deepEqual(Array.from(kept.data), Array.from(frame.rgba));
  });

  it('parses background colours', () => {
    assert.deepEqual(parseBackground('#fff'), { r: 255, g: 255, b: 255 });
    assert.deepEqual(parseBackground('#102030'), { r: 16, g: 32, b: 48 });
    assert.equal(parseBackground('none'), 'none');
    assert.equal(parseBackground('toString'), undefined);
    assert.equal(parseBackground('#12'), undefined);
  });

  it('writes a GIF of one page per frame (duplicates kept) and a PNG strip', async () => {
    const frames = await renderFrames(stepper(), model.architecture, { steps: 4, every: 1 });
    assert.equal(frames.length, 5);
    const gif = await sharp(await encodeGif(frames, { scale: 3, background: WHITE, delayMs: 40 })).metadata();
    assert.deepEqual([gif.format, gif.pages, gif.width, gif.height, gif.loop], ['gif', 5, 36, 30, 0]);
    assert.deepEqual(gif.delay, [40, 40, 40, 40, 1000]);
    const png = await sharp(await encodePngStrip(frames, { scale: 2, background: 'none' })).metadata();
    assert.deepEqual([png.format, png.width, png.height, png.channels], ['png', 5 * 24, 20, 4]);
  });

  it('lays a strip out with gaps and a checkerboard under transparency (the training previews)', async () => {
    const clear: Frame = { step: 0, width: 8, height: 1, rgba: new Uint8ClampedArray(8 * 4) };
    const { data, info } = await sharp(await encodePngStrip([clear, clear], { scale: 1, gap: 2, background: 'checker' }))
      .raw()
      .toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels], [8 + 2 + 8, 1, 3]);
    // Cells 0-3 light, 4-7 dark (4-cell squares), then two white gap cells, then the next frame.
    const greys = Array.from({ length: info.width }, (_, x) => data[x * 3]!);
    assert.deepEqual(greys, [235, 235, 235, 235, 205, 205, 205, 205, 255, 255, 235, 235, 235, 235, 205, 205, 205, 205]);
  });
});

describe('nca render', () => {
  let dir = '';
  const file = (name: string): string => join(dir, name);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nca-render-'));
    await writeFile(file('frozen.nca'), encodeModel(model));
    await writeFile(file('corrupt.nca'), Buffer.from('<!DOCTYPE html><html></html>'));
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function renderRun(...args: string[]): Promise<{ code: number; stderr: string }> {
    const err: string[] = [];
    const error = mock.method(console, 'error', (...parts: unknown[]) => void err.push(parts.join(' ')));
    try {
      return { code: await run([...args, '--quiet']), stderr: err.join('\n') };
    } finally {
      error.mock.restore();
    }
  }

  it('writes a PNG strip with bites', async () => {
    const out = file('strip.png');
    const { code, stderr } = await renderRun(file('frozen.nca'), '--steps', '6', '--every', '3', '--scale', '2', '--damage', '6,4,2@3', '--out', out);
    assert.equal(code, 0, stderr);
    const meta = await sharp(out).metadata();
    assert.deepEqual([meta.width, meta.height, meta.channels], [3 * 24, 20, 3]);
  });

  it('reports bad input with exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [[file('frozen.nca')], /--out is required/],
      [[file('frozen.nca'), '--out', file('a.jpg')], /--out must end in \.gif or \.png/],
      [[file('frozen.nca'), '--out', file('a.gif'), '--damage', '1,2@3'], /--damage wants x,y,r@step/],
      [[file('frozen.nca'), '--out', file('a.gif'), '--steps', '4', '--damage', '1,2,3@9'], /after the last step \(4\)/],
      [[file('frozen.nca'), '--out', file('a.gif'), '--background', 'teal'], /--background wants/],
      [[file('frozen.nca'), '--out', file('a.gif'), '--scale', '0'], /--scale must be an integer in 1\.\.64/],
      [[file('missing.nca'), '--out', file('a.gif')], /error \[not-found\]/],
      [[file('corrupt.nca'), '--out', file('a.gif')], /error \[bad-magic\]/],
      [[file('frozen.nca'), '--out', file('a.gif'), '--start-image', file('missing.png')], /error \[not-found\]: cannot read image/],
      [[file('frozen.nca'), '--out', join(dir, 'no-such-dir', 'a.gif'), '--steps', '1'], /cannot write/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await renderRun(...args);
      assert.equal(code, 2, args.join(' '));
      assert.match(stderr, message, args.join(' '));
    }
    await assert.rejects(stat(file('a.gif')));
  });

  it('parses --damage', () => {
    assert.deepEqual(parseDamage('36,20.5,8@150'), { x: 36, y: 20.5, radius: 8, step: 150 });
    assert.throws(() => parseDamage('1,2,0@3'), /radius must be > 0/);
  });

  it('writes an animated GIF when spawned', async () => {
    const out = file('anim.gif');
    const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'trainer/cli/main.ts', 'render', file('frozen.nca'), '--steps', '10', '--every', '2', '--scale', '3', '--out', out],
        { cwd: root, timeout: 60_000 },
        (error, _stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stderr }),
      );
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /wrote .*anim\.gif: 6 frames of 36 x 30/);
    const meta = await sharp(out).metadata();
    assert.deepEqual([meta.pages, meta.width, meta.height], [6, 36, 30]);
  });
});
