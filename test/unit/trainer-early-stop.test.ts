/**
 * The run's own judgement (issue: defaults a new user can trust): the held-in check (the eval's
 * scoring during training) and its spacing, the early stop at the last curriculum level, and the
 * recovery of a diverged run from its last healthy state with a lower learning rate.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { decodeModel } from '../../runtime/format/index.js';
import { explicitOptions, FLAGS } from '../../trainer/cli/train.js';
import type { NcaModel } from '../../runtime/format/types.js';
import { loadGridImage } from '../../trainer/eval/inputs.js';
import type { Stepper } from '../../trainer/eval/stepper.js';
import { cloneState, type CaState } from '../../runtime/reference/index.js';
import { loadCheckpoint } from '../../trainer/io/checkpoint.js';
import { selectBackend } from '../../trainer/model/backend.js';
import type { TrainOptions, TrainOptionsInput } from '../../trainer/training/config.js';
import { resolveOptions } from '../../trainer/training/config.js';
import { CHECK_SPACING, CheckSchedule, checkSteps, runCheck, type CheckResult } from '../../trainer/training/held-in.js';
import { RECOVERY_RATE_FACTOR } from '../../trainer/training/recovery.js';
import { train, type TrainEvent } from '../../trainer/training/train.js';
import { difficulty, tinyOptions as tinyRunOptions } from './trainer-helpers.js';

let folder: string;
before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'nca-early-stop-'));
  await selectBackend('wasm');
});
after(async () => {
  await rm(folder, { recursive: true, force: true });
});

const tinyOptions = (name: string, overrides: Partial<TrainOptionsInput> = {}): TrainOptions => tinyRunOptions(folder, name, overrides);

function collect(events: TrainEvent[]): (event: TrainEvent) => void {
  return (event) => events.push(event);
}

/** A held-in check stand-in that passes from iteration `from` on. */
function passingFrom(from: number, calls: number[]): (model: unknown, target: unknown, iteration: number) => Promise<CheckResult> {
  return async (_model, _target, iteration) => {
    calls.push(iteration);
    const pass = iteration >= from;
    return { iteration, verdict: pass ? 'pass' : 'fail', score: pass ? 30 : 10, scoreText: `PSNR ${pass ? 30 : 10}.0 dB at step 200`, reasons: pass ? [] : ['growth: too dim'], seconds: 0, exact: true };
  };
}

/** Scripted dynamics: `state` itself up to step `until`, an empty grid after it; `built` counts the steppers made. */
function scriptedStepper(state: CaState, until: number, built = { count: 0 }): () => Stepper {
  return () => {
    built.count++;
    let at = 0;
    return {
      step: (n) => void (at += n),
      readState: () => (at <= until ? cloneState(state) : { ...state, data: new Float32Array(state.data.length) }),
      damage: () => undefined,
      reset: () => void (at = 0),
    };
  };
}

