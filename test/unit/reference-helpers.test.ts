import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Architecture, NcaModel, StartState } from '../../runtime/format/types.js';
import {
  createState,
  damageDisc,
  gradientPairs,
  perceptionKernels,
  plantSeed,
  seedState,
  startState,
  stateFromImage,
  stepOnce,
  toRgba,
  type CaState,
} from '../../runtime/reference/index.js';
import {
  distillKernels,
  essayKernels,
  IDENTITY_KERNEL,
  kernel,
  mulberry32,
  randomDistill,
  randomEssay,
  SOBEL_X,
  SOBEL_Y,
} from '../fixtures/reference-architectures.js';

const f = Math.fround;
/** 6 channels, alpha 3: colour 0..2, hidden 4..5. */
const arch: Architecture = randomEssay(mulberry32(40), 6, 4);

function cell(state: CaState, x: number, y: number): number[] {
  const base = (y * state.width + x) * state.channels;
  return Array.from(state.data.subarray(base, base + state.channels));
}

function liveCells(state: CaState): string[] {
  const cells: string[] = [];
  for (let y = 0; y < state.height; y++) {
    for (let x = 0; x < state.width; x++) if (cell(state, x, y).some((v) => v !== 0)) cells.push(`${x},${y}`);
  }
  return cells;
}

describe('seeds', () => {
  it('seedState puts one seed cell in the centre by default', () => {
    const state = seedState(arch, 5, 4);
    assert.deepEqual(liveCells(state), ['2,2']);
    // Channels below alpha (colour) 0, alpha and above 1.
    assert.deepEqual(cell(state, 2, 2), [0, 0, 0, 1, 1, 1]);
    assert.deepEqual(liveCells(seedState(arch, 5, 4, 0, 3)), ['0,3']);
  });

  it('follows the alpha channel, whatever it is', () => {
    const alphaOne = { ...arch, alphaChannel: 1 };
    assert.deepEqual(cell(seedState(alphaOne, 1, 1), 0, 0), [0, 1, 1, 1, 1, 1]);
  });

  it('plantSeed writes at floor(x), floor(y) inside the grid and ignores outside', () => {
    const state = createState(4, 3, 6);
    plantSeed(state, arch, 2.7, 1.2);
    assert.deepEqual(liveCells(state), ['2,1']);
    for (const [x, y] of [
      [-0.5, 1],
      [4, 1],
      [1, 3],
      [1, -0.01],
      [Number.NaN, 1],
      [Infinity, 0],
    ] as const) {
      plantSeed(state, arch, x, y);
    }
    assert.deepEqual(liveCells(state), ['2,1']);
    // A seed overwrites whatever the cell held.
    state.data.fill(0.5);
    plantSeed(state, arch, 0, 0);
    assert.deepEqual(cell(state, 0, 0), [0, 0, 0, 1, 1, 1]);
  });
});

