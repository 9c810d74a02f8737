/** `nca train`'s progress output: the bar's ETA counts down to a --minutes budget that ends the run first. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createReporter, describeEvent } from '../../trainer/cli/progress.js';
import type { TrainEvent } from '../../trainer/training/train.js';

function iteration(extra: Partial<Extract<TrainEvent, { type: 'iteration' }>> = {}): TrainEvent {
  return {
    type: 'iteration',
    iteration: 100,
    iterations: 2000,
    loss: 0.01,
    smoothedLoss: 0.012,
    level: 1,
    levels: 5,
    steps: 40,
    learningRate: 0.002,
    gradientNorm: 0.1,
    aliveShare: 0.3,
    iterationsPerSecond: 1,
    seconds: 100,
    ...extra,
  };
}

/** What a terminal would show for `event`. */
function barOf(event: TrainEvent): string {
  let text = '';
  const err = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        done();
      },
    }),
    { isTTY: true, columns: 160 },
  );
  createReporter({ json: false, out: process.stdout, err })(event);
  // The bar redraws its line: a carriage return first, an erase-to-end-of-line code last.
  const eraseLine = '\u001b[K';
  assert.ok(text.startsWith('\r') && text.endsWith(eraseLine), JSON.stringify(text));
  return text.slice(1, -eraseLine.length);
}

test('the ETA is the time to the last iteration, or to the budget when that ends the run first', () => {
  assert.match(barOf(iteration()), /ETA 31m40s$/);
  assert.match(barOf(iteration({ budgetLeft: 300 })), /ETA 5m00s \(budget\)$/);
  assert.match(barOf(iteration({ budgetLeft: 5000 })), /ETA 31m40s$/);
  assert.match(describeEvent(iteration({ budgetLeft: 300 })) ?? '', /budget left 5m00s$/);
});

test('the progress line ends with the latest held-in check; checks and recoveries get their own lines', () => {
  const check = { iteration: 80, verdict: 'pass', score: 23.44, scoreText: 'PSNR 23.4 dB at step 500' } as const;
  assert.match(barOf(iteration({ budgetLeft: 300, check })), /ETA 5m00s \(budget\) {2}eval 23\.4 dB pass$/);
  assert.match(describeEvent(iteration({ check: { ...check, verdict: 'fail' } })) ?? '', /eval 23\.4 dB fail$/);
  const failed = describeEvent({ type: 'check', ...check, verdict: 'fail', reasons: ['persistence: step 500: every cell is dead'], seconds: 12, exact: true });
  assert.equal(failed, 'held-in check at iteration 80: FAIL, PSNR 23.4 dB at step 500 (12s); persistence: step 500: every cell is dead');
  const screened = describeEvent({ type: 'check', ...check, verdict: 'fail', reasons: ['persistence: drifted'], seconds: 2, exact: false });
  assert.equal(screened, 'held-in check at iteration 80: FAIL (fused screen), PSNR 23.4 dB at step 500 (2s); persistence: drifted', 'a verdict of the screen says so');
  const recovered = describeEvent({ type: 'recovered', iteration: 90, cause: 'dead', restoredFrom: 80, learningRate: 0.001, recoveriesLeft: 2, message: 'every sample has died; went back' });
  assert.equal(recovered, 'recovered: every sample has died; went back');
});

test('the start names the task, the rule and the pool (the rule and pool defaults depend on the task)', () => {
  const start = (rule: 'essay' | 'distill', poolSize: number): string =>
    describeEvent({
      type: 'start',
      task: 'healing',
      rule,
      poolSize,
      backend: { chosen: 'wasm', tfBackend: 'wasm', skipped: [] },
      engine: 'fused',
      threads: 2,
      memory: 'save',
      iteration: 0,
      iterations: 2000,
      parameters: 8336,
      trivialLoss: 0.14,
      target: { width: 40, height: 40 },
      grid: { width: 72, height: 72 },
    }) ?? '';
  assert.equal(start('distill', 1024).split('\n')[1], 'healing with the distill rule, a sample pool of 1024');
  assert.equal(start('essay', 0).split('\n')[1], 'healing with the essay rule, no sample pool');
});