describe('the held-in check', () => {
  it('checks every n iterations, spaced so checks take at most about an eighth of the time', () => {
    const schedule = new CheckSchedule(10, 0, 0);
    assert.equal(schedule.due(9, 100), false, 'not before n iterations');
    assert.equal(schedule.due(10, 1), true);
    schedule.done(10, 1, 2); // a check of 2 s after 1 s of training
    assert.equal(schedule.due(20, 1 + CHECK_SPACING * 2 - 0.1), false, 'spaced by its own cost');
    assert.equal(schedule.due(20, 1 + CHECK_SPACING * 2), true);
    assert.equal(new CheckSchedule(0, 0, 0).due(1000, 1000), false, '0 turns checks off');
  });

  it("uses nca eval's N and bites with a shorter long run", () => {
    assert.deepEqual(checkSteps('growth'), { steps: 200, healSteps: 0, longSteps: 200 });
    assert.deepEqual(checkSteps('persistence'), { steps: 100, healSteps: 0, longSteps: 500 });
    assert.deepEqual(checkSteps('healing'), { steps: 100, healSteps: 200, longSteps: 500 });
  });

  it('scores a real model as nca eval does: the gallery dragon passes, with its headline figure', async () => {
    const model = decodeModel(await readFile(join(import.meta.dirname, '..', '..', 'demo', 'models', 'dragon-persist.nca')));
    const { state } = await loadGridImage(join(import.meta.dirname, '..', '..', 'demo', 'sprites', 'dragon.png'), model);
    // Without the confirmation to step 1,000 (its logic is the next test's, on scripted dynamics):
    // the reference step's 500 steps are what this test can afford.
    const result = await runCheck(model, state, 123, { confirmLongSteps: 0 });
    assert.equal(result.verdict, 'pass', result.reasons.join('; '));
    assert.equal(result.exact, true, 'the fused screen passed it, so the reference step judged it');
    assert.equal(result.iteration, 123);
    assert.match(result.scoreText, /^PSNR \d+\.\d dB at step 500$/);
    assert.ok(result.score > 20 && result.seconds > 0);
  });

  it('confirms a pass to --check-long: a model that holds 500 steps and then fades fails, with the step that failed', async () => {
    const model = decodeModel(await readFile(join(import.meta.dirname, '..', '..', 'demo', 'models', 'dragon-persist.nca')));
    const { state } = await loadGridImage(join(import.meta.dirname, '..', '..', 'demo', 'sprites', 'dragon.png'), model);
    const holdingUntil = (until: number) => scriptedStepper(state, until);
    const fading = holdingUntil(700);
    const held = await runCheck(model, state, 7, { createStepper: holdingUntil(Infinity), confirmLongSteps: 1000 });
    assert.equal(held.verdict, 'pass', held.reasons.join('; '));
    assert.match(held.scoreText, /^PSNR \d+\.\d dB at step 1000$/, 'the headline is taken at the confirmed horizon');
    const confirmed = await runCheck(model, state, 7, { createStepper: fading, confirmLongSteps: 1000 });
    assert.equal(confirmed.verdict, 'fail');
    assert.ok(confirmed.reasons.some((r) => /^persistence \(confirming to step 1000\): .*step 1000/.test(r)), confirmed.reasons.join('; '));
    assert.match(confirmed.scoreText, /at step 1000$/);
    // The same model within the check's own 500 steps, or with the confirmation off, passes.
    for (const confirmLongSteps of [0, 500]) {
      const quick = await runCheck(model, state, 7, { createStepper: fading, confirmLongSteps });
      assert.equal(quick.verdict, 'pass', quick.reasons.join('; '));
      assert.match(quick.scoreText, /at step 500$/);
    }
  });

  it('screens on a fast engine first, to the confirmation horizon: what fails there never reaches the exact engine', async () => {
    const model = decodeModel(await readFile(join(import.meta.dirname, '..', '..', 'demo', 'models', 'dragon-persist.nca')));
    const { state } = await loadGridImage(join(import.meta.dirname, '..', '..', 'demo', 'sprites', 'dragon.png'), model);
    const scripted = (until: number, built: { count: number }) => scriptedStepper(state, until, built);
    const exactBuilt = { count: 0 };
    const screenBuilt = { count: 0 };
    // The screen sees the model fade at step 700; the confirmation goes to 1,000: the screen fails it.
    const screened = await runCheck(model, state, 9, { screen: scripted(700, screenBuilt), createStepper: scripted(Infinity, exactBuilt), confirmLongSteps: 1000 });
    assert.equal(screened.verdict, 'fail');
    assert.equal(screened.exact, false);
    assert.equal(exactBuilt.count, 0, 'the exact engine never ran');
    assert.ok(screened.reasons.some((r) => /^persistence: .*step 1000/.test(r)), screened.reasons.join('; '));
    // A screen pass is only a ticket: the exact engine decides.
    const judged = await runCheck(model, state, 9, { screen: scripted(Infinity, screenBuilt), createStepper: scripted(50, exactBuilt), confirmLongSteps: 1000 });
    assert.equal(judged.verdict, 'fail');
    assert.equal(judged.exact, true);
    assert.ok(exactBuilt.count > 0);
    const passed = await runCheck(model, state, 9, { screen: scripted(Infinity, screenBuilt), createStepper: scripted(Infinity, exactBuilt), confirmLongSteps: 1000 });
    assert.equal(passed.verdict, 'pass', passed.reasons.join('; '));
    assert.equal(passed.exact, true);
  });

  it('--check-long is a checked option, default nca eval\'s 1,000', () => {
    assert.equal(resolveOptions({ target: 'x.png', task: 'healing' }).checkLong, 1000);
    assert.equal(resolveOptions({ target: 'x.png', task: 'healing', checkLong: 2000 }).checkLong, 2000);
    assert.throws(() => resolveOptions({ target: 'x.png', task: 'healing', checkLong: -1 }), /check long run/);
    assert.throws(() => resolveOptions({ target: 'x.png', task: 'healing', checkLong: 1.5 }), /check long run/);
    const values = parseArgs({ args: ['--check-long', '2000'], options: FLAGS, strict: true, allowPositionals: false }).values;
    assert.equal(explicitOptions(values).checkLong, 2000, 'the flag reaches the options');
  });

  it('runs inside training and puts its score on the iteration events; a model that fails says why', async () => {
    const events: TrainEvent[] = [];
    const result = await train(tinyOptions('real-check', { iterations: 6, checkEvery: 3 }), { onEvent: collect(events) });
    assert.equal(result.status, 'completed');
    const checks = events.filter((e) => e.type === 'check');
    assert.ok(checks.length >= 1, 'at least one check ran');
    const first = checks[0]!;
    assert.ok(first.type === 'check' && first.verdict === 'fail' && first.reasons.length > 0, JSON.stringify(first));
    const later = events.filter((e) => e.type === 'iteration' && e.iteration > (first.type === 'check' ? first.iteration : 0));
    assert.ok(later.length > 0 && later.every((e) => e.type === 'iteration' && e.check?.verdict === 'fail'), 'iteration events carry the latest check');
    const summary = events.find((e) => e.type === 'summary');
    assert.ok(summary?.type === 'summary' && summary.check?.verdict === 'fail');
  });
});

