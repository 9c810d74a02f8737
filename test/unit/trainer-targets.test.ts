/**
 * Targets that cannot train well are caught before any iteration, each with its own code and a
 * message naming the file: a folder, a header declaring more pixels than the cap, a damaged PNG,
 * a faint or transparent image; a 1 x 1 image loads with a warning the run reports before it starts.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { createArchitecture } from '../../runtime/format/index.js';
import { resolveOptions, type TrainOptionsInput } from '../../trainer/training/config.js';
import { loadTarget, MAX_TARGET_PIXELS } from '../../trainer/io/target.js';
import { train, type TrainEvent } from '../../trainer/training/train.js';
import { isTrainerError } from './trainer-helpers.js';

const DISTILL = createArchitecture({ rule: 'distill', random: () => 0.5 });

let folder: string;
before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'nca-targets-'));
});
after(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** A PNG chunk with its length and CRC. */
function chunk(type: string, data: Uint8Array): Buffer {
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(8 + data.length + 4);
  out.writeUInt32BE(data.length, 0);
  typed.copy(out, 4);
  out.writeUInt32BE(crc32(typed), 8 + data.length);
  return out;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A PNG whose header declares `width` x `height` RGBA pixels, with `idat` as its (maybe bogus) data. */
function png(width: number, height: number, idat: Uint8Array): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, no interlace
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
}

/** Runs train() on `target` and fails if an iteration starts; returns its events. */
async function trainOn(target: string, events: TrainEvent[] = [], overrides: Partial<TrainOptionsInput> = {}): Promise<TrainEvent[]> {
  const options = resolveOptions({ target, task: 'growth', rule: 'distill', size: 8, gridWidth: 12, gridHeight: 12, batch: 1, backend: 'wasm', runDir: join(folder, 'run'), out: join(folder, 'out.nca'), ...overrides });
  await train(options, {
    onEvent: (event) => {
      events.push(event);
      assert.notEqual(event.type, 'iteration', 'training must not start');
    },
  });
  return events;
}

describe('targets that cannot train are refused before any iteration', () => {
  it('a folder: target-not-file', async () => {
    const path = join(folder, 'sprites');
    await mkdir(path);
    await assert.rejects(trainOn(path), isTrainerError('target-not-file', /sprites is a folder/));
  });

  it('a header declaring more pixels than the cap: target-too-large, naming the size, before decoding', async () => {
    // 100,000 x 100,000 declared, a few bytes of data: the cap is judged on the header alone.
    const path = join(folder, 'huge.png');
    await writeFile(path, png(100_000, 100_000, new Uint8Array(16)));
    await assert.rejects(trainOn(path), isTrainerError('target-too-large', /huge\.png is 100000x100000 pixels, more than the limit of 16777216/));
    // Just over the cap too (4097 x 4096), and just under it is not refused for its size.
    await writeFile(path, png(4097, 4096, new Uint8Array(16)));
    await assert.rejects(loadTarget(path, 8, DISTILL), isTrainerError('target-too-large', /4097x4096/));
    assert.equal(MAX_TARGET_PIXELS, 4096 * 4096);
  });

  it('a damaged PNG (valid chunks, data that does not inflate; or a broken header): target-corrupt', async () => {
    const bogus = join(folder, 'bogus-data.png');
    await writeFile(bogus, png(16, 16, Buffer.from('these bytes are not zlib data at all')));
    await assert.rejects(trainOn(bogus), isTrainerError('target-corrupt', /bogus-data\.png starts like a PNG but is damaged/));
    const good = await sharp({ create: { width: 16, height: 16, channels: 4, background: { r: 200, g: 0, b: 0, alpha: 1 } } }).png().toBuffer();
    const broken = join(folder, 'broken-header.png');
    const bytes = Buffer.from(good);
    bytes[20] = bytes[20]! ^ 0xff; // inside IHDR: its CRC no longer matches
    await writeFile(broken, bytes);
    await assert.rejects(loadTarget(broken, 8, DISTILL), isTrainerError('target-corrupt', /starts like a PNG/));
    const truncated = join(folder, 'truncated.png');
    await writeFile(truncated, good.subarray(0, 40));
    await assert.rejects(loadTarget(truncated, 8, DISTILL), isTrainerError('target-corrupt', /starts like a PNG/));
  });

  it('a faint image (no alpha above the alive threshold) under the Distill rule: target-transparent', async () => {
    const path = join(folder, 'faint.png');
    await sharp({ create: { width: 20, height: 20, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.04 } } }).png().toFile(path);
    await assert.rejects(trainOn(path), isTrainerError('target-transparent', /no pixel's alpha exceeds the alive threshold 0\.1/));
  });

  it('a fully transparent image: target-transparent', async () => {
    const path = join(folder, 'clear.png');
    await sharp({ create: { width: 4, height: 4, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toFile(path);
    await assert.rejects(trainOn(path), isTrainerError('target-transparent', /fully transparent/));
  });

  it('a 1 x 1 image loads, with a warning the run reports before it starts', async () => {
    const path = join(folder, 'dot.png');
    await sharp({ create: { width: 1, height: 1, channels: 4, background: { r: 0, g: 120, b: 0, alpha: 1 } } }).png().toFile(path);
    const target = await loadTarget(path, 8, DISTILL);
    assert.equal(target.warnings.length, 1);
    assert.match(target.warnings[0]!, /dot\.png is only 1x1 pixels, enlarged 8 times to 8x8/);
    // Stopped before its first iteration: the warning must already have been reported.
    const controller = new AbortController();
    controller.abort();
    const events: TrainEvent[] = [];
    await train(resolveOptions({ target: path, task: 'growth', rule: 'distill', size: 8, gridWidth: 12, gridHeight: 12, batch: 1, backend: 'wasm', runDir: join(folder, 'dot'), out: join(folder, 'dot.nca') }), {
      signal: controller.signal,
      onEvent: (event) => events.push(event),
    });
    const warning = events.findIndex((e) => e.type === 'warning' && /only 1x1 pixels/.test(e.message));
    const start = events.findIndex((e) => e.type === 'start');
    assert.ok(warning >= 0 && warning < start, `the warning comes before the start: ${events.map((e) => e.type).join(', ')}`);
    assert.ok(!events.some((e) => e.type === 'iteration'));
  });

  it('a sprite of ordinary size loads without a warning', async () => {
    const path = join(folder, 'sprite.png');
    await sharp({ create: { width: 24, height: 24, channels: 4, background: { r: 0, g: 0, b: 200, alpha: 1 } } }).png().toFile(path);
    assert.deepEqual((await loadTarget(path, 40, DISTILL)).warnings, []);
  });
});
