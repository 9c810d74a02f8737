/**
 * The reference step on tiny grids, every expected number worked out by hand in the comments.
 * Grids are written row by row; a cell of C channels is C consecutive values.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Architecture } from '../../runtime/format/types.js';
import { fireKey, fires, fireThreshold, stepOnce, type CaState, type FireMask, type StepOptions } from '../../runtime/reference/index.js';
import { dense, essayKernels, IDENTITY_KERNEL, kernel, SOBEL_X, SOBEL_Y } from '../fixtures/reference-architectures.js';

const f = Math.fround;

/** A one-kernel-per-test architecture: own alpha on channel 0 at threshold -1 (nothing dies). */
function arch(fields: Partial<Architecture> & Pick<Architecture, 'channels' | 'kernels' | 'layers'>): Architecture {
  return {
    alphaChannel: 0,
    perceptionOrder: 'channel-major',
    update: 'replace',
    fireRate: 1,
    fireGranularity: 'cell',
    aliveThreshold: -1,
    aliveMode: 'own-alpha',
    ...fields,
  };
}

function grid(width: number, height: number, channels: number, values: number[]): CaState {
  assert.equal(values.length, width * height * channels);
  return { width, height, channels, data: Float32Array.from(values) };
}

const ALL: StepOptions = { seed: 0, step: 0 };
/** 1 -> 1 identity layer with weight w and bias b. */
const passThrough = (w = 1, b = 0): ReturnType<typeof dense> => dense(1, 1, 'identity', [w], [b]);

function values(state: CaState): number[] {
  return Array.from(state.data);
}

describe('reference step: perception', () => {
  it('applies zero padding at the borders', () => {
    // Box kernel (all ones) on 1 2 3 / 4 5 6 / 7 8 9: each cell sums its in-grid neighbours.
    // (0,0) 1+2+4+5 = 12, (1,0) 1+..+6 = 21, (2,0) 2+3+5+6 = 16, (0,1) 1+2+4+5+7+8 = 27,
    // (1,1) 45, (2,1) 2+3+5+6+8+9 = 33, (0,2) 4+5+7+8 = 24, (1,2) 4+..+9 = 39, (2,2) 5+6+8+9 = 28.
    const a = arch({ channels: 1, kernels: [kernel([1, 1, 1, 1, 1, 1, 1, 1, 1])], layers: [passThrough()] });
    const next = stepOnce(a, grid(3, 3, 1, [1, 2, 3, 4, 5, 6, 7, 8, 9]), ALL);
    assert.deepEqual(values(next), [12, 21, 16, 27, 45, 33, 24, 39, 28]);
  });

  it('is a correlation over row-major [dy+1][dx+1]', () => {
    // A single 1 at row 0, column 2 (dy = -1, dx = +1): q(x, y) = s(x+1, y-1).
    // Row 0 reads row -1 (padding): 0 0 0. Row 1: s(1,0)=2, s(2,0)=3, s(3,0)=pad 0.
    // Row 2: s(1,1)=5, s(2,1)=6, 0.
    const a = arch({ channels: 1, kernels: [kernel([0, 0, 1, 0, 0, 0, 0, 0, 0])], layers: [passThrough()] });
    const next = stepOnce(a, grid(3, 3, 1, [1, 2, 3, 4, 5, 6, 7, 8, 9]), ALL);
    assert.deepEqual(values(next), [0, 0, 0, 2, 3, 0, 5, 6, 0]);
  });

  it('orders perception channel-major or kernel-major', () => {
    // One cell, s = (1, 3), kernels identity and 2 * identity, so q_0 = s and q_1 = 2s.
    // channel-major p = [q0c0, q1c0, q0c1, q1c1] = [1, 2, 3, 6];
    // kernel-major  p = [q0c0, q0c1, q1c0, q1c1] = [1, 3, 2, 6].
    // Output 0 = p0 + 10 p1 + 100 p2 + 1000 p3: 6321 (channel-major), 6231 (kernel-major).
    // Output 1 (alpha) = 0 > -1: alive.
    const layer = dense(4, 2, 'identity', [1, 10, 100, 1000, 0, 0, 0, 0], [0, 0]);
    const kernels = [kernel(IDENTITY_KERNEL), kernel(IDENTITY_KERNEL, 2)];
    const channelMajor = arch({ channels: 2, alphaChannel: 1, kernels, layers: [layer] });
    const kernelMajor = arch({ ...channelMajor, perceptionOrder: 'kernel-major' });
    assert.deepEqual(values(stepOnce(channelMajor, grid(1, 1, 2, [1, 3]), ALL)), [6321, 0]);
    assert.deepEqual(values(stepOnce(kernelMajor, grid(1, 1, 2, [1, 3]), ALL)), [6231, 0]);
  });
});

