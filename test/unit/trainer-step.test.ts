/**
 * The trainer's TensorFlow.js step against the reference step (forward), and its hand-written
 * backward pass against tfjs autograd of a plain formulation (gradients).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import type { NcaRule } from '../../runtime/format/index.js';
import type { Architecture } from '../../runtime/format/types.js';
import { stepOnce } from '../../runtime/reference/index.js';
import { selectBackend, type TrainBackend } from '../../trainer/model/backend.js';
import { TrainableNetwork } from '../../trainer/model/network.js';
import { Rng } from '../../trainer/training/rng.js';
import { rolloutGradients } from '../../trainer/training/rollout.js';
import { TfStep, type ActivationMemory } from '../../trainer/model/step.js';
import { registerTfjsGradients } from './trainer-autograd.js';
import { randomArchitecture, randomState } from '../fixtures/trainer-models.js';

const RULES: readonly NcaRule[] = ['essay', 'distill'];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

for (const backend of ['cpu', 'wasm']) {
  describe(`tfjs step = reference stepOnce (${backend})`, () => {
    for (const rule of RULES) {
      for (const order of ['channel-major', 'kernel-major'] as const) {
        for (const maskKind of ['fire rate 1', 'random mask'] as const) {
          it(`${rule}, ${order}, ${maskKind}`, async () => {
            await selectBackend(backend as TrainBackend);
            const arch = randomArchitecture(rule, 7, { order });
            const width = 11;
            const height = 9;
            const { channels } = arch;
            const rng = Rng.fromSeed(3);
            const data = randomState(rng, width * height, channels, width);
            const depth = arch.fireGranularity === 'cell' ? 1 : channels;
            const mask = new Float32Array(width * height * depth);
            if (maskKind === 'fire rate 1') mask.fill(1);
            else rng.bernoulli(mask, 0.5);
            const expected = stepOnce(arch, { width, height, channels, data }, {
              seed: 0,
              step: 0,
              fireMask: (x, y, c) => mask[(y * width + x) * depth + c] === 1,
            });
            const network = TrainableNetwork.fromArchitecture(arch);
            const step = new TfStep(arch, network);
            const input = tf.tensor4d(data, [1, height, width, channels]);
            const fire = tf.tensor4d(mask, [1, height, width, depth]);
            const { next } = step.forward(input, fire);
            const actual = next.dataSync();
            assert.ok(maxAbsDiff(actual, expected.data) <= 1e-5, `max difference ${maxAbsDiff(actual, expected.data)}`);
            // Some cells died and some lived, so the alive masks were really exercised.
            let alive = 0;
            for (let i = arch.alphaChannel; i < expected.data.length; i += channels) if (expected.data[i] !== 0) alive += 1;
            assert.ok(alive > 0 && alive < width * height, `alive cells: ${alive}`);
            // Weights survive the round trip through the trainer's layout exactly.
            assert.deepEqual(network.toArchitecture(arch).layers.map((l) => Array.from(l.weights)), arch.layers.map((l) => Array.from(l.weights)));
            for (const t of [input, fire, next]) t.dispose();
            step.dispose();
            network.dispose();
          });
        }
      }
    }
  });
}

/**
 * The plain formulation: the same rollout written with differentiable tfjs ops only (built-in
 * gradients; runs on cpu, where every gradient kernel exists), weights in the file's [out, in]
 * layout, alive masks as constants (they have no gradient in either formulation), or with `ramp`
 * the own-alpha mask as a custom gradient: forward the hard threshold, backward the derivative
 * of clamp(alpha / threshold, 0, 1) (what `AliveGradient` 'ramp' promises).
 */
