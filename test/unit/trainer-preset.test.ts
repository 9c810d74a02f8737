/**
 * `--preset essay`: the reference essay's recipe as defaults (fire rate, curriculum, init, alive
 * gradient, crop), explicit options still winning, and the essay's curriculum with every
 * perturbation at step 0.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRule, DISTILL_POOL_SIZE, ESSAY_CROP, resolveOptions, TASKS } from '../../trainer/training/config.js';
import { Curriculum, essayDifficulty } from '../../trainer/training/curriculum.js';
import { isTrainerError } from './trainer-helpers.js';

describe('--preset essay', () => {
  it('takes the essay text’s fire rate, random init, constant alive gradient, no pool and a crop for growth', () => {
    const growth = resolveOptions({ target: 'chick.png', task: 'growth', preset: 'essay' });
    assert.equal(growth.preset, 'essay');
    assert.equal(growth.rule, 'essay');
    assert.equal(growth.fireRate, 0.8);
    assert.equal(growth.init, 'random');
    assert.equal(growth.aliveGradient, 'constant');
    assert.equal(growth.poolSize, 0);
    assert.equal(growth.crop, ESSAY_CROP);
    const healing = resolveOptions({ target: 'lizard.png', task: 'healing', preset: 'essay' });
    assert.equal(healing.crop, 0, 'only growth starts from a crop');
    assert.deepEqual(healing.curriculum.hard, essayDifficulty('healing').hard);
  });

  it('leaves the project defaults alone without it', () => {
    const plain = resolveOptions({ target: 'chick.png', task: 'growth', rule: 'essay' });
    assert.equal(plain.preset, 'default');
    assert.equal(plain.fireRate, 0.8, "the essay rule's default is its text's fire rate");
    assert.equal(resolveOptions({ target: 'chick.png', task: 'growth', rule: 'distill' }).fireRate, 0.5, "Distill's own");
    assert.equal(plain.init, 'keep');
    assert.equal(plain.aliveGradient, 'ramp');
    assert.equal(plain.crop, ESSAY_CROP, "growth starts from the essay's crop under both presets");
    assert.equal(resolveOptions({ target: 'chick.png', task: 'growth', crop: 0 }).crop, 0, '--crop 0: the seed');
    assert.equal(resolveOptions({ target: 'chick.png', task: 'healing' }).crop, 0, 'only growth starts from a crop');
    assert.equal(plain.poolSize, 0);
  });
});

describe('the rule a run trains when it names none', () => {
  it("is the essay's for persistence and Distill's, with its pool, for growth and healing", () => {
    const persistence = resolveOptions({ target: 'a.png', task: 'persistence' });
    assert.deepEqual([persistence.rule, persistence.poolSize, persistence.hidden, persistence.fireRate], ['essay', 0, 64, 0.8]);
    for (const task of ['growth', 'healing'] as const) {
      const options = resolveOptions({ target: 'a.png', task });
      assert.deepEqual([options.rule, options.poolSize, options.hidden, options.fireRate], ['distill', DISTILL_POOL_SIZE, 128, 0.5], task);
      assert.equal(options.crop, task === 'growth' ? ESSAY_CROP : 0, task);
    }
  });

  it("is the essay's when the essay's recipe or first weights are asked for", () => {
    for (const task of TASKS) {
      assert.equal(resolveOptions({ target: 'a.png', task, preset: 'essay' }).rule, 'essay', `${task}, --preset essay`);
      assert.equal(resolveOptions({ target: 'a.png', task, init: 'keep' }).rule, 'essay', `${task}, --init keep`);
      assert.equal(resolveOptions({ target: 'a.png', task, init: 'identity' }).rule, 'essay', `${task}, --init identity`);
      assert.equal(defaultRule(task, 'default', 'random'), task === 'persistence' ? 'essay' : 'distill', `${task}, --init random`);
    }
  });

  it('gives way to --rule and --pool-size', () => {
    const essay = resolveOptions({ target: 'a.png', task: 'growth', rule: 'essay' });
    assert.deepEqual([essay.rule, essay.poolSize], ['essay', 0]);
    const noPool = resolveOptions({ target: 'a.png', task: 'healing', poolSize: 0 });
    assert.deepEqual([noPool.rule, noPool.poolSize], ['distill', 0]);
    assert.equal(resolveOptions({ target: 'a.png', task: 'persistence', rule: 'distill' }).poolSize, DISTILL_POOL_SIZE);
  });

  it('lets explicit options win over the preset', () => {
    const options = resolveOptions({ target: 'chick.png', task: 'growth', preset: 'essay', fireRate: 0.5, crop: 0.5, init: 'keep' });
    assert.equal(options.fireRate, 0.5);
    assert.equal(options.crop, 0.5);
    assert.equal(options.init, 'keep');
  });

  it('refuses an unknown preset and the Distill rule by name', () => {
    assert.throws(() => resolveOptions({ target: 'a.png', task: 'growth', preset: 'distill' as never }), isTrainerError('bad-option', /unknown preset "distill"/));
    assert.throws(() => resolveOptions({ target: 'a.png', task: 'growth', preset: 'essay', rule: 'distill' }), isTrainerError('bad-option', /essay's rule, not distill/));
  });

  it('perturbs at step 0 only, from a slightly noisy target to a cropped, noisy, bitten one', () => {
    for (const task of TASKS) {
      const { easy, hard } = essayDifficulty(task);
      assert.equal(easy.lateDamage, 0, `${task}: no late damage`);
      assert.equal(hard.lateDamage, 0, `${task}: no late damage`);
      assert.ok(easy.noise > 0 && easy.noise < hard.noise, `${task}: noise grows from a little`);
      assert.ok(easy.maxSteps < hard.maxSteps, `${task}: rollouts grow`);
    }
    const growth = new Curriculum({ levels: 5, threshold: 0.1, patience: 50, smoothing: 0.05, ...essayDifficulty('growth') });
    assert.equal(growth.difficulty(0).truncation, 1, 'growth starts from the whole target');
    assert.equal(growth.hardest.truncation, 0, 'and ends at the crop (the run clamps truncation to --crop)');
    assert.ok(growth.hardest.bites > 0, 'with missing pixels');
  });
});
