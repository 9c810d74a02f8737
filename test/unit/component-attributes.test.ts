import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MAX_GRID_SIDE } from '../../runtime/format/index.js';
import {
  defaultBrush,
  MAX_SPEED,
  parseBackend,
  parseBrush,
  parseFireRate,
  parseFreezeFrames,
  parseGrid,
  parseInteraction,
  parseLoadTimeout,
  parseLoop,
  parseMaxBytes,
  parseSeed,
  parseSpeed,
  parseStart,
  type Parsed,
} from '../../component/attributes.js';

/** The value is as expected and a warning exists exactly when one is expected, naming the attribute. */
function expectParsed<T>(parsed: Parsed<T>, value: T, warnsAbout?: string): void {
  assert.deepEqual(parsed.value, value);
  if (warnsAbout === undefined) {
    assert.equal(parsed.warning, undefined, `no warning expected, got ${parsed.warning}`);
  } else {
    assert.ok(parsed.warning?.includes(`${warnsAbout}=`), `warning should name ${warnsAbout}: ${parsed.warning}`);
  }
}

test('backend: known names (any case), absent or blank is auto, unknown warns and uses auto', () => {
  expectParsed(parseBackend(null), 'auto');
  expectParsed(parseBackend(''), 'auto');
  for (const name of ['auto', 'webgpu', 'webgl2', 'webgl', 'webasm', 'cpu'] as const) expectParsed(parseBackend(name), name);
  expectParsed(parseBackend(' WebGL2 '), 'webgl2');
  expectParsed(parseBackend('vulkan'), 'auto', 'backend');
  expectParsed(parseBackend(42), 'auto', 'backend');
});

test('grid: N, WxH, clamps above 1024, rejects 0, negatives and junk', () => {
  expectParsed(parseGrid(undefined), undefined);
  expectParsed(parseGrid(' '), undefined);
  expectParsed(parseGrid('64'), { width: 64, height: 64 });
  expectParsed(parseGrid(64), { width: 64, height: 64 });
  expectParsed(parseGrid('64x48'), { width: 64, height: 48 });
  expectParsed(parseGrid('64 X 48'), { width: 64, height: 48 });
  expectParsed(parseGrid('64,48'), { width: 64, height: 48 });
  expectParsed(parseGrid('0'), undefined, 'grid');
  expectParsed(parseGrid(-5), undefined, 'grid');
  expectParsed(parseGrid('10000'), { width: MAX_GRID_SIDE, height: MAX_GRID_SIDE }, 'grid');
  expectParsed(parseGrid('64x10000'), { width: 64, height: MAX_GRID_SIDE }, 'grid');
  expectParsed(parseGrid('32.4'), { width: 32, height: 32 }, 'grid');
  expectParsed(parseGrid('big'), undefined, 'grid');
  expectParsed(parseGrid('1x2x3'), undefined, 'grid');
  expectParsed(parseGrid('x64'), undefined, 'grid');
  expectParsed(parseGrid(Number.NaN), undefined, 'grid');
});

test('speed: fractions allowed, negative and junk fall back to 1, above the cap clamps', () => {
  expectParsed(parseSpeed(undefined), 1);
  expectParsed(parseSpeed(0), 0);
  expectParsed(parseSpeed('0.25'), 0.25);
  expectParsed(parseSpeed(-1), 1, 'speed');
  expectParsed(parseSpeed('fast'), 1, 'speed');
  expectParsed(parseSpeed(Number.NaN), 1, 'speed');
  expectParsed(parseSpeed(Infinity), 1, 'speed');
  expectParsed(parseSpeed(1000), MAX_SPEED, 'speed');
});

test('seed: uint32 integers; fractions floor, out of range and junk use 0', () => {
  expectParsed(parseSeed(undefined), 0);
  expectParsed(parseSeed('7'), 7);
  expectParsed(parseSeed(0xffffffff), 0xffffffff);
  expectParsed(parseSeed(2.7), 2, 'seed');
  expectParsed(parseSeed(-1), 0, 'seed');
  expectParsed(parseSeed(2 ** 32), 0, 'seed');
  expectParsed(parseSeed('abc'), 0, 'seed');
});

test('fire-rate: 0..1, clamped outside, junk uses the model rate', () => {
  expectParsed(parseFireRate(undefined), undefined);
  expectParsed(parseFireRate('0.5'), 0.5);
  expectParsed(parseFireRate(1.5), 1, 'fire-rate');
  expectParsed(parseFireRate(-0.5), 0, 'fire-rate');
  expectParsed(parseFireRate('half'), undefined, 'fire-rate');
});

