import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  countParameters,
  createArchitecture,
  createModel,
  decodeModel,
  distillKernels,
  encodeModel,
  essayKernels,
  NcaFormatError,
} from '../../runtime/format/index.js';
import { mulberry32 } from './format-helpers.js';

const rows = (k: Float32Array): number[][] => [Array.from(k.subarray(0, 3)), Array.from(k.subarray(3, 6)), Array.from(k.subarray(6, 9))];

test('essay kernels: identity, Moore mean /8, true sobel_x + sobel_y unscaled', () => {
  const [identity, mean, sobel] = essayKernels();
  assert.deepEqual(rows(identity!), [[0, 0, 0], [0, 1, 0], [0, 0, 0]]);
  assert.deepEqual(rows(mean!), [[0.125, 0.125, 0.125], [0.125, 0, 0.125], [0.125, 0.125, 0.125]]);
  assert.deepEqual(rows(sobel!), [[-2, -2, 0], [-2, 0, 2], [0, 2, 2]]);
});

test('distill kernels: identity, sobel_x / 8, sobel_y / 8', () => {
  const [identity, sx, sy] = distillKernels();
  assert.deepEqual(rows(identity!), [[0, 0, 0], [0, 1, 0], [0, 0, 0]]);
  assert.deepEqual(rows(sx!), [[-0.125, 0, 0.125], [-0.25, 0, 0.25], [-0.125, 0, 0.125]]);
  assert.deepEqual(rows(sy!), [[-0.125, -0.25, -0.125], [0, 0, 0], [0.125, 0.25, 0.125]]);
});

test('essay architecture: 16 channels, 48 -> 64 atan -> 16 sigmoid, replace, per element, own alpha', () => {
  const arch = createArchitecture({ rule: 'essay', random: mulberry32(1) });
  assert.equal(arch.channels, 16);
  assert.equal(arch.alphaChannel, 3);
  assert.deepEqual(
    arch.layers.map((l) => [l.inputs, l.outputs, l.activation]),
    [
      [48, 64, 'atan'],
      [64, 16, 'sigmoid'],
    ],
  );
  assert.equal(arch.update, 'replace');
  assert.equal(arch.fireGranularity, 'element');
  assert.equal(arch.aliveMode, 'own-alpha');
  assert.equal(arch.aliveThreshold, Math.fround(0.1));
  assert.equal(arch.perceptionOrder, 'channel-major');
  assert.ok(arch.layers[1]!.weights.some((w) => w !== 0), 'essay defaults to random init everywhere');
});

test('distill architecture: 48 -> 128 relu -> 16 identity, residual, per cell 0.5, max-pool; 8,336 params', () => {
  const arch = createArchitecture({ rule: 'distill', random: mulberry32(2) });
  assert.deepEqual(
    arch.layers.map((l) => [l.inputs, l.outputs, l.activation]),
    [
      [48, 128, 'relu'],
      [128, 16, 'identity'],
    ],
  );
  assert.equal(countParameters(arch.layers), 8336);
  assert.equal(arch.update, 'residual');
  assert.equal(arch.fireGranularity, 'cell');
  assert.equal(arch.fireRate, 0.5);
  assert.equal(arch.aliveMode, 'max-pool');
  assert.ok(arch.layers[1]!.weights.every((w) => w === 0), "distill defaults to a zero last layer ('zeros')");
  assert.ok(arch.layers.every((l) => l.bias.every((b) => b === 0)));
});

test('Glorot-uniform weights stay within sqrt(6 / (in + out)) and are reproducible from the seed', () => {
  const a = createArchitecture({ rule: 'distill', init: 'random', random: mulberry32(9) });
  const b = createArchitecture({ rule: 'distill', init: 'random', random: mulberry32(9) });
  assert.deepStrictEqual(a, b);
  for (const layer of a.layers) {
    const limit = Math.sqrt(6 / (layer.inputs + layer.outputs));
    assert.ok(layer.weights.every((w) => Math.abs(w) <= limit));
    assert.ok(Math.max(...layer.weights.map(Math.abs)) > limit * 0.9);
  }
});

test('options: channels, hidden, rates; out-of-cap sizes throw NcaFormatError', () => {
  const arch = createArchitecture({ rule: 'essay', channels: 8, hidden: 32, fireRate: 0.25, aliveThreshold: 0.2 });
  assert.deepEqual(arch.layers.map((l) => [l.inputs, l.outputs]), [[24, 32], [32, 8]]);
  assert.equal(arch.fireRate, 0.25);
  assert.equal(arch.aliveThreshold, Math.fround(0.2));
  assert.throws(() => createArchitecture({ rule: 'essay', channels: 65 }), NcaFormatError);
  assert.throws(() => createArchitecture({ rule: 'essay', channels: 3 }), NcaFormatError, 'alpha is channel 3');
  assert.throws(() => createArchitecture({ rule: 'distill', hidden: 2000 }), NcaFormatError);
  assert.throws(() => createArchitecture({ rule: 'gol' as 'essay' }), NcaFormatError);
});

test('createModel fills metadata defaults: grid = target + 16 on each side', () => {
  const model = createModel(createArchitecture({ rule: 'distill', random: mulberry32(3) }));
  assert.deepEqual(model.metadata, {
    name: 'Untitled',
    task: 'growth',
    targetWidth: 40,
    targetHeight: 40,
    gridWidth: 72,
    gridHeight: 72,
    start: { kind: 'seed' },
    training: { iterations: 0, finalLoss: 0 },
    attribution: '',
  });
  const wide = createModel(model.architecture, { targetWidth: 1000, targetHeight: 20, name: 'Wide' });
  assert.equal(wide.metadata.gridWidth, 1024);
  assert.equal(wide.metadata.gridHeight, 52);
  assert.deepStrictEqual(decodeModel(encodeModel(wide)), wide);
});