describe('reference step: layers', () => {
  const oneCell = (activation: Parameters<typeof dense>[2], input: number): number => {
    const a = arch({ channels: 1, kernels: [kernel(IDENTITY_KERNEL)], layers: [dense(1, 1, activation, [1], [0])], aliveThreshold: -10 });
    return values(stepOnce(a, grid(1, 1, 1, [input]), ALL))[0]!;
  };

  it('computes every activation', () => {
    assert.equal(oneCell('identity', -0.5), -0.5);
    assert.equal(oneCell('relu', -0.5), 0);
    assert.equal(oneCell('relu', 0.75), 0.75);
    assert.equal(oneCell('sigmoid', 0), 0.5); // 1 / (1 + e^0)
    // sigmoid(ln 3) = 1 / (1 + 1/3) = 0.75; the input is ln 3 rounded to float32.
    assert.ok(Math.abs(oneCell('sigmoid', Math.log(3)) - 0.75) < 1e-7, 'sigmoid(ln 3)');
    // tanh(ln 2) = (2 - 1/2) / (2 + 1/2) = 0.6.
    assert.ok(Math.abs(oneCell('tanh', Math.log(2)) - 0.6) < 1e-7, 'tanh(ln 2)');
    assert.equal(oneCell('tanh', 0), 0);
    // atan(1) = pi/4, stored as float32.
    assert.equal(oneCell('atan', 1), f(Math.PI / 4));
  });

  it('chains layers', () => {
    // h = (relu(v), relu(-v)); o = 2 h0 + 3 h1 + 0.5: v = -0.25 -> 0.75 + 0.5 = 1.25; v = 0.25 -> 1.
    const a = arch({
      channels: 1,
      kernels: [kernel(IDENTITY_KERNEL)],
      layers: [dense(1, 2, 'relu', [1, -1], [0, 0]), dense(2, 1, 'identity', [2, 3], [0.5])],
      aliveThreshold: -10,
    });
    assert.deepEqual(values(stepOnce(a, grid(2, 1, 1, [-0.25, 0.25]), ALL)), [1.25, 1]);
  });

  it('stores each layer output as float32', () => {
    // Layer 1: h = 1 + 1e-8, which float32 rounds to 1 (its epsilon is 1.2e-7). Layer 2:
    // o = h - 1 = 0 exactly; kept in doubles it would be 1e-8.
    const a = arch({
      channels: 1,
      kernels: [kernel(IDENTITY_KERNEL)],
      layers: [passThrough(1, 1e-8), passThrough(1, -1)],
      aliveThreshold: -10,
    });
    assert.equal(values(stepOnce(a, grid(1, 1, 1, [1]), ALL))[0], 0);
  });
});

