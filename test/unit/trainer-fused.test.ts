/**
 * The fused WebAssembly training engine against the tfjs step (the oracle): the same rollout,
 * fire masks, bite and loss give the same loss, final state and gradients, for both rule
 * families and both alive gradients; a batch split over threads gives the one-engine result; and
 * the committed kernel binary is what its source compiles to.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { NcaRule } from '../../runtime/format/index.js';
import type { Architecture } from '../../runtime/format/types.js';
import { compileKernelModule } from '../../trainer/fused/build-kernel.js';
import { FusedEngine, fusedSupport, type FusedResult, type FusedRollout } from '../../trainer/fused/engine.js';
import { fireMaskValues } from '../../trainer/fused/fire-mask.js';
import { FusedTrainer } from '../../trainer/fused/parallel.js';
import { chosenKernelVariant, relaxedSimdAvailable } from '../../trainer/fused/kernel-variant.js';
import { TrainableNetwork } from '../../trainer/model/network.js';
import { Rng } from '../../trainer/training/rng.js';
import { lossWeights } from '../../trainer/training/loss-weights.js';
import { rolloutGradients } from '../../trainer/training/rollout.js';
import { TfStep, type AliveGradient } from '../../trainer/model/step.js';
import { randomArchitecture, randomState } from '../fixtures/trainer-models.js';

const WIDTH = 11;
const HEIGHT = 9;
const BATCH = 3;
const STEPS = 7;
const SEED = 0x9e3779b9;

/** sqrt(sum (a-b)^2 / sum b^2): the error of a relative to b as a whole. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

interface Case {
  readonly arch: Architecture;
  readonly weights: Float32Array[];
  readonly rollout: FusedRollout;
}

function makeCase(rule: NcaRule, seed: number, hidden: number): Case {
  const arch = randomArchitecture(rule, seed, { hidden });
  const rng = Rng.fromSeed(seed + 1);
  const network = TrainableNetwork.fromArchitecture(arch);
  const weights = network.read();
  network.dispose();
  const cells = BATCH * WIDTH * HEIGHT;
  const keep = new Float32Array(cells).map(() => (rng.uniform() < 0.25 ? 0 : 1));
  return {
    arch,
    weights,
    rollout: {
      start: randomState(rng, cells, arch.channels, WIDTH),
      batch: BATCH,
      height: HEIGHT,
      width: WIDTH,
      steps: STEPS,
      maskSeed: SEED,
      cellOffset: 0,
      damage: { step: 3, keep },
      target: new Float32Array(HEIGHT * WIDTH * (arch.alphaChannel + 1)).map(() => rng.uniform()),
      // The loss window covers the bitten state: its loss gradient is taken before the bite.
      lossSteps: 4,
      lossBatch: BATCH,
    },
  };
}

/** The same rollout through the tfjs step with the same fire masks. */
function oracle({ arch, weights, rollout }: Case, aliveGradient: AliveGradient): FusedResult & { loss: number } {
  const network = TrainableNetwork.fromArchitecture(arch);
  network.assign(weights);
  const step = new TfStep(arch, network, { aliveGradient });
  const { batch, height, width, steps } = rollout;
  const depth = arch.fireGranularity === 'cell' ? 1 : arch.channels;
  const start = tf.tensor4d(rollout.start, [batch, height, width, arch.channels]);
  const keep = tf.tensor4d(rollout.damage!.keep, [batch, height, width, 1]);
  const target = tf.tensor4d(rollout.target, [1, height, width, arch.alphaChannel + 1]);
  const lossWeight = rollout.weights ? tf.tensor4d(rollout.weights, [1, height, width, arch.alphaChannel + 1]) : undefined;
  const result = rolloutGradients(
    step,
    {
      start,
      steps,
      fireMask: (t) => tf.tensor4d(fireMaskValues(rollout.maskSeed, t, 0, batch * height * width, depth, arch.fireRate), [batch, height, width, depth]),
      damage: { step: rollout.damage!.step, keep },
    },
    { target, lossSteps: rollout.lossSteps, ...(lossWeight ? { weights: lossWeight } : {}) },
    'save',
  );
  const out = {
    loss: result.loss,
    perSample: result.perSample,
    final: result.final.dataSync() as Float32Array,
    gradients: result.gradients.map((g) => g.dataSync() as Float32Array),
  };
  for (const t of [start, keep, target, result.final, ...result.gradients]) t.dispose();
  lossWeight?.dispose();
  step.dispose();
  network.dispose();
  return out;
}

/** The rollout without loss weights. */
function plainRollout({ weights: _weights, ...rollout }: FusedRollout): FusedRollout {
  return rollout;
}