function plainLoss(
  arch: Architecture,
  weights: tf.Tensor[],
  start: tf.Tensor4D,
  masks: readonly tf.Tensor4D[],
  damage: { step: number; keep: tf.Tensor4D },
  target: tf.Tensor4D,
  lossSteps: number,
  ramp = false,
): tf.Scalar {
  const channels = arch.channels;
  const k = arch.kernels.length;
  const filter = tf.tensor4d(
    Array.from({ length: 9 * channels * k }, (_, i) => arch.kernels[i % k]![Math.floor(i / (channels * k))]!),
    [3, 3, channels, k],
  );
  const flags = (state: tf.Tensor4D): tf.Tensor4D => {
    let alpha = tf.slice(state, [0, 0, 0, arch.alphaChannel], [-1, -1, -1, 1]);
    if (arch.aliveMode === 'max-pool') alpha = tf.maxPool(tf.pad(alpha, [[0, 0], [1, 1], [1, 1], [0, 0]]), 3, 1, 'valid');
    const values = tf.cast(tf.greater(alpha, arch.aliveThreshold), 'float32').dataSync();
    return tf.tensor4d(values, alpha.shape as [number, number, number, number]);
  };
  const threshold = arch.aliveThreshold;
  const rampMask = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const alpha = args[0] as tf.Tensor;
    (args[1] as tf.GradSaveFunc)([alpha]);
    return {
      value: tf.cast(tf.greater(alpha, threshold), 'float32'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const a = saved[0]!;
        const inRamp = tf.cast(tf.logicalAnd(tf.greaterEqual(a, 0), tf.lessEqual(a, threshold)), 'float32');
        return tf.div(tf.mul(dy, inRamp), threshold);
      },
    };
  });
  const acts: Record<string, (z: tf.Tensor) => tf.Tensor> = { atan: tf.atan, sigmoid: tf.sigmoid, relu: tf.relu, identity: (z) => z, tanh: tf.tanh };
  let state = start;
  const losses: tf.Scalar[] = [];
  for (let t = 0; t < masks.length; t++) {
    if (t === damage.step) state = tf.mul(state, damage.keep);
    const before = arch.aliveMode === 'max-pool' ? flags(state) : undefined;
    let x: tf.Tensor = tf.reshape(tf.depthwiseConv2d(state, filter, 1, 'same'), [-1, channels * k]);
    arch.layers.forEach((layer, l) => {
      x = acts[layer.activation]!(tf.add(tf.matMul(x, weights[2 * l]!, false, true), weights[2 * l + 1]!));
    });
    const output = tf.reshape(x, state.shape);
    const fire = masks[t]!;
    const updated = (arch.update === 'replace'
      ? tf.add(tf.mul(output, fire), tf.mul(state, tf.sub(1, fire)))
      : tf.add(state, tf.mul(output, fire))) as tf.Tensor4D;
    const after = ramp ? (rampMask(tf.slice(updated, [0, 0, 0, arch.alphaChannel], [-1, -1, -1, 1])) as tf.Tensor4D) : flags(updated);
    state = tf.mul(updated, before ? tf.mul(before, after) : after);
    if (t >= masks.length - lossSteps) {
      losses.push(tf.mean(tf.square(tf.sub(tf.slice(state, [0, 0, 0, 0], [-1, -1, -1, 4]), target))));
    }
  }
  return tf.div(tf.addN(losses), losses.length);
}

