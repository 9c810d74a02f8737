/**
 * The overgrowth watch: the share of living cells outside the target's box (grown by eval's
 * margin), a run that stays flooded counted as unhealthy, and the training loop saying so.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { createArchitecture } from '../../runtime/format/index.js';
import { FLOOD_PATIENCE, OvergrowthWatch } from '../../trainer/training/overgrowth.js';
import { train, type TrainEvent } from '../../trainer/training/train.js';
import { tinyOptions, trainingFolder } from './trainer-helpers.js';

const folder = trainingFolder('nca-overgrowth-');

const arch = createArchitecture({ rule: 'essay', random: () => 0.5 });
// A 4 x 4 target in the middle of a 12 x 12 grid: the margin is 2, so the outside is the ring
// of 2 cells around the grid's edge (144 - 8 x 8 = 80 cells).
const setting = { box: { x0: 4, y0: 4, x1: 8, y1: 8 }, width: 12, height: 12 };

function stateWithAlpha(alive: (x: number, y: number, b: number) => boolean, batch = 2): tf.Tensor4D {
  const data = new Float32Array(batch * 12 * 12 * arch.channels);
  for (let b = 0; b < batch; b++) {
    for (let y = 0; y < 12; y++) for (let x = 0; x < 12; x++) if (alive(x, y, b)) data[((b * 12 + y) * 12 + x) * arch.channels + arch.alphaChannel] = 0.5;
  }
  return tf.tensor4d(data, [batch, 12, 12, arch.channels]);
}

describe('OvergrowthWatch', () => {
  it('counts living cells outside the grown box only, over the batch', () => {
    const watch = new OvergrowthWatch(setting, arch);
    const inside = stateWithAlpha((x, y) => x >= 2 && x < 10 && y >= 2 && y < 10);
    assert.equal(watch.shareOf(inside), 0, 'the sprite and its margin are not overgrowth');
    const full = stateWithAlpha(() => true);
    assert.equal(watch.shareOf(full), 1);
    const oneSample = stateWithAlpha((_x, _y, b) => b === 0);
    assert.equal(watch.shareOf(oneSample), 0.5, 'one of two samples flooded');
    const faint = stateWithAlpha(() => false);
    assert.equal(watch.shareOf(faint), 0);
    for (const t of [inside, full, oneSample, faint]) t.dispose();
  });

  it('calls a run flooded only when the average stays high past its patience, and starts afresh after reset', () => {
    const watch = new OvergrowthWatch(setting, arch);
    for (let i = 1; i < FLOOD_PATIENCE; i++) assert.equal(watch.observe(1, i), undefined, 'not before its patience');
    assert.equal(watch.healthy, false);
    assert.match(watch.observe(1, FLOOD_PATIENCE) ?? '', /the grid overgrew \(iteration 20\): on average 100% of the cells outside/);
    watch.reset();
    for (let i = 1; i <= 3 * FLOOD_PATIENCE; i++) assert.equal(watch.observe(i % 4 === 1 ? 0.6 : 0.05, i), undefined, 'occasional flooded batches are not a flood');
    assert.equal(watch.healthy, false, 'but an average of ~19% outside is no state to go back to');
    for (let i = 1; i <= FLOOD_PATIENCE; i++) watch.observe(0.05, i);
    assert.equal(watch.healthy, true);
  });

  it('counts a flood as a fault only once the run has been healthy: a random start is all alive', () => {
    const watch = new OvergrowthWatch(setting, arch);
    for (let i = 1; i < FLOOD_PATIENCE; i++) watch.observe(1, i);
    assert.ok(watch.observe(1, FLOOD_PATIENCE), 'flooded from the start');
    assert.equal(watch.everHealthy, false, 'but never healthy: nothing to go back to');
    watch.reset();
    watch.observe(1, 21);
    for (let i = 22; i < 30; i++) watch.observe(0, i);
    assert.equal(watch.healthy, false, 'one clear batch after a flood is not health: the average still remembers it');
    for (let i = 30; i < 60; i++) watch.observe(0, i);
    assert.equal(watch.healthy, true);
    assert.equal(watch.everHealthy, true);
    watch.reset();
    assert.equal(watch.everHealthy, true, 'a recovery goes back to a healthy state: later floods are faults');
  });

  it('makes a run that floods from its first step say so (no healthy state to go back to)', async () => {
    const events: TrainEvent[] = [];
    // Fresh random essay weights output sigmoid(~0) = 0.5 everywhere: every cell lives at once.
    const options = tinyOptions(folder(), 'flooded', { rule: 'essay', init: 'random', gridWidth: 20, gridHeight: 20, learningRate: 0, iterations: FLOOD_PATIENCE, checkEvery: 0 });
    const result = await train(options, { onEvent: (e) => events.push(e) });
    assert.equal(result.status, 'completed');
    const warnings = events.filter((e) => e.type === 'warning').map((e) => (e.type === 'warning' ? e.message : ''));
    assert.ok(warnings.some((m) => /the grid overgrew \(iteration 20\).*try a lower --lr or the sample pool/.test(m)), warnings.join('\n'));
    assert.equal(events.filter((e) => e.type === 'recovered').length, 0);
  });
});