describe('fused engine = tfjs step (loss, final state, gradients)', () => {
  for (const rule of ['essay', 'distill'] as const) {
    for (const aliveGradient of ['constant', 'ramp'] as const) {
      for (const [hidden, kernel] of [[16, 'simd'], [32, 'simd'], [16, 'relaxed-simd'], [32, 'relaxed-simd']] as const) {
        it(`${rule}, ${aliveGradient} alive gradient, hidden ${hidden}, ${kernel} kernel`, async () => {
          await tf.setBackend('cpu');
          const testCase = makeCase(rule, 11 + hidden, hidden);
          const expected = oracle(testCase, aliveGradient);
          const fused = new FusedEngine(testCase.arch, { aliveGradient, kernel }).run(testCase.rollout, testCase.weights);
          assert.equal(fused.gradients.length, expected.gradients.length);
          assert.ok(expected.loss > 0 && Number.isFinite(expected.loss));
          assert.ok(relativeError(fused.perSample, expected.perSample) < 1e-5, `per-sample loss ${fused.perSample} vs ${expected.perSample}`);
          assert.ok(relativeError(fused.final, expected.final) < 1e-5, `final state: ${relativeError(fused.final, expected.final)}`);
          fused.gradients.forEach((g, i) => {
            const error = relativeError(g, expected.gradients[i]!);
            assert.ok(error < 1e-4, `gradient ${i}: relative error ${error}`);
          });
        });
      }
    }
  }

  for (const rule of ['essay', 'distill'] as const) {
    it(`${rule}: a weighted loss (--background-weight) gives the same loss and gradients, and changes them`, async () => {
      await tf.setBackend('cpu');
      const plain = makeCase(rule, 23, 16);
      const rgba = plain.arch.alphaChannel + 1;
      // A third of the target transparent, its alpha error weighed 20 times.
      const target = plain.rollout.target.map((v, i) => (i % rgba === rgba - 1 && Math.floor(i / rgba) % 3 === 0 ? 0 : v));
      const weighted: Case = { ...plain, rollout: { ...plain.rollout, target, weights: lossWeights(target, rgba, 20)! } };
      const expected = oracle(weighted, 'ramp');
      const fused = new FusedEngine(weighted.arch, { aliveGradient: 'ramp' }).run(weighted.rollout, weighted.weights);
      assert.ok(relativeError(fused.perSample, expected.perSample) < 1e-5, `per-sample loss ${fused.perSample} vs ${expected.perSample}`);
      fused.gradients.forEach((g, i) => assert.ok(relativeError(g, expected.gradients[i]!) < 1e-4, `gradient ${i}`));
      const unweighted = new FusedEngine(weighted.arch, { aliveGradient: 'ramp' }).run(plainRollout(weighted.rollout), weighted.weights);
      assert.ok(fused.perSample[0]! > unweighted.perSample[0]!, 'the weight raises the loss');
      assert.ok(relativeError(fused.gradients[2]!, unweighted.gradients[2]!) > 1e-3, 'and changes the gradients');
    });
  }

  it('the ramp surrogate is exercised: it changes the essay rule gradients in both engines alike', async () => {
    await tf.setBackend('cpu');
    const testCase = makeCase('essay', 5, 16);
    const constant = new FusedEngine(testCase.arch, { aliveGradient: 'constant' }).run(testCase.rollout, testCase.weights);
    const ramp = new FusedEngine(testCase.arch, { aliveGradient: 'ramp' }).run(testCase.rollout, testCase.weights);
    assert.ok(relativeError(ramp.gradients[0]!, constant.gradients[0]!) > 1e-3, 'ramp and constant gradients are the same: no dead cell was pushed');
  });

  it('a NaN start (the divergence hook) gives a NaN loss, as in the tfjs step, and leaves nothing behind', () => {
    const testCase = makeCase('essay', 3, 16);
    const engine = new FusedEngine(testCase.arch);
    const clean = engine.run(testCase.rollout, testCase.weights);
    const result = engine.run({ ...testCase.rollout, poison: true }, testCase.weights);
    assert.ok(result.perSample.every((v) => Number.isNaN(v)));
    // The same engine's next rollout is unaffected by the NaNs the poisoned one left in scratch.
    const again = engine.run(testCase.rollout, testCase.weights);
    assert.deepEqual(again.perSample, clean.perSample);
    again.gradients.forEach((g, i) => assert.deepEqual(g, clean.gradients[i]));
  });
});

describe('fused trainer: the batch split over threads', () => {
  for (const rule of ['essay', 'distill'] as const) {
    it(`${rule}: 2 and 3 threads give the one-engine result`, async () => {
      const testCase = makeCase(rule, 21, 16);
      const one = new FusedEngine(testCase.arch, { aliveGradient: 'ramp' }).run(testCase.rollout, testCase.weights);
      for (const threads of [2, 3]) {
        const trainer = new FusedTrainer(testCase.arch, { aliveGradient: 'ramp', threads });
        try {
          const split = await trainer.run(testCase.rollout, testCase.weights);
          assert.deepEqual(split.perSample, one.perSample);
          assert.deepEqual(split.final, one.final);
          split.gradients.forEach((g, i) => assert.ok(relativeError(g, one.gradients[i]!) < 1e-5, `threads ${threads}, gradient ${i}`));
        } finally {
          await trainer.close();
        }
      }
    });
  }

  it('an unclosed trainer does not keep the process alive (a caller that threw must still exit)', () => {
    const script = new URL('../fixtures/unclosed-fused-trainer.ts', import.meta.url).pathname;
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.signal, null, 'the process had to be killed: a worker kept it alive');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /ran 2 samples/);
  });

  it('rejects a thread count that is not a positive integer', () => {
    const { arch } = makeCase('essay', 1, 16);
    assert.throws(() => new FusedTrainer(arch, { threads: 0 }), /threads must be a positive integer/);
  });
});