describe('hand-written gradient = tfjs autograd of the plain formulation', () => {
  const cases: { rule: NcaRule; hidden?: number; alphaBias?: number; ramp?: boolean; label: string }[] = [
    ...RULES.map((rule) => ({ rule, label: rule })),
    // hidden 16 < 24 perception values: layer 0's weight gradient takes the other transpose.
    { rule: 'distill', hidden: 16, label: 'distill hidden 16' },
    // Empty cells come alive (network(0) has alpha > 0.1): rows without saved activations.
    { rule: 'essay', alphaBias: 3, label: 'essay, life from nothing' },
    // The surrogate alive gradient: dead cells (including all-zero neighbourhoods) pass gradients.
    { rule: 'essay', ramp: true, label: 'essay, ramp alive gradient' },
  ];
  for (const { rule, hidden, alphaBias, ramp, label } of cases) {
    for (const backend of ['cpu', 'wasm']) {
      for (const memory of ['save', 'recompute'] as ActivationMemory[]) {
        it(`${label}, ${backend}, ${memory}`, async () => {
          // Expected values on cpu (every autograd kernel exists there).
          await registerTfjsGradients();
          await selectBackend('cpu');
          const arch = randomArchitecture(rule, 11, { channels: 8, ...(hidden ? { hidden } : {}), ...(alphaBias ? { alphaBias } : {}) });
          const [batch, height, width, channels, steps, lossSteps] = [2, 8, 9, arch.channels, 6, 2];
          const rng = Rng.fromSeed(5);
          const startData = randomState(rng, batch * width * height, channels, width);
          const depth = arch.fireGranularity === 'cell' ? 1 : channels;
          const maskData = Array.from({ length: steps }, () => rng.bernoulli(new Float32Array(batch * height * width * depth), 0.5));
          const keepData = new Float32Array(batch * height * width).fill(1);
          keepData.fill(0, 10, 30);
          const targetData = Float32Array.from({ length: height * width * 4 }, () => rng.uniform());
          const damageStep = 3;

          const fileWeights = arch.layers.flatMap((layer) => [
            tf.tensor2d(layer.weights, [layer.outputs, layer.inputs]),
            tf.tensor1d(layer.bias),
          ]);
          const plainMasks = maskData.map((m) => tf.tensor4d(m, [batch, height, width, depth]));
          const { value, grads } = tf.valueAndGrads((...w: tf.Tensor[]) =>
            plainLoss(
              arch,
              w,
              tf.tensor4d(startData, [batch, height, width, channels]),
              plainMasks,
              { step: damageStep, keep: tf.tensor4d(keepData, [batch, height, width, 1]) },
              tf.tensor4d(targetData, [1, height, width, 4]),
              lossSteps,
              ramp,
            ),
          )(fileWeights);
          const expectedLoss = value.dataSync()[0]!;
          // The trainer holds W as [in, out]; compare in its layout.
          const expected = grads.map((g, i) => (i % 2 === 0 ? tf.transpose(g).dataSync() : g.dataSync()));

          await selectBackend(backend as TrainBackend);
          const tensorsBefore = tf.memory().numTensors;
          const network = TrainableNetwork.fromArchitecture(arch);
          const step = new TfStep(arch, network, { aliveGradient: ramp ? 'ramp' : 'constant' });
          const start = tf.tensor4d(startData, [batch, height, width, channels]);
          const keep = tf.tensor4d(keepData, [batch, height, width, 1]);
          const target = tf.tensor4d(targetData, [1, height, width, 4]);
          const result = rolloutGradients(
            step,
            { start, steps, fireMask: (t) => tf.tensor4d(maskData[t]!, [batch, height, width, depth]), damage: { step: damageStep, keep } },
            { target, lossSteps },
            memory,
          );
          assert.ok(Math.abs(result.loss - expectedLoss) <= 1e-5 * Math.max(1, expectedLoss), `loss ${result.loss} vs ${expectedLoss}`);
          result.gradients.forEach((g, i) => {
            const actual = g.dataSync();
            const scale = Math.max(...Array.from(expected[i]!, Math.abs));
            assert.ok(scale > 0, `gradient ${i} is all zero: the test would prove nothing`);
            const relative = maxAbsDiff(actual, expected[i]!) / scale;
            assert.ok(relative <= 1e-4, `gradient ${i}: relative error ${relative}`);
          });
          for (const t of [...result.gradients, result.final, start, keep, target]) t.dispose();
          step.dispose();
          network.dispose();
          assert.equal(tf.memory().numTensors, tensorsBefore, 'the rollout leaked tensors');
        });
      }
    }
  }
});

describe('an empty grid (no rows for the network)', () => {
  for (const rule of RULES) {
    it(`${rule}: the rollout stays empty, the loss is the empty-grid loss, gradients are finite`, async () => {
      await selectBackend('wasm');
      const arch = randomArchitecture(rule, 3, { channels: 8 });
      const network = TrainableNetwork.fromArchitecture(arch);
      const step = new TfStep(arch, network);
      const [batch, height, width] = [2, 6, 7];
      const depth = arch.fireGranularity === 'cell' ? 1 : arch.channels;
      const start = tf.zeros([batch, height, width, arch.channels]) as tf.Tensor4D;
      const target = tf.fill([1, height, width, 4], 0.5) as tf.Tensor4D;
      const result = rolloutGradients(
        step,
        { start, steps: 3, fireMask: () => tf.ones([batch, height, width, depth]) as tf.Tensor4D },
        { target, lossSteps: 2 },
        'save',
      );
      if (rule === 'distill') {
        // Max-pool: nothing alive before, nothing can live after; the loss is exactly "draw nothing".
        assert.ok(Math.abs(result.loss - 0.25) < 1e-6, `loss ${result.loss}`);
        assert.ok(result.gradients.every((g) => g.dataSync().every((v) => v === 0)));
      }
      assert.ok(result.gradients.every((g) => g.dataSync().every(Number.isFinite)));
      for (const t of [...result.gradients, result.final, start, target]) t.dispose();
      step.dispose();
      network.dispose();
    });
  }
});
