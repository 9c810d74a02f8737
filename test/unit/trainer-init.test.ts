/**
 * The essay rule's "keep" initialisation (trainer/model/init.ts): run by the reference step, fresh
 * weights keep a living sprite alive and the empty background dead, where Glorot weights with
 * zero biases bring every cell to life.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createArchitecture } from '../../runtime/format/index.js';
import type { Architecture } from '../../runtime/format/types.js';
import { runSteps, type CaState } from '../../runtime/reference/index.js';
import { canIdentityInit, canKeepInit, IDENTITY_UNITS, identityInit, keepInit } from '../../trainer/model/init.js';
import { Rng } from '../../trainer/training/rng.js';
import { IDENTITY_LEARNING_RATE, resolveOptions } from '../../trainer/training/config.js';
import { train } from '../../trainer/training/train.js';
import { tinyOptions, trainingFolder } from './trainer-helpers.js';

const folder = trainingFolder('nca-init-');

const SIZE = 16;

/** A disc of radius 4 at the centre, every channel of its cells in [low, 1), alpha 1. */
function disc(arch: Architecture, low = 0.6): CaState {
  const rng = Rng.fromSeed(3);
  const data = new Float32Array(SIZE * SIZE * arch.channels);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      if ((x - 8) ** 2 + (y - 8) ** 2 > 16) continue;
      for (let c = 0; c < arch.channels; c++) data[(y * SIZE + x) * arch.channels + c] = c === arch.alphaChannel ? 1 : rng.range(low, 1);
    }
  }
  return { width: SIZE, height: SIZE, channels: arch.channels, data };
}

function aliveCells(state: CaState, arch: Architecture): boolean[] {
  return Array.from({ length: state.width * state.height }, (_, i) => state.data[i * state.channels + arch.alphaChannel]! > arch.aliveThreshold);
}

function essay(seed: number): Architecture {
  const rng = Rng.fromSeed(seed);
  return createArchitecture({ rule: 'essay', random: () => rng.uniform() });
}

describe('keepInit (essay rule)', () => {
  it('keeps exactly the living cells alive over 50 steps, where random weights fill the grid', () => {
    for (const seed of [1, 2, 3]) {
      const random = essay(seed);
      const kept = keepInit(random);
      const start = disc(kept);
      const before = aliveCells(start, kept);
      const after = aliveCells(runSteps(kept, start, { seed, steps: 50 }), kept);
      assert.deepEqual(after, before, `seed ${seed}: the living set changed`);
      // Without it, sigmoid(~0) = 0.5 > 0.1: the background comes alive (what kept training from starting).
      const filled = aliveCells(runSteps(random, start, { seed, steps: 50 }), random).filter(Boolean).length;
      assert.ok(filled > 0.9 * SIZE * SIZE, `seed ${seed}: random weights left only ${filled} cells alive`);
    }
  });

  it('leaves the random units in place, applies only to replace/sigmoid rules with an identity kernel', () => {
    const random = essay(4);
    const kept = keepInit(random);
    const [h0, h1] = [random.layers[0]!, kept.layers[0]!];
    const rows = random.channels;
    assert.deepEqual(h1.weights.subarray(rows * h0.inputs), h0.weights.subarray(rows * h0.inputs), 'hidden units past the channels are untouched');
    assert.ok(canKeepInit(random));
    const distill = createArchitecture({ rule: 'distill', random: () => 0.5 });
    assert.equal(canKeepInit(distill), false);
    assert.equal(keepInit(distill), distill);
  });
});

/** The largest change of any value of any cell from `a` to `b`. */
function largestChange(a: CaState, b: CaState): number {
  return a.data.reduce((max, v, i) => Math.max(max, Math.abs(b.data[i]! - v)), 0);
}

describe('identityInit (essay rule)', () => {
  it('keeps every value of every cell within 0.1 over 50 steps, where keepInit snaps mid tones by more than 0.3', () => {
    for (const seed of [1, 2, 3]) {
      const random = essay(seed);
      const start = disc(random, 0.05);
      const identity = identityInit(random);
      const held = runSteps(identity, start, { seed, steps: 50 });
      assert.ok(largestChange(start, held) < 0.1, `seed ${seed}: a value moved ${largestChange(start, held)}`);
      assert.deepEqual(aliveCells(held, identity), aliveCells(start, identity), `seed ${seed}: the living set changed`);
      const snapped = runSteps(keepInit(random), start, { seed, steps: 50 });
      assert.ok(largestChange(start, snapped) > 0.3, `seed ${seed}: keep moved values by only ${largestChange(start, snapped)}`);
    }
  });

  it('the free hidden units keep their input weights and start silent; needs 3 units a channel', () => {
    const random = essay(5);
    const identity = identityInit(random);
    const used = IDENTITY_UNITS.length * random.channels;
    const [h0, h1] = [random.layers[0]!, identity.layers[0]!];
    assert.deepEqual(h1.weights.subarray(used * h0.inputs), h0.weights.subarray(used * h0.inputs));
    const out = identity.layers[1]!;
    for (let o = 0; o < out.outputs; o++) {
      const silent = out.weights.subarray(o * out.inputs + used, (o + 1) * out.inputs);
      assert.ok(silent.every((w) => w === 0), `output ${o} reads a free unit`);
    }
    const narrow = createArchitecture({ rule: 'essay', hidden: used - 1, random: () => 0.5 });
    assert.equal(canIdentityInit(narrow), false);
    assert.equal(identityInit(narrow), narrow);
    assert.ok(canIdentityInit(random));
  });
});

describe('--init identity in a run', () => {
  it('trains from it, and refuses a rule or a width it cannot apply to, naming what it needs', async () => {
    const ran = await train(tinyOptions(folder(), 'identity', { rule: 'essay', init: 'identity', iterations: 2 }));
    assert.equal(ran.status, 'completed');
    await assert.rejects(train(tinyOptions(folder(), 'narrow', { rule: 'essay', init: 'identity', hidden: 32 })), /--init identity needs .*48 for 16 channels.*with 32/);
    await assert.rejects(train(tinyOptions(folder(), 'distill', { init: 'identity' })), /--init identity needs the essay rule/);
  });

  it('comes with its own default rate, a quarter of the default; --lr still wins', () => {
    assert.equal(resolveOptions({ target: 'x.png', task: 'persistence', init: 'identity' }).learningRate, IDENTITY_LEARNING_RATE);
    assert.equal(resolveOptions({ target: 'x.png', task: 'persistence' }).learningRate, 4 * IDENTITY_LEARNING_RATE);
    assert.equal(resolveOptions({ target: 'x.png', task: 'persistence', init: 'identity', learningRate: 0.001 }).learningRate, 0.001);
  });
});
