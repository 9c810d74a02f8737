import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Activation, Architecture } from '../../runtime/format/types.js';
import {
  aliveMask,
  createState,
  hasNonFinite,
  isAllDead,
  runSteps,
  seedState,
  stepOnce,
  type CaState,
} from '../../runtime/reference/index.js';
import { dense, essayKernels, mulberry32, randomDistill, randomEssay } from '../fixtures/reference-architectures.js';

function bytes(state: CaState): Buffer {
  return Buffer.from(state.data.buffer, state.data.byteOffset, state.data.byteLength);
}

/** A random 16x16 state: every channel uniform in [0, 1). */
function noise(seed: number, arch: Architecture, width = 16, height = 16): CaState {
  const rng = mulberry32(seed);
  const state = createState(width, height, arch.channels);
  for (let i = 0; i < state.data.length; i++) state.data[i] = rng();
  return state;
}

/** fast-check: a small architecture of any rule combination, any weights. */
function arbitraryArchitecture(activations: readonly Activation[], withBias: boolean): fc.Arbitrary<Architecture> {
  const weight = fc.float({ min: -4, max: 4, noNaN: true });
  return fc
    .record({
      channels: fc.integer({ min: 1, max: 4 }),
      hidden: fc.integer({ min: 1, max: 4 }),
      alpha: fc.nat(),
      hiddenActivation: fc.constantFrom(...activations),
      outputActivation: fc.constantFrom(...activations),
      order: fc.constantFrom('channel-major' as const, 'kernel-major' as const),
      update: fc.constantFrom('replace' as const, 'residual' as const),
      granularity: fc.constantFrom('cell' as const, 'element' as const),
      aliveMode: fc.constantFrom('own-alpha' as const, 'max-pool' as const),
      fireRate: fc.constantFrom(0, 0.25, 0.5, 1),
      threshold: fc.double({ min: 0, max: 1, noNaN: true }),
      weights: fc.array(weight, { minLength: 64, maxLength: 64 }),
    })
    .map((r) => {
      const inputs = 3 * r.channels;
      const w = (n: number, offset: number): number[] => Array.from({ length: n }, (_, i) => r.weights[(offset + i) % 64]!);
      const b = (n: number, offset: number): number[] => (withBias ? w(n, offset) : new Array<number>(n).fill(0));
      return {
        channels: r.channels,
        alphaChannel: r.alpha % r.channels,
        kernels: essayKernels(),
        perceptionOrder: r.order,
        layers: [
          dense(inputs, r.hidden, r.hiddenActivation, w(inputs * r.hidden, 0), b(r.hidden, 7)),
          dense(r.hidden, r.channels, r.outputActivation, w(r.hidden * r.channels, 13), b(r.channels, 29)),
        ],
        update: r.update,
        fireRate: r.fireRate,
        fireGranularity: r.granularity,
        aliveThreshold: r.threshold,
        aliveMode: r.aliveMode,
      };
    });
}

const ALL_ACTIVATIONS: readonly Activation[] = ['identity', 'relu', 'sigmoid', 'tanh', 'atan'];

describe('reference step: determinism', () => {
  for (const [name, arch] of [
    ['essay', randomEssay(mulberry32(21), 16, 16)],
    ['distill', randomDistill(mulberry32(22), 16, 16)],
  ] as const) {
    it(`${name}: the same seed gives the same bytes, another seed another state`, () => {
      const input = name === 'essay' ? noise(1, arch) : seedState(arch, 16, 16);
      const a = runSteps(arch, input, { seed: 7, steps: 6 });
      const b = runSteps(arch, input, { seed: 7, steps: 6 });
      const c = runSteps(arch, input, { seed: 8, steps: 6 });
      assert.equal(bytes(a).compare(bytes(b)), 0);
      assert.notEqual(bytes(a).compare(bytes(c)), 0);
    });
  }

  it('runSteps is stepOnce with consecutive step indices', () => {
    const arch = randomDistill(mulberry32(23), 8, 8);
    let state = seedState(arch, 12, 10);
    const run = runSteps(arch, state, { seed: 3, steps: 5, startStep: 4089, rotation: 0.3, fireRate: 0.6 });
    for (let step = 4089; step < 4094; step++) state = stepOnce(arch, state, { seed: 3, step, rotation: 0.3, fireRate: 0.6 });
    assert.equal(bytes(run).compare(bytes(state)), 0);
    const zero = runSteps(arch, state, { seed: 3, steps: 0 });
    assert.equal(bytes(zero).compare(bytes(state)), 0);
    assert.notEqual(zero.data, state.data);
    assert.throws(() => runSteps(arch, state, { seed: 3, steps: -1 }), RangeError);
  });
});