describe('reference step: update and fire mask', () => {
  it('replaces or adds the output', () => {
    // o = 0 * s + 0.25. Replace: 0.25. Residual: 0.5 + 0.25 = 0.75.
    const replace = arch({ channels: 1, kernels: [kernel(IDENTITY_KERNEL)], layers: [passThrough(0, 0.25)] });
    const residual = arch({ ...replace, update: 'residual' });
    assert.deepEqual(values(stepOnce(replace, grid(1, 1, 1, [0.5]), ALL)), [0.25]);
    assert.deepEqual(values(stepOnce(residual, grid(1, 1, 1, [0.5]), ALL)), [0.75]);
  });

  // Colour, alpha per cell; alpha 0.5 lives, 0.05 and 0 are at or below the threshold 0.1.
  const input = grid(3, 1, 2, [0.3, 0.5, 0.7, 0.05, 0.2, 0]);
  const constantNine = arch({
    channels: 2,
    alphaChannel: 1,
    kernels: [kernel(IDENTITY_KERNEL)],
    layers: [dense(2, 2, 'identity', [0, 0, 0, 0], [9, 9])],
    aliveThreshold: 0.1,
  });

  it('fire rate 0 leaves the state as it was except for alive masking', () => {
    for (const update of ['replace', 'residual'] as const) {
      const a = { ...constantNine, update, fireRate: 0 };
      assert.deepEqual(values(stepOnce(a, input, ALL)), [f(0.3), 0.5, 0, 0, 0, 0], update);
      // The option overrides the architecture's rate.
      assert.deepEqual(values(stepOnce({ ...a, fireRate: 1 }, input, { ...ALL, fireRate: 0 })), [f(0.3), 0.5, 0, 0, 0, 0], update);
    }
  });

  it('fire rate 1 updates every cell', () => {
    // Replace: every cell becomes (9, 9). Residual: s + 9, computed on float32 inputs.
    assert.deepEqual(values(stepOnce(constantNine, input, ALL)), [9, 9, 9, 9, 9, 9]);
    const residual = { ...constantNine, update: 'residual' as const, fireRate: 0 };
    assert.deepEqual(
      values(stepOnce(residual, input, { ...ALL, fireRate: 1 })),
      [f(0.3) + 9, 9.5, f(0.7) + 9, f(0.05) + 9, f(0.2) + 9, 9].map(f),
    );
  });

  describe('per-cell and per-element masks', () => {
    // o = (5, 6) everywhere; cells (1, 2) and (3, 4); alpha is channel 1, nothing dies.
    const base = arch({
      channels: 2,
      alphaChannel: 1,
      kernels: [kernel(IDENTITY_KERNEL)],
      layers: [dense(2, 2, 'identity', [0, 0, 0, 0], [5, 6])],
    });
    const cells = grid(2, 1, 2, [1, 2, 3, 4]);
    const withMask = (a: Architecture, fireMask: FireMask): number[] => values(stepOnce(a, cells, { ...ALL, fireMask }));
    const perCell = { ...base, fireGranularity: 'cell' as const };
    const perElement = { ...base, fireGranularity: 'element' as const };

    it('per element updates single channels', () => {
      assert.deepEqual(withMask(perElement, (_x, _y, c) => c === 1), [1, 6, 3, 6]);
      assert.deepEqual(withMask(perElement, (x, _y, c) => x === 1 && c === 0), [1, 2, 5, 4]);
    });

    it('per cell asks with c = 0 only and updates every channel together', () => {
      const asked: number[] = [];
      const none = withMask(perCell, (_x, _y, c) => {
        asked.push(c);
        return c === 1;
      });
      assert.deepEqual(none, [1, 2, 3, 4]);
      assert.deepEqual(asked, [0, 0]);
      assert.deepEqual(withMask(perCell, (x) => x === 1), [1, 2, 5, 6]);
    });

    it('uses the hash mask of the seed and step', () => {
      const a16 = { ...base, fireRate: 0.5 };
      const big = grid(16, 16, 2, Array.from({ length: 512 }, (_, i) => i % 2));
      const key = fireKey(99, 7);
      const threshold = fireThreshold(0.5);
      for (const granularity of ['cell', 'element'] as const) {
        const next = stepOnce({ ...a16, fireGranularity: granularity }, big, { seed: 99, step: 7 });
        let mixed = 0;
        for (let y = 0; y < 16; y++) {
          for (let x = 0; x < 16; x++) {
            const updated: boolean[] = [];
            for (let c = 0; c < 2; c++) {
              const fire = fires(key, threshold, x, y, granularity === 'cell' ? 0 : c);
              const i = (y * 16 + x) * 2 + c;
              assert.equal(next.data[i], fire ? [5, 6][c] : big.data[i]);
              updated.push(fire);
            }
            if (updated[0] !== updated[1]) mixed++;
          }
        }
        if (granularity === 'cell') assert.equal(mixed, 0);
        else assert.ok(mixed > 0, 'per-element mask never split a cell');
      }
    });
  });
});

