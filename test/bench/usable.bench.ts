/**
 * Time to a usable growth model: trains a growth model on a demo sprite in stages and scores the
 * exported file with `nca eval`'s growth check after each stage, until it passes or the time
 * budget is spent. "Usable" is exactly what `nca eval` calls a passing growth model: PSNR of RGBA
 * against the target after 200 steps from the seed >= 20 dB, with at most 5 % of the cells
 * outside the dilated sprite box alive.
 *
 *   node --import tsx test/bench/usable.bench.ts [--sprite demo/sprites/chick.png] [--size 40]
 *     [--rule distill|essay] [--stage 100] [--budget-min 30] [--seed 1] [--pool 1024]
 *
 * Training time is the trainer's own clock (the seconds in the run's summary.json: the
 * iterations, not the scoring between stages). The stages resume one run (`--resume` semantics,
 * same random stream), so a staged run trains exactly as an uninterrupted one would, except
 * that the learning-rate decay is fixed at 70 % of the budget's iteration estimate. Prints
 * a line per stage and a summary (no assertions: a benchmark, not a test).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { NcaRule } from '../../runtime/format/index.js';
import { resolveOptions } from '../../trainer/training/config.js';
import { evaluateModel, loadGridImage, readModel, targetFromState } from '../../trainer/eval/index.js';
import { train } from '../../trainer/training/train.js';

const { values } = parseArgs({
  options: {
    sprite: { type: 'string', default: 'demo/sprites/chick.png' },
    size: { type: 'string', default: '40' },
    rule: { type: 'string', default: 'distill' },
    stage: { type: 'string', default: '100' },
    'budget-min': { type: 'string', default: '30' },
    'max-iterations': { type: 'string', default: '3000' },
    seed: { type: 'string', default: '1' },
    pool: { type: 'string', default: '1024' },
    batch: { type: 'string', default: '8' },
  },
});

const rule = values.rule as NcaRule;
const size = Number(values.size);
const stage = Number(values.stage);
const budgetSeconds = Number(values['budget-min']) * 60;
const maxIterations = Number(values['max-iterations']);
const runDir = await mkdtemp(join(tmpdir(), 'nca-usable-'));
const out = join(runDir, 'model.nca');

const base = {
  target: values.sprite,
  task: 'growth' as const,
  rule,
  size,
  batch: Number(values.batch),
  poolSize: Number(values.pool),
  seed: Number(values.seed),
  out,
  runDir,
  previewEvery: 0,
  checkpointEvery: stage,
  // Fixed, so every stage of the run sees the same schedule.
  decayAt: [Math.round(maxIterations * 0.7)],
};

console.log(
  `time to a usable growth model: ${values.sprite} at ${size}x${size} on a ${size + 32}x${size + 32} grid, ${rule} rule, ` +
    `batch ${base.batch}, pool ${base.poolSize}, seed ${base.seed}; load average ${loadavg()[0]!.toFixed(1)}`,
);
console.log('| iterations | training time (min) | growth PSNR @200 (dB) | alive outside box | usable |');
console.log('|---:|---:|---:|---:|---|');

let usableAt: { iterations: number; minutes: number; psnr: number } | undefined;
let iterations = 0;
let seconds = 0;
try {
  while (iterations < maxIterations && seconds < budgetSeconds) {
    iterations += stage;
    const result = await train(resolveOptions({ ...base, iterations, resume: iterations > stage }));
    if (result.status !== 'completed') throw new Error(`training stopped: ${result.status}`);
    // summary.json, not the checkpoint: with a pool of 1024 the checkpoint is hundreds of MB.
    seconds = (JSON.parse(await readFile(join(runDir, 'summary.json'), 'utf8')) as { seconds: number }).seconds;
    const model = await readModel(out);
    const image = await loadGridImage(values.sprite, model);
    const score = await evaluateModel(model, targetFromState(image.state, model), { healSteps: 0, longSteps: 0 });
    const growth = score.growth;
    const usable = growth.verdict === 'pass';
    console.log(
      `| ${iterations} | ${(seconds / 60).toFixed(1)} | ${growth.snapshot.psnr.toFixed(1)} | ${(growth.snapshot.aliveOutside * 100).toFixed(1)} % | ${usable ? 'yes' : 'no'} |`,
    );
    if (usable) {
      usableAt = { iterations, minutes: seconds / 60, psnr: growth.snapshot.psnr };
      break;
    }
  }
} finally {
  await rm(runDir, { recursive: true, force: true });
}
console.log(
  usableAt
    ? `usable after ${usableAt.iterations} iterations, ${usableAt.minutes.toFixed(1)} min of training (${usableAt.psnr.toFixed(1)} dB); load average ${loadavg()[0]!.toFixed(1)}`
    : `not usable within ${iterations} iterations / ${(seconds / 60).toFixed(1)} min of training; load average ${loadavg()[0]!.toFixed(1)}`,
);
