/**
 * `--preset essay`: the reference essay's recipe as defaults (fire rate, curriculum, init, alive
 * gradient, crop), explicit options still winning, and the essay's curriculum with every
 * perturbation at step 0.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ESSAY_CROP, resolveOptions, TASKS } from '../../trainer/training/config.js';
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
    const plain = resolveOptions({ target: 'chick.png', task: 'growth' });
    assert.equal(plain.preset, 'default');
    assert.equal(plain.fireRate, 0.8, "the essay rule's default is its text's fire rate");
    assert.equal(resolveOptions({ target: 'chick.png', task: 'growth', rule: 'distill' }).fireRate, 0.5, "Distill's own");
    assert.equal(plain.init, 'keep');
    assert.equal(plain.aliveGradient, 'ramp');
    assert.equal(plain.crop, 0);
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
