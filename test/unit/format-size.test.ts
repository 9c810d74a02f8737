/**
 * The size and accuracy figures quoted in docs/format.md ("Size"). The forward pass is written
 * out here on purpose: the reference step (runtime/reference/) is separate work and this test must
 * not depend on it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  countParameters,
  createArchitecture,
  createModel,
  decodeModel,
  encodeModel,
  type Architecture,
  type DenseLayer,
  type NcaModel,
} from '../../runtime/format/index.js';
import { mulberry32 } from './format-helpers.js';

const BUDGET = 9000;
/** Max |int8 - f32| of the update vector (layer 2 output) on the fixed set; measured 4.9e-3. */
const OUTPUT_BOUND = 0.01;
/** Max |int8 - f32| of the hidden layer (layer 1, after relu); measured 4.0e-3. */
const HIDDEN_BOUND = 0.01;

function distillModel(): NcaModel {
  const random = mulberry32(2020);
  // 'random' (not Distill's zero last layer) so the output is not trivially zero.
  const arch = createArchitecture({ rule: 'distill', channels: 16, hidden: 128, init: 'random', random });
  for (const layer of arch.layers) for (let i = 0; i < layer.bias.length; i++) layer.bias[i] = (random() * 2 - 1) * 0.1;
  return createModel(arch, {
    name: 'Lizard 🦎',
    task: 'growth',
    targetWidth: 40,
    targetHeight: 40,
    training: { iterations: 8000, finalLoss: 0.00231 },
    attribution: 'Target: Noto Emoji U+1F98E (Apache-2.0). Rule: Mordvintsev et al., Distill 2020.',
  });
}

function dense(layer: DenseLayer, x: Float64Array): Float64Array {
  const y = new Float64Array(layer.outputs);
  for (let o = 0; o < layer.outputs; o++) {
    let sum = layer.bias[o] as number;
    for (let i = 0; i < layer.inputs; i++) sum += (layer.weights[o * layer.inputs + i] as number) * (x[i] as number);
    y[o] = layer.activation === 'relu' ? Math.max(0, sum) : sum;
  }
  return y;
}

/** Perception of random 3x3 neighbourhoods with state values in [0, 1), channel-major. */
function perceptionSet(arch: Architecture, count: number): Float64Array[] {
  const random = mulberry32(7);
  const K = arch.kernels.length;
  const set: Float64Array[] = [];
  for (let n = 0; n < count; n++) {
    const p = new Float64Array(K * arch.channels);
    for (let c = 0; c < arch.channels; c++) {
      const neighbourhood = Array.from({ length: 9 }, () => random());
      arch.kernels.forEach((kernel, k) => {
        p[c * K + k] = neighbourhood.reduce((sum, s, i) => sum + (kernel[i] as number) * s, 0);
      });
    }
    set.push(p);
  }
  return set;
}

function maxDeviation(a: NcaModel, b: NcaModel, inputs: Float64Array[]): { hidden: number; output: number; outputRange: number } {
  let hidden = 0;
  let output = 0;
  let outputRange = 0;
  const [a0, a1] = a.architecture.layers as [DenseLayer, DenseLayer];
  const [b0, b1] = b.architecture.layers as [DenseLayer, DenseLayer];
  for (const p of inputs) {
    const ha = dense(a0, p);
    const hb = dense(b0, p);
    const oa = dense(a1, ha);
    const ob = dense(b1, hb);
    ha.forEach((v, i) => (hidden = Math.max(hidden, Math.abs(v - (hb[i] as number)))));
    oa.forEach((v, i) => {
      output = Math.max(output, Math.abs(v - (ob[i] as number)));
      outputRange = Math.max(outputRange, Math.abs(v));
    });
  }
  return { hidden, output, outputRange };
}

test(`a 16-channel distill model (hidden 128, 8,336 params) in int8 fits in ${BUDGET} bytes`, () => {
  const model = distillModel();
  assert.equal(countParameters(model.architecture.layers), 8336);
  const bytes = encodeModel(model, { precision: 'int8', biasPrecision: 'int8' });
  const strings = new TextEncoder().encode(model.metadata.name + model.metadata.attribution).length;
  console.log(
    `int8 model: ${bytes.length} bytes (${bytes.length - strings} fixed + ${strings} of name and attribution; ` +
      `f16: ${encodeModel(model, { precision: 'f16', biasPrecision: 'f16' }).length}, ` +
      `f32: ${encodeModel(model).length})`,
  );
  assert.ok(bytes.length <= BUDGET, `${bytes.length} bytes`);
});

test('int8 vs f32: hidden and update-vector deviation on 1,024 fixed perception vectors', () => {
  const model = distillModel();
  const int8 = decodeModel(encodeModel(model, { precision: 'int8', biasPrecision: 'int8' }));
  const f16 = decodeModel(encodeModel(model, { precision: 'f16', biasPrecision: 'f16' }));
  const inputs = perceptionSet(model.architecture, 1024);
  const q = maxDeviation(model, int8, inputs);
  const h = maxDeviation(model, f16, inputs);
  const fmt = (x: number): string => x.toExponential(2);
  console.log(
    `int8 vs f32: max |d hidden| ${fmt(q.hidden)}, max |d output| ${fmt(q.output)} ` +
      `(${((q.output / q.outputRange) * 100).toFixed(2)}% of max |output| ${q.outputRange.toFixed(3)}); ` +
      `f16 vs f32: ${fmt(h.hidden)}, ${fmt(h.output)}`,
  );
  assert.ok(q.hidden <= HIDDEN_BOUND, `hidden deviation ${q.hidden}`);
  assert.ok(q.output <= OUTPUT_BOUND, `output deviation ${q.output}`);
});