describe('the early stop', () => {
  it('stops and exports when a check passes at the last curriculum level', async () => {
    const events: TrainEvent[] = [];
    const calls: number[] = [];
    const options = tinyOptions('early', { iterations: 40, checkEvery: 4 });
    const result = await train(options, { onEvent: collect(events), check: passingFrom(8, calls) });
    assert.equal(result.status, 'completed');
    assert.equal(result.iteration, 8, 'stopped at the first passing check');
    assert.deepEqual(calls, [4, 8]);
    const stopped = events.find((e) => e.type === 'stopped');
    assert.ok(stopped?.type === 'stopped' && stopped.reason === 'passed' && /early stop after 8 iterations.*PSNR 30\.0 dB/.test(stopped.message), JSON.stringify(stopped));
    assert.ok(events.some((e) => e.type === 'export'));
    const model = decodeModel(await readFile(options.out));
    assert.equal(model.metadata.training?.iterations, 8);
    // Every pass is kept in the run folder as checked, so an interrupted run cannot lose it; a failed check is not.
    const checks = events.filter((e) => e.type === 'check');
    assert.deepEqual(checks.map((e) => (e.type === 'check' ? e.saved : 'not a check')), [undefined, join(options.runDir, 'passed-000008.nca')]);
    const kept = decodeModel(await readFile(join(options.runDir, 'passed-000008.nca')));
    assert.deepEqual(kept.architecture.layers[1]!.weights, model.architecture.layers[1]!.weights, 'the passing weights, as exported');
  });

  it('scores the weights as the exported file will hold them (its --precision)', async () => {
    const seen: NcaModel[] = [];
    const options = tinyOptions('precision', { iterations: 4, checkEvery: 4, precision: 'int8' });
    const check = passingFrom(100, []);
    await train(options, { check: async (model, target, iteration) => (seen.push(model), check(model, target, iteration)) });
    assert.equal(seen.length, 1);
    assert.ok(seen[0]!.architecture.layers.every((layer) => layer.weightDType === 'int8' && layer.biasDType === 'int8'), 'the int8 model a page loads');
    const exported = decodeModel(await readFile(options.out));
    assert.deepEqual(seen[0]!.architecture.layers[0]!.weights, exported.architecture.layers[0]!.weights, 'the same rounded weights as the file');
  });

  it('trains on below the last level, and with --no-early-stop', async () => {
    // Two levels that are never passed (threshold 0): the run stays at level 0 of 1.
    const below = await train(
      tinyOptions('below-last', { iterations: 12, checkEvery: 4, curriculum: { levels: 2, threshold: 0, easy: difficulty(4, 6), hard: difficulty(4, 6) } }),
      { check: passingFrom(0, []) },
    );
    assert.equal(below.iteration, 12);
    const onward = await train(tinyOptions('no-early', { iterations: 12, checkEvery: 4, earlyStop: false }), { check: passingFrom(0, []) });
    assert.equal(onward.iteration, 12);
    assert.equal(onward.check?.verdict, 'pass');
  });

  it('--no-early-stop, --check-every and --max-recoveries are checked options', () => {
    assert.throws(() => resolveOptions({ target: 'x.png', task: 'growth', checkEvery: -1 }), /check interval/);
    assert.throws(() => resolveOptions({ target: 'x.png', task: 'growth', maxRecoveries: 1.5 }), /max recoveries/);
    const defaults = resolveOptions({ target: 'x.png', task: 'growth' });
    assert.deepEqual([defaults.checkEvery, defaults.earlyStop, defaults.maxRecoveries], [200, true, 3]);
  });
});