test('freeze-frames, brush and interaction', () => {
  expectParsed(parseFreezeFrames(undefined), 0);
  expectParsed(parseFreezeFrames('30'), 30);
  expectParsed(parseFreezeFrames(-3), 0, 'freeze-frames');
  expectParsed(parseFreezeFrames(2.5), 3, 'freeze-frames');
  expectParsed(parseFreezeFrames(1e9), 3600, 'freeze-frames');
  expectParsed(parseBrush(undefined), undefined);
  expectParsed(parseBrush('2.5'), 2.5);
  expectParsed(parseBrush(0), undefined, 'brush');
  expectParsed(parseBrush(-4), undefined, 'brush');
  expectParsed(parseBrush(1e6), 1024, 'brush');
  assert.equal(defaultBrush({ width: 64, height: 64 }), 8);
  assert.equal(defaultBrush({ width: 4, height: 100 }), 1);
  expectParsed(parseInteraction(undefined), 'damage');
  expectParsed(parseInteraction('SEED'), 'seed');
  expectParsed(parseInteraction('none'), 'none');
  expectParsed(parseInteraction('poke'), 'damage', 'interaction');
});

test('start: seed, image, URLs resolved against the base', () => {
  expectParsed(parseStart(undefined), { kind: 'model' });
  expectParsed(parseStart(''), { kind: 'model' });
  expectParsed(parseStart('seed'), { kind: 'seed' });
  expectParsed(parseStart('IMAGE'), { kind: 'image' });
  expectParsed(parseStart('img/start.png', 'https://example.org/a/page.html'), { kind: 'url', url: 'https://example.org/a/img/start.png' });
  expectParsed(parseStart('start.png'), { kind: 'model' }, 'start'); // no base: not a URL
});

test('loop: boolean attribute or a step count', () => {
  const off = { enabled: false, afterSteps: undefined };
  const on = { enabled: true, afterSteps: undefined };
  expectParsed(parseLoop(null), off);
  expectParsed(parseLoop(false), off);
  expectParsed(parseLoop('false'), off);
  expectParsed(parseLoop(''), on);
  expectParsed(parseLoop(true), on);
  expectParsed(parseLoop('500'), { enabled: true, afterSteps: 500 });
  expectParsed(parseLoop(500), { enabled: true, afterSteps: 500 });
  expectParsed(parseLoop('-3'), on, 'loop');
  expectParsed(parseLoop('often'), on, 'loop');
  expectParsed(parseLoop(Number.NaN), on, 'loop');
});

test('max-bytes and load-timeout: positive integers up to their caps, else the default with a warning', () => {
  expectParsed(parseMaxBytes(null, 16), 16);
  expectParsed(parseMaxBytes('', 16), 16);
  expectParsed(parseMaxBytes('1000', 16), 1000);
  expectParsed(parseMaxBytes(0, 16), 16, 'max-bytes');
  expectParsed(parseMaxBytes('-5', 16), 16, 'max-bytes');
  expectParsed(parseMaxBytes('lots', 16), 16, 'max-bytes');
  expectParsed(parseMaxBytes(Number.POSITIVE_INFINITY, 16), 16, 'max-bytes');
  expectParsed(parseMaxBytes(2 ** 40, 16), 2 ** 30, 'max-bytes');
  expectParsed(parseMaxBytes(10.4, 16), 10, 'max-bytes');
  expectParsed(parseLoadTimeout(undefined, 30_000), 30_000);
  expectParsed(parseLoadTimeout('1500', 30_000), 1500);
  expectParsed(parseLoadTimeout('0', 30_000), 30_000, 'load-timeout');
  expectParsed(parseLoadTimeout(1e9, 30_000), 600_000, 'load-timeout');
});

test('every parser accepts any input without throwing (property test)', () => {
  const parsers = [(v: unknown) => parseMaxBytes(v, 1), (v: unknown) => parseLoadTimeout(v, 1), parseBackend, parseGrid, parseSpeed, parseSeed, parseFireRate, parseFreezeFrames, parseBrush, parseInteraction, parseLoop, (v: unknown) => parseStart(v, 'https://example.org/')];
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.object()), (raw) => {
      for (const parse of parsers) {
        const parsed = parse(raw) as Parsed<unknown>;
        if (parsed.warning !== undefined) assert.match(parsed.warning, /^<nca-canvas> [a-z-]+=/);
      }
    }),
    { numRuns: 500 },
  );
});
