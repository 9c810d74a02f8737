/**
 * Fine tuning and the last level's rollout length: `--init-from FILE.nca` starts a fresh run from
 * a trained model's weights (refusing ones that do not fit, naming why; widening into a wider
 * hidden layer without changing the step), and `--steps MIN-MAX`
 * sets the rollout length of the curriculum's last level.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseArgs } from 'node:util';
import { decodeModel } from '../../runtime/format/index.js';
import { runSteps, startState } from '../../runtime/reference/index.js';
import { explicitOptions, FLAGS } from '../../trainer/cli/train.js';
import { resolveOptions } from '../../trainer/training/config.js';
import { defaultDifficulty } from '../../trainer/training/curriculum.js';
import { train } from '../../trainer/training/train.js';
import { isTrainerError, tinyOptions, trainingFolder } from './trainer-helpers.js';

const folder = trainingFolder('nca-init-from-');

describe('--init-from', () => {
  it('starts a fresh run from the model’s weights exactly', async () => {
    const first = tinyOptions(folder(), 'first', { iterations: 4 });
    assert.equal((await train(first)).status, 'completed');
    const trained = decodeModel(new Uint8Array(await readFile(first.out)));
    // A learning rate of 0: the second run's export is its starting weights.
    const second = tinyOptions(folder(), 'second', { iterations: 1, learningRate: 0, initFrom: first.out, seed: 9 });
    assert.equal((await train(second)).status, 'completed');
    const tuned = decodeModel(new Uint8Array(await readFile(second.out)));
    tuned.architecture.layers.forEach((layer, i) => {
      assert.deepEqual(layer.weights, trained.architecture.layers[i]!.weights, `layer ${i} weights`);
      assert.deepEqual(layer.bias, trained.architecture.layers[i]!.bias, `layer ${i} bias`);
    });
    const fresh = tinyOptions(folder(), 'fresh', { iterations: 1, learningRate: 0, seed: 9 });
    await train(fresh);
    const untouched = decodeModel(new Uint8Array(await readFile(fresh.out)));
    assert.notDeepEqual(untouched.architecture.layers[0]!.weights, trained.architecture.layers[0]!.weights, 'without the flag the seed decides');
  });

  it('refuses weights of another rule or size, and a missing file, by name', async () => {
    const source = tinyOptions(folder(), 'source', { iterations: 1 });
    await train(source);
    await assert.rejects(train(tinyOptions(folder(), 'other-rule', { rule: 'essay', initFrom: source.out })), isTrainerError('bad-option', /do not fit this run: .*update/));
    // A narrower hidden layer: widening only goes one way.
    await assert.rejects(train(tinyOptions(folder(), 'other-hidden', { hidden: 32, initFrom: source.out })), isTrainerError('bad-option', /layer 0 is 48->128 relu, the run's is 48->32 relu/));
    await assert.rejects(train(tinyOptions(folder(), 'missing', { initFrom: join(folder(), 'nope.nca') })), isTrainerError('bad-option', /--init-from: .*nope\.nca/));
  });
});

describe('--init-from into a wider --hidden', () => {
  for (const rule of ['distill', 'essay'] as const) {
    it(`keeps the ${rule} model's step exactly and adds units that start silent`, async () => {
      const source = tinyOptions(folder(), `narrow-${rule}`, { rule, iterations: 3 });
      assert.equal((await train(source)).status, 'completed');
      const narrow = decodeModel(new Uint8Array(await readFile(source.out)));
      const width = narrow.architecture.layers[0]!.outputs + 16;
      const wide = tinyOptions(folder(), `wide-${rule}`, { rule, hidden: width, iterations: 1, learningRate: 0, initFrom: source.out, seed: 5 });
      assert.equal((await train(wide)).status, 'completed');
      const widened = decodeModel(new Uint8Array(await readFile(wide.out)));
      const [hidden, output] = widened.architecture.layers;
      assert.equal(hidden!.outputs, width);
      const units = narrow.architecture.layers[0]!.outputs;
      for (let o = 0; o < output!.outputs; o++) {
        const row = output!.weights.subarray(o * width, (o + 1) * width);
        assert.deepEqual(row.subarray(0, units), narrow.architecture.layers[1]!.weights.subarray(o * units, (o + 1) * units), `output ${o}: the model's units`);
        assert.ok(row.subarray(units).every((w) => w === 0), `output ${o}: the extra units are silent`);
      }
      assert.ok(hidden!.weights.subarray(units * hidden!.inputs).some((w) => w !== 0), 'the extra units read their inputs, so they can learn');
      const start = startState(narrow);
      const a = runSteps(narrow.architecture, start, { seed: 3, steps: 12 });
      const b = runSteps(widened.architecture, start, { seed: 3, steps: 12 });
      assert.deepEqual(b.data, a.data, 'the widened network computes the same step');
      assert.ok(a.data.some((v) => v !== 0), 'the compared states are not empty');
    });
  }
});

describe('--steps', () => {
  const parse = (args: string[]) => explicitOptions(parseArgs({ args, options: FLAGS, strict: true, allowPositionals: false }).values);

  it('sets the last level’s rollout length and leaves the first level’s', () => {
    const explicit = parse(['--steps', '160-220']);
    assert.deepEqual(explicit.lastLevelSteps, { min: 160, max: 220 });
    const options = resolveOptions({ target: 'chick.png', task: 'growth', ...explicit });
    assert.equal(options.curriculum.hard.minSteps, 160);
    assert.equal(options.curriculum.hard.maxSteps, 220);
    assert.deepEqual(options.curriculum.easy, defaultDifficulty('growth').easy);
    assert.deepEqual(parse(['--steps', '200']).lastLevelSteps, { min: 200, max: 200 });
  });

  it('refuses a range that is not one', () => {
    assert.throws(() => parse(['--steps', '220-160']), isTrainerError('bad-option', /--steps 220-160/));
    assert.throws(() => parse(['--steps', 'long']), isTrainerError('bad-option', /--steps expects MIN-MAX/));
  });
});
