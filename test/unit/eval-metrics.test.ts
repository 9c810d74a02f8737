/** The measurements behind `nca eval`: PSNR, the target's box, overgrowth, bites, checkpoints. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createArchitecture } from '../../runtime/format/index.js';
import { createState } from '../../runtime/reference/index.js';
import {
  PSNR_CAP_DB,
  aliveOutside,
  alphaBoundingBox,
  dilateBox,
  healthOf,
  longRunCheckpoints,
  overgrowthMargin,
  premultipliedRgba,
  psnr,
  requiredCriteria,
  standardBites,
} from '../../trainer/eval/index.js';

const arch = createArchitecture({ rule: 'essay', channels: 6, hidden: 4, random: () => 0.5 });

describe('psnr', () => {
  it('is 10 log10(1 / MSE) over every value', () => {
    const a = new Float32Array([0, 0, 0, 0]);
    const b = new Float32Array([0.1, 0, 0, 0]);
    // MSE = 0.01 / 4 = 0.0025 -> 26.02 dB
    assert.ok(Math.abs(psnr(a, b) - 10 * Math.log10(400)) < 1e-4);
  });

  it('reports an exact match as the cap, and NaN for a diverged state', () => {
    const a = new Float32Array([0.5, 0.25, 1, 1]);
    assert.equal(psnr(a, a.slice()), PSNR_CAP_DB);
    assert.ok(Number.isNaN(psnr(new Float32Array([Number.NaN, 0, 0, 0]), a)));
  });

  it('refuses images of different sizes', () => {
    assert.throws(() => psnr(new Float32Array(4), new Float32Array(8)), RangeError);
  });
});

describe('premultipliedRgba', () => {
  it('takes colour and alpha, clamped to [0, 1], and ignores hidden channels', () => {
    const state = createState(2, 1, 6);
    state.data.set([0.2, 0.4, 2, 0.5, 9, 9], 0);
    state.data.set([-1, 0, 0, 1, 9, 9], 6);
    assert.deepEqual(Array.from(premultipliedRgba(state, arch), (v) => Math.fround(v)), [0.2, 0.4, 1, 0.5, 0, 0, 0, 1].map(Math.fround));
  });
});

describe('boxes and overgrowth', () => {
  const rgba = new Float32Array(10 * 8 * 4);
  for (const [x, y] of [[3, 2], [6, 5], [4, 4]] as const) rgba[(y * 10 + x) * 4 + 3] = 1;

  it('finds the box of cells with alpha > 0', () => {
    assert.deepEqual(alphaBoundingBox(rgba, 10, 8), { x: 3, y: 2, width: 4, height: 4 });
    assert.equal(alphaBoundingBox(new Float32Array(16), 2, 2), undefined);
  });

  it('dilates by 10% of the longer side, at least 2 cells, clipped to the grid', () => {
    const box = { x: 3, y: 2, width: 4, height: 4 };
    assert.equal(overgrowthMargin(box), 2);
    assert.equal(overgrowthMargin({ x: 0, y: 0, width: 40, height: 31 }), 4);
    assert.deepEqual(dilateBox(box, 2, 10, 8), { x: 1, y: 0, width: 8, height: 8 });
  });

  it('counts the share of living cells outside the box', () => {
    const state = createState(4, 4, 6);
    const box = { x: 1, y: 1, width: 2, height: 2 };
    const setAlpha = (x: number, y: number, a: number): void => void (state.data[(y * 4 + x) * 6 + 3] = a);
    setAlpha(1, 1, 1); // inside
    setAlpha(0, 0, 1); // outside, alive
    setAlpha(3, 3, 0.1); // outside, not above the threshold
    assert.equal(aliveOutside(state, arch, box), 1 / 12);
    assert.equal(aliveOutside(state, arch, { x: 0, y: 0, width: 4, height: 4 }), 0);
    assert.equal(healthOf(state, arch, 1 / 12, 0.05), 'overgrown');
    assert.equal(healthOf(state, arch, 0, 0.05), 'ok');
    state.data[5] = Number.NaN;
    assert.equal(healthOf(state, arch, 0, 0.05), 'non-finite');
    assert.equal(healthOf(createState(4, 4, 6), arch, 0, 0.05), 'dead');
  });
});

describe('the protocol', () => {
  it('bites centre-left, bottom and top-right of the box with radius min side / 4', () => {
    const bites = standardBites({ x: 10, y: 20, width: 40, height: 32 });
    assert.deepEqual(
      bites.map((b) => [b.name, b.x, b.y, b.radius]),
      [
        ['centre-left', 20, 36, 8],
        ['bottom', 30, 44, 8],
        ['top-right', 40, 28, 8],
      ],
    );
    assert.equal(standardBites({ x: 0, y: 0, width: 2, height: 3 })[0]!.radius, 1);
  });

  it('checks the long run at 100, N, every 500 and the end', () => {
    assert.deepEqual(longRunCheckpoints(200, 2000), [100, 200, 500, 1000, 1500, 2000]);
    assert.deepEqual(longRunCheckpoints(100, 1000), [100, 500, 1000]);
    assert.deepEqual(longRunCheckpoints(5, 12), [5, 12]);
  });

  it('requires more of each task than the one before', () => {
    assert.deepEqual(requiredCriteria('growth'), ['growth']);
    assert.deepEqual(requiredCriteria('persistence'), ['growth', 'persistence']);
    assert.deepEqual(requiredCriteria('healing'), ['growth', 'persistence', 'healing']);
  });
});