describe('reference step: alive masking', () => {
  // Cells (colour, alpha): (0.2, 0), (0.3, 1), (0.4, 0.05), (0.6, 0); threshold 0.1.
  // The network copies the state (W = I, b = 0), so only the alive rule changes anything.
  const copy = arch({
    channels: 2,
    alphaChannel: 1,
    kernels: [kernel(IDENTITY_KERNEL)],
    layers: [dense(2, 2, 'identity', [1, 0, 0, 1], [0, 0])],
    aliveThreshold: 0.1,
  });
  const row = grid(4, 1, 2, [0.2, 0, 0.3, 1, 0.4, 0.05, 0.6, 0]);

  it('own alpha zeroes a dead cell next to a live one', () => {
    assert.deepEqual(values(stepOnce(copy, row, ALL)), [0, 0, f(0.3), 1, 0, 0, 0, 0]);
  });

  it("max-pool keeps a live cell's neighbours", () => {
    // Cells 0 and 2 see alpha 1 in cell 1: alive before and after. Cell 3 sees at most 0.05.
    const next = stepOnce({ ...copy, aliveMode: 'max-pool' }, row, ALL);
    assert.deepEqual(values(next), [f(0.2), 0, f(0.3), 1, f(0.4), f(0.05), 0, 0]);
  });

  it('max-pool needs life both before and after the update', () => {
    // Replace with o = (0.5, 1): afterwards every alpha is 1, but before it was at most 0.05.
    const grow = { ...copy, layers: [dense(2, 2, 'identity', [0, 0, 0, 0], [0.5, 1])] };
    const nearlyDead = grid(2, 1, 2, [0.5, 0.05, 0, 0]);
    assert.deepEqual(values(stepOnce({ ...grow, aliveMode: 'max-pool' }, nearlyDead, ALL)), [0, 0, 0, 0]);
    // Own alpha only looks after: the same update brings the dead grid to life.
    assert.deepEqual(values(stepOnce(grow, nearlyDead, ALL)), [0.5, 1, 0.5, 1]);
    // Alive before, dead after (o = (0.5, 0)): zeroed.
    const kill = { ...copy, layers: [dense(2, 2, 'identity', [0, 0, 0, 0], [0.5, 0])], aliveMode: 'max-pool' as const };
    assert.deepEqual(values(stepOnce(kill, grid(2, 1, 2, [0.5, 1, 0, 0]), ALL)), [0, 0, 0, 0]);
  });

  it('max-pool pads with zeros', () => {
    // Every alpha is -1, threshold -0.5: the centre of a 3x3 grid sees only -1 and dies; every
    // border cell also sees the padding's 0 > -0.5 and lives.
    const a = arch({ channels: 1, kernels: [kernel(IDENTITY_KERNEL)], layers: [passThrough()], aliveThreshold: -0.5, aliveMode: 'max-pool' });
    const next = stepOnce(a, grid(3, 3, 1, Array.from({ length: 9 }, () => -1)), ALL);
    assert.deepEqual(values(next), [-1, -1, -1, -1, 0, -1, -1, -1, -1]);
  });
});