describe('reference step: invariants', () => {
  it('max-pool: a state with no alpha above the threshold dies entirely, whatever the weights', () => {
    fc.assert(
      fc.property(arbitraryArchitecture(ALL_ACTIVATIONS, true), fc.nat({ max: 0xffffffff }), (base, seed) => {
        const arch: Architecture = { ...base, aliveMode: 'max-pool' };
        const state = noise(seed, arch, 5, 4);
        // Push every alpha to or below the threshold (>= 0): the pre-update mask is all false.
        for (let i = arch.alphaChannel; i < state.data.length; i += arch.channels) state.data[i] = Math.min(state.data[i]!, Math.fround(arch.aliveThreshold) * 0.5);
        assert.equal(isAllDead(state, arch), true);
        const next = stepOnce(arch, state, { seed, step: 0 });
        assert.deepEqual(next.data, new Float32Array(next.data.length));
      }),
      { numRuns: 200 },
    );
  });

  it('own alpha: an all-zero state stays all zero when the network maps 0 to 0', () => {
    // Without biases and with activations that fix 0, zero perception gives zero output, so no
    // cell can come alive. (With biases or sigmoid it can: see "max-pool needs life both before
    // and after the update" in reference-step.test.ts.)
    fc.assert(
      fc.property(arbitraryArchitecture(['identity', 'relu', 'tanh', 'atan'], false), fc.nat({ max: 0xffffffff }), (base, seed) => {
        const arch: Architecture = { ...base, aliveMode: 'own-alpha' };
        const next = runSteps(arch, createState(6, 5, arch.channels), { seed, steps: 3 });
        assert.deepEqual(next.data, new Float32Array(next.data.length));
      }),
      { numRuns: 200 },
    );
  });

  it('fire rate 0 only applies the alive mask', () => {
    fc.assert(
      fc.property(arbitraryArchitecture(ALL_ACTIVATIONS, true), fc.nat({ max: 0xffffffff }), (arch, seed) => {
        const state = noise(seed, arch, 5, 4);
        const next = stepOnce(arch, state, { seed, step: 1, fireRate: 0 });
        const alive = aliveMask(state, arch);
        for (let cell = 0; cell < 20; cell++) {
          for (let c = 0; c < arch.channels; c++) {
            const i = cell * arch.channels + c;
            assert.equal(next.data[i], alive[cell] ? state.data[i] : 0);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('never modifies the input state', () => {
    fc.assert(
      fc.property(arbitraryArchitecture(ALL_ACTIVATIONS, true), fc.nat({ max: 0xffffffff }), (arch, seed) => {
        const state = noise(seed, arch, 4, 3);
        const copy = state.data.slice();
        stepOnce(arch, state, { seed, step: 2 });
        assert.deepEqual(state.data, copy);
      }),
      { numRuns: 100 },
    );
  });
});

describe('reference state checks', () => {
  const arch = randomEssay(mulberry32(30), 4, 4);

  it('isAllDead looks at alpha against the threshold', () => {
    const state = createState(3, 3, 4);
    assert.equal(isAllDead(state, arch), true);
    state.data[4 * 4 + 3] = 0.1; // at the threshold: still dead
    state.data[4 * 4 + 0] = 5; // colour without alpha does not count
    assert.equal(isAllDead(state, arch), true);
    state.data[4 * 4 + 3] = 0.11;
    assert.equal(isAllDead(state, arch), false);
  });

  it('hasNonFinite finds NaN and infinities', () => {
    const state = createState(2, 2, 4);
    assert.equal(hasNonFinite(state), false);
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      state.data[5] = bad;
      assert.equal(hasNonFinite(state), true, String(bad));
    }
  });

  it('createState validates sizes', () => {
    assert.throws(() => createState(0, 1, 1), RangeError);
    assert.throws(() => createState(1.5, 1, 1), RangeError);
    assert.throws(() => createState(1, 1, -1), RangeError);
  });
});