describe('fused engine: what it runs', () => {
  it('names why it cannot run a model', () => {
    const arch = randomArchitecture('essay', 1, { hidden: 16 });
    assert.equal(fusedSupport(arch), undefined);
    assert.match(fusedSupport({ ...arch, layers: [arch.layers[0]!] }) ?? '', /two dense layers/);
    assert.match(fusedSupport({ ...arch, layers: [{ ...arch.layers[0]!, activation: 'tanh' }, arch.layers[1]!] }) ?? '', /hidden activation tanh/);
    assert.match(fusedSupport(randomArchitecture('essay', 1, { hidden: 24 })) ?? '', /hidden width 24/);
    assert.match(fusedSupport(randomArchitecture('essay', 1, { hidden: 16, channels: 8 })) ?? '', /8 channels/);
    assert.throws(() => new FusedEngine({ ...arch, layers: [arch.layers[0]!] }), /cannot run this model/);
  });

  it('refuses inputs of the wrong size', () => {
    const testCase = makeCase('essay', 2, 16);
    const engine = new FusedEngine(testCase.arch);
    assert.throws(() => engine.run({ ...testCase.rollout, start: new Float32Array(5) }, testCase.weights), /start has 5 values/);
    assert.throws(() => engine.run(testCase.rollout, testCase.weights.slice(0, 2)), /expected weights/);
    assert.throws(() => engine.run({ ...testCase.rollout, steps: 0 }, testCase.weights), /at least 1 step/);
  });
});

describe('fire masks', () => {
  it('fire at the asked rate, per element, and a group of cells draws its slice of the whole', () => {
    for (const rate of [0.5, 0.8]) {
      const mask = fireMaskValues(7, 3, 0, 4000, 16, rate);
      const share = mask.reduce((sum, v) => sum + v, 0) / mask.length;
      assert.ok(Math.abs(share - rate) < 0.01, `rate ${rate}: ${share}`);
    }
    const whole = fireMaskValues(7, 3, 0, 100, 16, 0.5);
    assert.deepEqual(fireMaskValues(7, 3, 40, 60, 16, 0.5), whole.slice(40 * 16));
    assert.notDeepEqual(fireMaskValues(7, 4, 0, 100, 16, 0.5), whole, 'steps draw different masks');
    assert.notDeepEqual(fireMaskValues(8, 3, 0, 100, 16, 0.5), whole, 'seeds draw different masks');
    assert.ok(fireMaskValues(7, 3, 0, 100, 16, 1).every((v) => v === 1));
    assert.ok(fireMaskValues(7, 3, 0, 100, 16, 0).every((v) => v === 0));
  });
});

describe('fused kernel builds', () => {
  it('runs the relaxed-SIMD build on every supported Node (natively from V8 11.4, by flag on Node 20)', () => {
    assert.equal(relaxedSimdAvailable(), true);
    assert.equal(chosenKernelVariant({}), 'relaxed-simd', 'auto prefers the fused multiply-add');
    assert.equal(chosenKernelVariant({ NCA_KERNEL: 'simd' }), 'simd');
    assert.equal(chosenKernelVariant({ NCA_KERNEL: 'relaxed-simd' }), 'relaxed-simd');
    assert.throws(() => chosenKernelVariant({ NCA_KERNEL: 'avx' }), /NCA_KERNEL=avx: expected simd, relaxed-simd or auto/);
  });

  it('give the same rollout up to rounding, and every thread of a split batch runs the chosen one', async () => {
    const testCase = makeCase('essay', 5, 32);
    const plain = new FusedEngine(testCase.arch, { aliveGradient: 'ramp', kernel: 'simd' }).run(testCase.rollout, testCase.weights);
    const relaxed = new FusedEngine(testCase.arch, { aliveGradient: 'ramp', kernel: 'relaxed-simd' }).run(testCase.rollout, testCase.weights);
    assert.ok(relativeError(relaxed.final, plain.final) < 1e-5);
    relaxed.gradients.forEach((g, i) => assert.ok(relativeError(g, plain.gradients[i]!) < 1e-4, `gradient ${i}`));
    const trainer = new FusedTrainer(testCase.arch, { aliveGradient: 'ramp', threads: 2, kernel: 'simd' });
    try {
      assert.equal(trainer.kernel, 'simd');
      const split = await trainer.run(testCase.rollout, testCase.weights);
      assert.deepEqual(split.final, plain.final, 'two threads of the plain build = one engine of it, bit for bit');
    } finally {
      await trainer.close();
    }
  });
});

describe('fused kernel binary', () => {
  it('is what assembly/kernel.ts compiles to (npm run build:kernel)', () => {
    const committed = readFileSync(new URL('../../trainer/fused/kernel-binary.ts', import.meta.url), 'utf8');
    assert.equal(committed, compileKernelModule(), 'kernel-binary.ts is stale: run npm run build:kernel');
  });
});