describe('damageDisc', () => {
  const full = (width: number, height: number): CaState => {
    const state = createState(width, height, 2);
    state.data.fill(1);
    return state;
  };
  const cleared = (state: CaState): string[] => {
    const cells: string[] = [];
    for (let y = 0; y < state.height; y++) for (let x = 0; x < state.width; x++) if (cell(state, x, y).every((v) => v === 0)) cells.push(`${x},${y}`);
    return cells;
  };

  it('clears cells whose centre is strictly inside the disc', () => {
    // Centre on a grid corner: the four cells around it, centres at distance sqrt(0.5) < 1.
    let state = full(8, 8);
    damageDisc(state, 4, 4, 1);
    assert.deepEqual(cleared(state), ['3,3', '4,3', '3,4', '4,4']);
    // Centre in the middle of cell (4, 4): its 4-neighbours are at distance exactly 1, not < 1.
    state = full(8, 8);
    damageDisc(state, 4.5, 4.5, 1);
    assert.deepEqual(cleared(state), ['4,4']);
    state = full(8, 8);
    damageDisc(state, 4.5, 4.5, 1.01);
    assert.deepEqual(cleared(state), ['4,3', '3,4', '4,4', '5,4', '4,5']);
  });

  it('clips at the borders and ignores empty or NaN discs', () => {
    let state = full(4, 3);
    damageDisc(state, -0.5, 0.5, 1.2);
    assert.deepEqual(cleared(state), ['0,0']);
    state = full(4, 3);
    damageDisc(state, 2, 1, 100);
    assert.equal(cleared(state).length, 12);
    state = full(4, 3);
    for (const [x, y, r] of [
      [1, 1, 0],
      [1, 1, -2],
      [Number.NaN, 1, 2],
      [1, 1, Number.NaN],
    ] as const) {
      damageDisc(state, x, y, r);
    }
    assert.deepEqual(cleared(state), []);
  });

  it('matches the disc formula everywhere', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -5, max: 15, noNaN: true }),
        fc.double({ min: -5, max: 15, noNaN: true }),
        fc.double({ min: 0, max: 8, noNaN: true }),
        (cx, cy, radius) => {
          const state = full(10, 7);
          damageDisc(state, cx, cy, radius);
          for (let y = 0; y < 7; y++) {
            for (let x = 0; x < 10; x++) {
              const inside = (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 < radius ** 2;
              assert.deepEqual(cell(state, x, y), inside ? [0, 0] : [1, 1], `${x},${y}`);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('image import and display', () => {
  it('premultiplies straight alpha, /255, hidden channels 0', () => {
    const rgba = Uint8Array.from([200, 100, 50, 128]);
    const state = stateFromImage(arch, 1, 1, rgba, 1, 1);
    const a = 128 / 255;
    assert.deepEqual(cell(state, 0, 0), [f((200 / 255) * a), f((100 / 255) * a), f((50 / 255) * a), f(a), 0, 0]);
    const premultiplied = stateFromImage(arch, 1, 1, rgba, 1, 1, { premultiplied: true });
    assert.deepEqual(cell(premultiplied, 0, 0), [f(200 / 255), f(100 / 255), f(50 / 255), f(a), 0, 0]);
  });

  it('centres the image and crops it', () => {
    // A 2x2 image in a 5x4 grid: offset (floor(3/2), floor(2/2)) = (1, 1).
    const small = Uint8Array.from([10, 0, 0, 255, 20, 0, 0, 255, 30, 0, 0, 255, 40, 0, 0, 255]);
    const centred = stateFromImage(arch, 5, 4, small, 2, 2);
    assert.deepEqual(liveCells(centred), ['1,1', '2,1', '1,2', '2,2']);
    assert.equal(cell(centred, 2, 2)[0], f(40 / 255));
    // A 4x4 image (red = 10 * (y*4 + x) + 1) in a 2x3 grid: offset (floor(-2/2), floor(-1/2)) =
    // (-1, -1), so cell (0, 0) shows pixel (1, 1) = 51 and cell (1, 2) pixel (2, 3) = 141.
    const big = new Uint8Array(64);
    for (let p = 0; p < 16; p++) big.set([10 * p + 1, 0, 0, 255], p * 4);
    const cropped = stateFromImage(arch, 2, 3, big, 4, 4);
    assert.deepEqual(liveCells(cropped).length, 6);
    assert.equal(cell(cropped, 0, 0)[0], f(51 / 255));
    assert.equal(cell(cropped, 1, 2)[0], f(141 / 255));
  });

  it('without alpha, near-white becomes transparent and everything else opaque', () => {
    // Mean RGB / 255: 253/255 = 0.992 > 0.99 -> transparent; 252/255 = 0.988 -> opaque. The
    // fourth byte is ignored.
    const rgba = Uint8Array.from([253, 253, 253, 255, 252, 252, 252, 0, 255, 255, 250, 7, 0, 0, 0, 0]);
    const state = stateFromImage(arch, 4, 1, rgba, 4, 1, { hasAlpha: false });
    assert.deepEqual(cell(state, 0, 0), [0, 0, 0, 0, 0, 0]);
    assert.deepEqual(cell(state, 1, 0), [f(252 / 255), f(252 / 255), f(252 / 255), 1, 0, 0]);
    assert.deepEqual(cell(state, 2, 0), [0, 0, 0, 0, 0, 0]); // mean 253.3/255 = 0.9935
    assert.deepEqual(cell(state, 3, 0), [0, 0, 0, 1, 0, 0]);
  });

  it('rejects a buffer of the wrong size', () => {
    assert.throws(() => stateFromImage(arch, 4, 4, new Uint8Array(15), 2, 2), RangeError);
    assert.throws(() => stateFromImage(arch, 4, 4, new Uint8Array(0), 0, 0), RangeError);
  });

  it('toRgba inverts stateFromImage for straight alpha', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4 * 12, maxLength: 4 * 12 }), (rgba) => {
        const back = toRgba(stateFromImage(arch, 4, 3, rgba, 4, 3), arch);
        for (let p = 0; p < 12; p++) {
          const pixel = Array.from(rgba.subarray(p * 4, p * 4 + 4));
          assert.deepEqual(Array.from(back.subarray(p * 4, p * 4 + 4)), pixel[3] === 0 ? [0, 0, 0, 0] : pixel);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('toRgba un-premultiplies, clamps and blanks dead cells', () => {
    const state = createState(5, 1, 6);
    state.data.set([0.25, 0.5, 0.1, 0.5, 9, 9], 0); // -> 0.5, 1, 0.2 of 255, alpha 128
    state.data.set([2, -1, 0.5, 3, 0, 0], 6); // alpha clamps to 1: colour 1, 0, 0.5
    state.data.set([0.9, 0.9, 0.9, 0.2, 0, 0], 12); // colour above alpha clamps to 255
    state.data.set([0.5, 0.5, 0.5, 0, 0, 0], 18); // alpha 0: dead
    state.data.set([0.5, 0.5, 0.5, Number.NaN, 0, 0], 24); // NaN alpha: dead
    assert.deepEqual(Array.from(toRgba(state, arch)), [
      ...[128, 255, 51, 128],
      ...[255, 0, 128, 255],
      ...[255, 255, 255, 51],
      ...[0, 0, 0, 0],
      ...[0, 0, 0, 0],
    ]);
  });
});

describe('startState', () => {
  const model = (start: StartState): NcaModel => ({
    architecture: arch,
    metadata: {
      name: 'test',
      task: 'growth',
      targetWidth: 2,
      targetHeight: 2,
      gridWidth: 6,
      gridHeight: 5,
      start,
      training: { iterations: 0, finalLoss: 0 },
      attribution: '',
    },
  });

  it('is a centre seed on the suggested grid, or any size asked for', () => {
    const state = startState(model({ kind: 'seed' }));
    assert.deepEqual([state.width, state.height], [6, 5]);
    assert.deepEqual(liveCells(state), ['3,2']);
    assert.deepEqual(liveCells(startState(model({ kind: 'seed' }), 3, 3)), ['1,1']);
  });

  it('is the embedded premultiplied image, centred', () => {
    const rgba = Uint8Array.from([100, 50, 0, 200, 0, 0, 0, 0]);
    const state = startState(model({ kind: 'image', width: 2, height: 1, rgba }));
    assert.deepEqual(liveCells(state), ['2,2']);
    assert.deepEqual(cell(state, 2, 2), [f(100 / 255), f(50 / 255), 0, f(200 / 255), 0, 0]);
  });
});

describe('perception kernels and rotation', () => {
  const distill = randomDistill(mulberry32(41), 4, 4);
  const near = (actual: Float32Array | undefined, expected: readonly number[], what: string): void => {
    assert.ok(actual, what);
    expected.forEach((v, i) => assert.ok(Math.abs(actual[i]! - v) < 1e-15, `${what}[${i}]: ${actual[i]} vs ${v}`));
  };

  it('finds gradient pairs', () => {
    const sx = kernel(SOBEL_X);
    const sy = kernel(SOBEL_Y);
    const id = kernel(IDENTITY_KERNEL);
    assert.deepEqual(gradientPairs(distillKernels()), [[1, 2]]);
    assert.deepEqual(gradientPairs(essayKernels()), []);
    assert.deepEqual(gradientPairs([sx, sy, sx, sy]), [
      [0, 1],
      [2, 3],
    ]);
    assert.deepEqual(gradientPairs([sy, sx]), []);
    assert.deepEqual(gradientPairs([sx, id, sy]), []);
    assert.deepEqual(gradientPairs([sx, kernel(SOBEL_Y, 2)]), []);
  });

  it('returns the stored kernels, as copies, without rotation', () => {
    for (const rotation of [undefined, 0]) {
      const kernels = perceptionKernels(distill, rotation);
      assert.deepEqual(kernels, distill.kernels);
      assert.notEqual(kernels[1], distill.kernels[1]);
    }
  });

  it('rotating a sobel pair by pi/2 maps x to y', () => {
    // kx' = cos·kx - sin·ky = -ky, ky' = sin·kx + cos·ky = kx (up to cos(pi/2) = 6e-17).
    const kernels = perceptionKernels(distill, Math.PI / 2);
    assert.deepEqual(kernels[0], distill.kernels[0]);
    near(kernels[1], SOBEL_Y.map((v) => -v / 8), 'x kernel');
    near(kernels[2], SOBEL_X.map((v) => v / 8), 'y kernel');
  });

  it('rotates by any angle; a full turn changes nothing', () => {
    const theta = 0.7;
    const [, kx, ky] = perceptionKernels(distill, theta);
    near(kx, SOBEL_X.map((v, i) => f((Math.cos(theta) * v - Math.sin(theta) * SOBEL_Y[i]!) / 8)), 'x kernel');
    near(ky, SOBEL_X.map((v, i) => f((Math.sin(theta) * v + Math.cos(theta) * SOBEL_Y[i]!) / 8)), 'y kernel');
    perceptionKernels(distill, 2 * Math.PI).forEach((k, i) => near(k, Array.from(distill.kernels[i]!), `kernel ${i}`));
    // The essay's single sobel_x + sobel_y kernel has no pair: rotation changes nothing.
    const essay = randomEssay(mulberry32(42), 4, 4);
    assert.deepEqual(perceptionKernels(essay, theta), essay.kernels);
    assert.throws(() => perceptionKernels(distill, Number.NaN), RangeError);
  });

  it('a rotated step equals a step with the rotated kernels', () => {
    const state = seedState(distill, 6, 6);
    state.data[(2 * 6 + 2) * 4 + 0] = 0.7;
    const rotated = stepOnce(distill, state, { seed: 1, step: 0, rotation: 1.1 });
    const manual = stepOnce({ ...distill, kernels: perceptionKernels(distill, 1.1) }, state, { seed: 1, step: 0 });
    assert.deepEqual(rotated.data, manual.data);
    assert.notDeepEqual(rotated.data, stepOnce(distill, state, { seed: 1, step: 0 }).data);
  });
});
