/**
 * `evaluateModel` on constructed models whose behaviour is known without training: one that never
 * changes (fire rate 0, own alpha), one that dies at once, one that fills its world, one that
 * diverges. Grids are small so the reference step is fast.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createArchitecture, createModel } from '../../runtime/format/index.js';
import type { Architecture, NcaModel, Task } from '../../runtime/format/types.js';
import { cloneState, damageDisc, startState, type CaState } from '../../runtime/reference/index.js';
import {
  PSNR_CAP_DB,
  THRESHOLDS,
  evaluateModel,
  formatJson,
  formatReport,
  startImageTarget,
  targetFromState,
  type EvalReport,
  type EvalResult,
  type Stepper,
  type StepperFactory,
} from '../../trainer/eval/index.js';

/** An 8 x 8 image whose rows 1..6 are opaque (alpha 255) in varied colours, rows 0 and 7 clear. */
function spriteRgba(): Uint8Array {
  const rgba = new Uint8Array(8 * 8 * 4);
  for (let y = 1; y < 7; y++) {
    for (let x = 0; x < 8; x++) rgba.set([x * 30, y * 40, 200, 255], (y * 8 + x) * 4);
  }
  return rgba;
}

/** Essay rule (own alpha, replace) with a tiny network; `edit` shapes the last layer. */
function essayArch(fireRate: number, edit?: (last: { weights: Float32Array; bias: Float32Array }) => void): Architecture {
  const arch = createArchitecture({ rule: 'essay', hidden: 4, fireRate, random: () => 0.5 });
  edit?.(arch.layers[1]!);
  return arch;
}

function model(arch: Architecture, task: Task, name = 'Constructed'): NcaModel {
  return createModel(arch, {
    name,
    task,
    targetWidth: 8,
    targetHeight: 8,
    gridWidth: 16,
    gridHeight: 16,
    start: { kind: 'image', width: 8, height: 8, rgba: spriteRgba() },
  });
}

/** Fire rate 0: nothing ever fires, and every start cell has alpha 1 > 0.1, so the state never changes. */
const frozen = (task: Task): NcaModel => model(essayArch(0), task, 'Frozen');

const quick = { steps: 5, healSteps: 5, longSteps: 12 } as const;

function report(m: NcaModel, result: EvalResult): EvalReport {
  return { file: 'frozen.nca', name: m.metadata.name, gridWidth: 16, gridHeight: 16, target: { source: 'start-image', width: 8, height: 8 }, result };
}

describe('a model that never changes', () => {
  it('scores its own start image as exact, persists, and does not heal', async () => {
    const m = frozen('persistence');
    const result = await evaluateModel(m, startImageTarget(m)!, quick);
    assert.equal(result.growth.snapshot.psnr, PSNR_CAP_DB);
    assert.equal(result.growth.verdict, 'pass');
    assert.deepEqual(result.box, { x: 4, y: 5, width: 8, height: 6 });
    assert.deepEqual(
      result.persistence.checkpoints.map((c) => [c.step, c.psnr, c.health]),
      [
        [5, PSNR_CAP_DB, 'ok'],
        [12, PSNR_CAP_DB, 'ok'],
      ],
    );
    assert.equal(result.persistence.verdict, 'pass');
    assert.equal(result.healing.verdict, 'fail');
    assert.equal(result.healing.bites.length, 3);
    for (const bite of result.healing.bites) {
      assert.ok(bite.bitten < bite.before, `${bite.bite.name}: the bite removes cells (${bite.bitten} < ${bite.before})`);
      assert.equal(bite.after.psnr, bite.bitten, `${bite.bite.name}: nothing grows back`);
      assert.equal(bite.verdict, 'fail');
    }
    // The first bite starts from the exact image.
    assert.equal(result.healing.bites[0]!.before, PSNR_CAP_DB);
    assert.equal(result.healing.bites[1]!.before, result.healing.bites[0]!.after.psnr);
    // A persistence model need not heal.
    assert.deepEqual(result.required, ['growth', 'persistence']);
    assert.equal(result.verdict, 'pass');
  });

  it('fails as a healing model', async () => {
    const m = frozen('healing');
    const result = await evaluateModel(m, startImageTarget(m)!, quick);
    assert.equal(result.verdict, 'fail');
    assert.match(result.healing.reasons[0]!, /^centre-left bite: .* after 5 steps, below 100\.00 dB before the bite minus 3 dB$/);
    // Later bites cost less than 3 dB; they fail because nothing of the loss came back.
    assert.match(result.healing.reasons[2]!, /^top-right bite: won back 0\.00 dB of the .* the bite cost, less than 50%$/);
  });

  it('reports the cap as "exact" in the table and as the cap in JSON', async () => {
    const m = frozen('persistence');
    const result = await evaluateModel(m, startImageTarget(m)!, quick);
    const text = formatReport(report(m, result));
    assert.match(text, /growth\s+pass\s+PSNR exact dB after 5 steps/);
    assert.match(text, /verdict\s+PASS/);
    const json = JSON.parse(formatJson(report(m, result)));
    assert.equal(json.growth.psnr, PSNR_CAP_DB);
    assert.equal(json.psnrCapDb, PSNR_CAP_DB);
    assert.equal(json.healing.bites[0].before, PSNR_CAP_DB);
    assert.equal(json.thresholds.minPsnrDb, THRESHOLDS.minPsnrDb);
  });

  it('scores a damaged target below the cap', async () => {
    const m = frozen('persistence');
    const damaged = startState(m);
    damageDisc(damaged, 8, 8, 2);
    const result = await evaluateModel(m, targetFromState(damaged, m), { ...quick, healSteps: 0, longSteps: 0 });
    // 12 cells of 256 cleared: about 16 dB.
    const value = result.growth.snapshot.psnr;
    assert.ok(value > 10 && value < 20, `PSNR ${value}`);
    assert.equal(result.healing.verdict, 'skipped');
    assert.equal(result.persistence.verdict, 'skipped');
    assert.equal(result.verdict, 'fail');
  });
});