describe('reference step: the two rule families by hand', () => {
  it("the essay's rule", () => {
    // 2x2 grid, one channel (alpha 0): s(0,0) = 1, s(1,1) = 0.5. Kernels: identity, Moore mean
    // (1/8 off-centre), sobel_x + sobel_y = [[-2,-2,0],[-2,0,2],[0,2,2]]; p = [id, mean, sobel].
    //   (0,0): id 1; (1,1) at dx=+1, dy=+1: mean 0.5/8, sobel 2*0.5  -> p = [1, 0.0625, 1]
    //   (1,0): (0,0) at dx=-1, dy=0: 1/8, -2; (1,1) at dx=0, dy=+1: 0.5/8, 2*0.5 -> [0, 0.1875, -1]
    //   (0,1): (0,0) at dx=0, dy=-1: 1/8, -2; (1,1) at dx=+1, dy=0: 0.5/8, 1     -> [0, 0.1875, -1]
    //   (1,1): id 0.5; (0,0) at dx=-1, dy=-1: 1/8, -2                            -> [0.5, 0.125, -2]
    // Hidden atan(p0 + 8 p1 + 0.5 p2): atan(2), atan(1), atan(1), atan(0.5).
    // Output sigmoid(2 h - 3.2): 0.2718, 0.1640, 0.1640, 0.0934 -> the last is <= 0.1 and dies.
    const essay = arch({
      channels: 1,
      kernels: essayKernels(),
      layers: [dense(3, 1, 'atan', [1, 8, 0.5], [0]), dense(1, 1, 'sigmoid', [2], [-3.2])],
      update: 'replace',
      fireGranularity: 'element',
      aliveThreshold: 0.1,
    });
    const out = (pre: number): number => f(1 / (1 + Math.exp(-(2 * f(Math.atan(pre)) + f(-3.2)))));
    const input = grid(2, 2, 1, [1, 0, 0, 0.5]);
    const expected = [out(2), out(1), out(1), 0];
    assert.ok(Math.abs(expected[0]! - 0.2718) < 1e-4 && Math.abs(expected[1]! - 0.164) < 1e-4 && out(0.5) < 0.1, `hand values ${expected.join()}`);
    assert.deepEqual(values(stepOnce(essay, input, ALL)), expected);

    // Fire rate 0.5: unfired cells keep their value (then own alpha: the zeros die, 0.5 lives).
    const key = fireKey(5, 3);
    const next = stepOnce({ ...essay, fireRate: 0.5 }, input, { seed: 5, step: 3 });
    const fired = [0, 1, 2, 3].map((i) => fires(key, fireThreshold(0.5), i % 2, Math.floor(i / 2), 0));
    assert.deepEqual(
      values(next),
      fired.map((fire, i) => (fire ? expected[i]! : input.data[i]! > 0.1 ? input.data[i]! : 0)),
    );
  });

  it("Distill's rule", () => {
    // 3x3 grid, 2 channels (colour 0, alpha 1), the seed (0, 1) in the centre. Kernels identity,
    // sobel_x/8, sobel_y/8; p = [c0: id, sx, sy, c1: id, sx, sy]. Only alpha matters:
    // h = relu(a + 4 sx(a) + 4 sy(a)), o = (h, h/2), residual.
    //   (0,0): centre at dx=+1, dy=+1: sx = 1/8, sy = 1/8   -> h = 1
    //   (1,0): dx=0, dy=+1: sx = 0, sy = 2/8                -> h = 1
    //   (2,0): dx=-1, dy=+1: sx = -1/8, sy = 1/8            -> h = 0
    //   (0,1): dx=+1, dy=0: sx = 2/8                        -> h = 1
    //   (1,1): id 1, sx = sy = 0 (centre entries)           -> h = 1
    //   (2,1): sx = -2/8 -> relu(-1) = 0; (0,2): 1/8 - 1/8 = 0; (1,2): sy = -2/8; (2,2): -1/8 - 1/8.
    // New alpha = old + h/2: 0.5 at (0,0), (1,0), (0,1); 1.5 at the centre. Every cell touches the
    // centre, so max-pool keeps all of them, the zero cells included.
    const distill = arch({
      channels: 2,
      alphaChannel: 1,
      kernels: [kernel(IDENTITY_KERNEL), kernel(SOBEL_X, 1 / 8), kernel(SOBEL_Y, 1 / 8)],
      layers: [dense(6, 1, 'relu', [0, 0, 0, 1, 4, 4], [0]), dense(1, 2, 'identity', [1, 0.5], [0, 0])],
      update: 'residual',
      fireGranularity: 'cell',
      fireRate: 0.5,
      aliveThreshold: 0.1,
      aliveMode: 'max-pool',
    });
    const seed = grid(3, 3, 2, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    const expected = [1, 0.5, 1, 0.5, 0, 0, 1, 0.5, 1, 1.5, 0, 0, 0, 0, 0, 0, 0, 0];
    assert.deepEqual(values(stepOnce(distill, seed, { ...ALL, fireRate: 1 })), expected);

    // Column 0 does not fire: it keeps its zeros and stays alive beside the centre.
    const partial = stepOnce(distill, seed, { ...ALL, fireMask: (x) => x !== 0 });
    assert.deepEqual(values(partial), [0, 0, 1, 0.5, 0, 0, 0, 0, 1, 1.5, 0, 0, 0, 0, 0, 0, 0, 0]);

    // Rate 0.5 from the hash: each cell is either as computed above or as it was.
    const key = fireKey(11, 0);
    const hashed = stepOnce(distill, seed, { seed: 11, step: 0 });
    const want: number[] = [];
    for (let cell = 0; cell < 9; cell++) {
      const fire = fires(key, fireThreshold(0.5), cell % 3, Math.floor(cell / 3), 0);
      want.push(...(fire ? expected : Array.from(seed.data)).slice(cell * 2, cell * 2 + 2));
    }
    assert.deepEqual(values(hashed), want);
  });
});

describe('reference step: arguments', () => {
  const a = arch({ channels: 1, kernels: [kernel(IDENTITY_KERNEL)], layers: [passThrough()] });

  it('does not modify its input', () => {
    const input = grid(2, 1, 1, [0.5, 0.25]);
    const next = stepOnce({ ...a, layers: [passThrough(2, 0)] }, input, ALL);
    assert.deepEqual(values(input), [0.5, 0.25]);
    assert.deepEqual(values(next), [1, 0.5]);
    assert.notEqual(next.data, input.data);
  });

  it('rejects mismatched states and architectures', () => {
    assert.throws(() => stepOnce(a, grid(1, 1, 2, [0, 0]), ALL), RangeError);
    assert.throws(() => stepOnce(a, { width: 2, height: 2, channels: 1, data: new Float32Array(3) }, ALL), RangeError);
    assert.throws(() => stepOnce({ ...a, layers: [dense(2, 1, 'identity', [1, 1], [0])] }, grid(1, 1, 1, [0]), ALL), RangeError);
    assert.throws(() => stepOnce({ ...a, layers: [dense(1, 2, 'identity', [1, 1], [0, 0])] }, grid(1, 1, 1, [0]), ALL), RangeError);
    assert.throws(() => stepOnce({ ...a, alphaChannel: 1 }, grid(1, 1, 1, [0]), ALL), RangeError);
    assert.throws(() => stepOnce(a, grid(1, 1, 1, [0]), { seed: -1, step: 0 }), RangeError);
    assert.throws(() => stepOnce(a, grid(1, 1, 1, [0]), { ...ALL, fireRate: 2 }), RangeError);
  });
});