describe('recovery from a diverged run', () => {
  it('goes back to the last healthy state with half the learning rate, and a resume keeps the lower rate', async () => {
    const events: TrainEvent[] = [];
    let poisoned = false;
    // NaN start states at iteration 5 (once): the guard would stop the run; recovery goes back instead.
    const poison = (iteration: number): boolean => {
      if (iteration !== 5 || poisoned) return false;
      poisoned = true;
      return true;
    };
    const options = tinyOptions('recover', { iterations: 8, checkpointEvery: 4, checkEvery: 0, decayAt: [] });
    const result = await train(options, { onEvent: collect(events), poison });
    assert.equal(result.status, 'completed');
    assert.equal(result.recoveries, 1);
    const recovered = events.find((e) => e.type === 'recovered');
    assert.ok(recovered?.type === 'recovered', 'a recovered event');
    assert.equal(recovered.cause, 'diverged');
    assert.equal(recovered.restoredFrom, 4, 'the checkpoint-interval state before the fault');
    assert.equal(recovered.learningRate, options.learningRate * RECOVERY_RATE_FACTOR);
    assert.match(recovered.message, /not finite; went back to the healthy state of iteration 4 .* 2 recoveries left/);
    const after = events.filter((e) => e.type === 'iteration' && e.iteration > 5);
    assert.ok(after.length > 0 && after.every((e) => e.type === 'iteration' && e.learningRate === options.learningRate * RECOVERY_RATE_FACTOR));
    const summary = events.find((e) => e.type === 'summary');
    assert.ok(summary?.type === 'summary' && summary.recoveries === 1);
    const { checkpoint } = await loadCheckpoint(options.runDir);
    assert.equal(checkpoint.recoveries, 1);
    assert.equal(checkpoint.learningRateScale, RECOVERY_RATE_FACTOR);
    const resumed: TrainEvent[] = [];
    await train({ ...options, iterations: 10, resume: true }, { onEvent: collect(resumed) });
    const first = resumed.find((e) => e.type === 'iteration');
    assert.ok(first?.type === 'iteration' && first.learningRate === options.learningRate * RECOVERY_RATE_FACTOR, 'the resumed run keeps the lowered rate');
  });

  it('stops as diverged once its recoveries are spent (or with --max-recoveries 0)', async () => {
    const poisonFrom3 = (iteration: number): boolean => iteration >= 3;
    const events: TrainEvent[] = [];
    const result = await train(tinyOptions('spent', { iterations: 8, checkEvery: 0, maxRecoveries: 2 }), { onEvent: collect(events), poison: poisonFrom3 });
    assert.equal(result.status, 'diverged');
    assert.equal(events.filter((e) => e.type === 'recovered').length, 2);
    const stopped = events.find((e) => e.type === 'stopped');
    assert.ok(stopped?.type === 'stopped' && /after 2 recoveries; stopped/.test(stopped.message), JSON.stringify(stopped));
    const none = await train(tinyOptions('none', { iterations: 8, checkEvery: 0, maxRecoveries: 0 }), { poison: poisonFrom3 });
    assert.equal(none.status, 'diverged');
    assert.equal(none.recoveries, 0);
  });
});