describe('failing models', () => {
  it('a model whose every output is ~0 dies: a dead verdict', async () => {
    // Sigmoid(-20) ~ 2e-9 on every channel, fire rate 1: every alpha falls below 0.1 in one step.
    const m = model(essayArch(1, (last) => { last.weights.fill(0); last.bias.fill(-20); }), 'growth', 'Dies');
    const result = await evaluateModel(m, startImageTarget(m)!, { ...quick, healSteps: 0 });
    assert.equal(result.growth.snapshot.health, 'dead');
    assert.equal(result.growth.verdict, 'fail');
    assert.match(result.growth.reasons.join('\n'), /every cell is dead/);
    assert.equal(result.persistence.verdict, 'fail');
    assert.equal(result.verdict, 'fail');
  });

  it('a model whose every output is ~1 fills its world: overgrown', async () => {
    const m = model(essayArch(1, (last) => { last.weights.fill(0); last.bias.fill(20); }), 'growth', 'Pikagoo');
    const result = await evaluateModel(m, startImageTarget(m)!, { ...quick, healSteps: 0, longSteps: 0 });
    assert.equal(result.growth.snapshot.aliveOutside, 1);
    assert.equal(result.growth.snapshot.health, 'overgrown');
    assert.equal(result.verdict, 'fail');
  });

  it('a diverging residual model is reported as non-finite, PSNR NaN (null in JSON)', async () => {
    const arch = createArchitecture({ rule: 'distill', hidden: 4, fireRate: 1, init: 'random', random: () => 0.9 });
    arch.layers[0]!.weights.fill(1e3);
    arch.layers[0]!.bias.fill(1);
    arch.layers[1]!.weights.fill(1e3);
    const m = model(arch, 'growth', 'Diverges');
    const result = await evaluateModel(m, startImageTarget(m)!, { steps: 8, healSteps: 0, longSteps: 0 });
    assert.equal(result.growth.snapshot.health, 'non-finite');
    assert.equal(result.verdict, 'fail');
    assert.ok(Number.isNaN(result.growth.snapshot.psnr), `PSNR ${result.growth.snapshot.psnr}`);
    assert.match(formatReport(report(m, result)), /PSNR NaN dB after 8 steps/);
    const json = JSON.parse(formatJson(report(m, result)));
    assert.equal(json.growth.psnr, null);
    assert.equal(json.growth.health, 'non-finite');
  });
});

describe('the stepper interface', () => {
  it('is all evaluateModel uses: counts of steps, bites and resets', async () => {
    const calls: string[] = [];
    let stepsTaken = 0;
    const counting: StepperFactory = (m: NcaModel, start: CaState): Stepper => {
      const state = cloneState(start);
      return {
        step: (n) => void (stepsTaken += n),
        readState: () => cloneState(state),
        damage: (x, y, r) => void calls.push(`damage ${x},${y},${r}`),
        reset: () => void calls.push('reset'),
      };
    };
    const m = frozen('healing');
    await evaluateModel(m, startImageTarget(m)!, { steps: 10, healSteps: 7, longSteps: 30, createStepper: counting });
    // Long run to 30, then a fresh run to N = 10 and three bites of 7 steps.
    assert.equal(stepsTaken, 30 + 10 + 3 * 7);
    assert.deepEqual(calls, ['reset', 'reset', 'damage 6,8,1.5', 'damage 8,9.5,1.5', 'damage 10,6.5,1.5']);
  });

  it('refuses a long run shorter than N', async () => {
    const m = frozen('growth');
    await assert.rejects(evaluateModel(m, startImageTarget(m)!, { steps: 10, longSteps: 5 }), RangeError);
  });
});
