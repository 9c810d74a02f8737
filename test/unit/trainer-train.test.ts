/**
 * End-to-end training runs on a tiny sprite (wasm backend): the loss falls, the export decodes and
 * replays under the reference step, resume is exact, the divergence guard keeps the last good
 * files, resume refuses a changed run, a damaged checkpoint falls back to the previous one.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { createArchitecture, decodeModel } from '../../runtime/format/index.js';
import { runSteps, startState } from '../../runtime/reference/index.js';
import { selectBackend } from '../../trainer/model/backend.js';
import { CHECKPOINT_FILE, PREVIOUS_CHECKPOINT_FILE } from '../../trainer/io/checkpoint.js';
import { resumedBudgetDecayShare, type TrainOptions, type TrainOptionsInput } from '../../trainer/training/config.js';
import { TrainerError } from '../../trainer/errors.js';
import { TrainableNetwork } from '../../trainer/model/network.js';
import { hashRollout } from '../../trainer/training/hash-rollout.js';
import { Rng } from '../../trainer/training/rng.js';
import { TaskSetting } from '../../trainer/training/samples.js';
import { TfStep } from '../../trainer/model/step.js';
import { DEAD_STREAK_WARNING } from '../../trainer/training/dead-grid.js';
import { train, type TrainEvent } from '../../trainer/training/train.js';
import { difficulty, FIXTURE, tinyOptions as tinyRunOptions } from './trainer-helpers.js';

let folder: string;
before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'nca-trainer-'));
  await selectBackend('wasm');
});
after(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** A tiny, fast run in its own folder. */
const tinyOptions = (name: string, overrides: Partial<TrainOptionsInput> = {}): TrainOptions => tinyRunOptions(folder, name, overrides);

function collect(events: TrainEvent[]): (event: TrainEvent) => void {
  return (event) => events.push(event);
}

describe('training a tiny sprite', () => {
  it('lowers the loss, exports a model the reference step replays exactly, writes previews', async () => {
    const options = tinyOptions('learn', {
      size: 12,
      gridWidth: 16,
      gridHeight: 16,
      batch: 4,
      iterations: 60,
      checkpointEvery: 30,
      previewEvery: 30,
      curriculum: { levels: 1, easy: difficulty(12, 16), hard: difficulty(12, 16) },
    });
    const events: TrainEvent[] = [];
    const tensorsBefore = tf.memory().numTensors;
    const result = await train(options, { onEvent: collect(events) });
    assert.equal(result.status, 'completed');
    assert.equal(tf.memory().numTensors, tensorsBefore, 'a training run must not leak tensors');
    const initial = result.losses[0]!;
    assert.ok(result.finalLoss! < 0.5 * initial, `final loss ${result.finalLoss} vs initial ${initial}`);

    const bytes = new Uint8Array(await readFile(options.out));
    const model = decodeModel(bytes);
    assert.equal(model.metadata.task, 'growth');
    assert.equal(model.metadata.start.kind, 'seed');
    assert.equal(model.metadata.training.iterations, 60);
    assert.equal(model.metadata.gridWidth, 16);
    assert.equal(model.metadata.targetWidth, 12);
    assert.equal(model.metadata.name, 'chick');
    // f32 export: the decoded weights are the trained ones, so the reference replays them exactly.
    assert.equal(result.export!.quantization.maxAbsState, 0);

    // The trainer's own rollout (tfjs, hash fire mask) against the reference step on the file.
    const network = TrainableNetwork.fromArchitecture(model.architecture);
    const step = new TfStep(model.architecture, network);
    const start = startState(model);
    const steps = 16;
    const [trainerFinal] = hashRollout(step, start, steps, 0, [steps]);
    const referenceFinal = runSteps(model.architecture, start, { seed: 0, steps });
    let max = 0;
    for (let i = 0; i < referenceFinal.data.length; i++) max = Math.max(max, Math.abs(trainerFinal!.data[i]! - referenceFinal.data[i]!));
    assert.ok(max <= 1e-4, `trainer rollout vs reference: max difference ${max}`);
    let alive = 0;
    for (let i = 3; i < referenceFinal.data.length; i += 16) if (referenceFinal.data[i]! > 0) alive += 1;
    assert.ok(alive > 1, 'the model grew beyond the seed');
    step.dispose();
    network.dispose();

    const previews = events.filter((e) => e.type === 'preview');
    assert.equal(previews.length, 2);
    const strip = await sharp(previews[1]!.path).metadata();
    assert.equal(strip.height, 16 * 4);
    assert.match(await readFile(join(options.runDir, 'loss.svg'), 'utf8'), /<polyline/);
    const types = new Set(events.map((e) => e.type));
    for (const type of ['start', 'iteration', 'checkpoint', 'preview', 'export', 'summary']) assert.ok(types.has(type as TrainEvent['type']), type);
  });

  it("the essay rule learns (keep start, ramp alive gradient) where its plain start dies", async () => {
    // A truncated start (a disc of the target) grown back over 12-16 steps: the essay rule's
    // first level. With Glorot weights and a constant alive mask the grid fills, the loss pushes
    // alpha down and everything dies; the defaults keep the disc alive and learn from there.
    const run = async (name: string, overrides: Partial<TrainOptionsInput>): Promise<{ result: Awaited<ReturnType<typeof train>>; events: TrainEvent[] }> => {
      const events: TrainEvent[] = [];
      const options = tinyOptions(name, {
        rule: 'essay',
        size: 12,
        gridWidth: 16,
        gridHeight: 16,
        batch: 4,
        iterations: 40,
        checkpointEvery: 40,
        curriculum: { levels: 1, easy: difficulty(12, 16, { truncation: 0.6 }), hard: difficulty(12, 16, { truncation: 0.6 }) },
        ...overrides,
      });
      return { result: await train(options, { onEvent: collect(events) }), events };
    };
    const learnt = await run('essay-learns', {});
    const plain = await run('essay-plain', { init: 'random', aliveGradient: 'constant' });
    assert.equal(learnt.result.status, 'completed');
    const aliveAtEnd = (events: TrainEvent[]): number => {
      const last = events.filter((e) => e.type === 'iteration').at(-1);
      return last?.type === 'iteration' ? last.aliveShare : NaN;
    };
    assert.ok(aliveAtEnd(learnt.events) > 0.05, `the learnt essay model keeps ${aliveAtEnd(learnt.events)} of the grid alive`);
    assert.ok(
      learnt.result.finalLoss! < 0.5 * plain.result.finalLoss!,
      `essay defaults: final loss ${learnt.result.finalLoss} vs plain start ${plain.result.finalLoss}`,
    );
  });

  it('warns once when every sample has died for 20 iterations in a row', async () => {
    // Alpha must exceed 0.99 to live: the sigmoid output of a fresh model never does.
    const events: TrainEvent[] = [];
    // (24 steps: the seed cell's alpha of 1 survives only while its alpha element never fires.)
    const options = tinyOptions('dies', {
      rule: 'essay',
      aliveThreshold: 0.99,
      iterations: DEAD_STREAK_WARNING + 5,
      checkpointEvery: 100,
      curriculum: { levels: 1, easy: difficulty(24, 24), hard: difficulty(24, 24) },
    });
    const result = await train(options, { onEvent: collect(events) });
    assert.equal(result.status, 'completed');
    const iterations = events.filter((e) => e.type === 'iteration');
    assert.ok(iterations.every((e) => e.type === 'iteration' && e.aliveShare === 0));
    const warnings = events.filter((e) => e.type === 'warning');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.type === 'warning' ? warnings[0]!.message : '', /every sample has died .* for 20 iterations in a row \(iteration 20\)/);
  });

  it('resumes after an interrupt with exactly the losses and file of an uninterrupted run', async () => {
    // Healing with a pool, noise, bites and late damage, and a curriculum that moves: every
    // piece of state a checkpoint must carry is in play.
    const overrides: Partial<TrainOptionsInput> = {
      task: 'healing',
      iterations: 8,
      poolSize: 6,
      poolDamage: 1,
      curriculum: {
        levels: 3,
        patience: 2,
        threshold: 100,
        easy: difficulty(4, 6, { bites: 1, biteRadius: 0.2 }),
        hard: difficulty(6, 8, { noise: 0.05, bites: 2, biteRadius: 0.4, lateDamage: 1 }),
      },
    };
    const wholeEvents: TrainEvent[] = [];
    const whole = await train(tinyOptions('whole', overrides), { onEvent: collect(wholeEvents) });
    assert.equal(whole.status, 'completed');
    assert.ok(whole.levels.includes(2), `the curriculum moved: ${whole.levels.join(',')}`);

    const controller = new AbortController();
    const events: TrainEvent[] = [];
    const first = await train(tinyOptions('parts', overrides), {
      signal: controller.signal,
      onEvent: (event) => {
        events.push(event);
        if (event.type === 'iteration' && event.iteration === 5) controller.abort();
      },
    });
    assert.equal(first.status, 'interrupted');
    assert.equal(first.iteration, 5);
    const second = await train(tinyOptions('parts', { ...overrides, resume: true }), { onEvent: collect(events) });
    assert.equal(second.status, 'completed');
    const start = events.filter((e) => e.type === 'start')[1];
    assert.equal(start?.type === 'start' && start.iteration, 5);
    assert.deepEqual(second.losses, whole.losses);
    // The curriculum's smoothed loss and level continue too, iteration by iteration.
    const trace = (list: TrainEvent[]): unknown[] =>
      list.flatMap((e) => (e.type === 'iteration' ? [[e.iteration, e.loss, e.smoothedLoss, e.level, e.steps]] : []));
    assert.deepEqual(trace(events), trace(wholeEvents));
    assert.deepEqual(await readFile(join(folder, 'parts.nca')), await readFile(join(folder, 'whole.nca')));
  });

  it('stops on a NaN loss without touching the last checkpoint or export', async () => {
    const good = await train(tinyOptions('nan', { iterations: 4 }));
    assert.equal(good.status, 'completed');
    const options = tinyOptions('nan', { iterations: 8, resume: true });
    const checkpointBefore = await readFile(join(options.runDir, CHECKPOINT_FILE));
    const exportBefore = await readFile(options.out);
    const events: TrainEvent[] = [];
    const result = await train(options, { onEvent: collect(events), poison: (iteration) => iteration === 5 });
    assert.equal(result.status, 'diverged');
    assert.equal(result.iteration, 5);
    const stopped = events.find((e) => e.type === 'stopped');
    assert.ok(stopped?.type === 'stopped' && stopped.reason === 'diverged' && /not finite/.test(stopped.message), JSON.stringify(stopped));
    assert.ok(!events.some((e) => e.type === 'checkpoint' || e.type === 'export'));
    assert.deepEqual(await readFile(join(options.runDir, CHECKPOINT_FILE)), checkpointBefore);
    assert.deepEqual(await readFile(options.out), exportBefore);
  });

  it('refuses to resume with another architecture or task, naming the difference', async () => {
    await train(tinyOptions('mismatch', { iterations: 2 }));
    await assert.rejects(
      train(tinyOptions('mismatch', { iterations: 4, hidden: 32, resume: true })),
      (error: unknown) => error instanceof TrainerError && error.code === 'resume-mismatch' && /hidden: 128 in the checkpoint, 32 now/.test(error.message),
    );
    await assert.rejects(
      train(tinyOptions('mismatch', { iterations: 4, task: 'persistence', resume: true })),
      (error: unknown) => error instanceof TrainerError && error.code === 'resume-mismatch' && /task: growth in the checkpoint, persistence now/.test(error.message),
    );
    await assert.rejects(
      train(tinyOptions('never-ran', { resume: true })),
      (error: unknown) => error instanceof TrainerError && error.code === 'no-checkpoint',
    );
  });

  it('falls back to the previous checkpoint when the latest is damaged, and says so', async () => {
    await train(tinyOptions('corrupt', { iterations: 4 }));
    const latest = join(folder, 'corrupt', CHECKPOINT_FILE);
    const bytes = await readFile(latest);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
    await writeFile(latest, bytes);
    const events: TrainEvent[] = [];
    const result = await train(tinyOptions('corrupt', { iterations: 6, resume: true }), { onEvent: collect(events) });
    assert.equal(result.status, 'completed');
    const warning = events.find((e) => e.type === 'warning');
    assert.ok(warning?.type === 'warning' && /damaged/.test(warning.message) && warning.message.includes(PREVIOUS_CHECKPOINT_FILE), JSON.stringify(warning));
    const start = events.find((e) => e.type === 'start');
    assert.ok(start?.type === 'start' && start.iteration === 2 && start.resumedFrom?.endsWith(PREVIOUS_CHECKPOINT_FILE));
  });
  it('stops at a --minutes budget, says so, and exports the best weights so far (which a resume keeps going from)', async () => {
    // A budget of ~1 ms: spent by the first iteration, so the run stops after it.
    const options = tinyOptions('budget', { iterations: 50, minutes: 1e-5 });
    const events: TrainEvent[] = [];
    const result = await train(options, { onEvent: collect(events) });
    assert.equal(result.status, 'completed');
    assert.equal(result.iteration, 1);
    const stopped = events.find((e) => e.type === 'stopped');
    assert.ok(stopped?.type === 'stopped' && stopped.reason === 'budget' && /budget of 0\.00001 min reached after 1 iterations; exporting the best weights so far \(iteration 1/.test(stopped.message), JSON.stringify(stopped));
    const model = decodeModel(new Uint8Array(await readFile(options.out)));
    assert.equal(model.metadata.training.iterations, 1);
    // The checkpoint kept the current weights: a resume without the budget continues the run.
    const resumed = await train(tinyOptions('budget', { iterations: 3, minutes: 0, resume: true }));
    assert.equal(resumed.iteration, 3);
  });

  it('decays the rate of a --minutes run at 70 % of its budget, once, and a resume keeps it decayed', async () => {
    // The ~1 ms budget is spent by the first iteration: the decay is due from the second on.
    const events: TrainEvent[] = [];
    await train(tinyOptions('budget-decay', { iterations: 50, minutes: 1e-5, learningRate: 0.01 }), { onEvent: collect(events) });
    const resumedEvents: TrainEvent[] = [];
    await train(tinyOptions('budget-decay', { iterations: 3, minutes: 0, learningRate: 0.01, resume: true }), { onEvent: collect(resumedEvents) });
    const rates = [...events, ...resumedEvents].flatMap((e) => (e.type === 'iteration' ? [e.learningRate] : []));
    assert.deepEqual(rates.map((r) => Number(r.toPrecision(6))), [0.01, 0.001, 0.001], 'one decay (x0.1) after the budget share, kept across the resume');
    // With --lr-decay-at given, the schedule is the user's: no budget decay.
    const own = tinyOptions('budget-own-decay', { iterations: 50, minutes: 1e-5, decayAt: [40] });
    assert.equal(own.budgetDecayShare, 0);
    // A resume keeps the run's own choice unless it sets --lr-decay-at; a checkpoint from before
    // the share existed had it exactly when its schedule was the default.
    const defaulted = tinyOptions('no-budget', { iterations: 50 });
    assert.equal(defaulted.budgetDecayShare, 0.7, 'recorded even without a budget: a resume may add one');
    assert.equal(resumedBudgetDecayShare(defaulted, undefined), 0.7);
    assert.equal(resumedBudgetDecayShare(defaulted, [10]), 0);
    const { budgetDecayShare: _dropped, ...older } = defaulted;
    assert.equal(resumedBudgetDecayShare(older as unknown as TrainOptions, undefined), 0.7, 'old checkpoint, default schedule');
    assert.equal(resumedBudgetDecayShare({ ...older, decayAt: [20] } as unknown as TrainOptions, undefined), 0, 'old checkpoint, its own schedule');
  });

  it('rejects a negative budget', () => {
    assert.throws(() => tinyOptions('bad-budget', { minutes: -1 }), (error: unknown) => error instanceof TrainerError && /minutes must be a number in \[0, 1000000\], got -1/.test(error.message));
  });
  it('grows from a crop (--crop): the hardest start is the crop, embedded in the model as its start image', async () => {
    const options = tinyOptions('crop', { iterations: 2, crop: 0.4 });
    await train(options);
    const model = decodeModel(new Uint8Array(await readFile(options.out)));
    const start = model.metadata.start;
    assert.ok(start.kind === 'image', 'a cropped growth model starts from an image');
    const target = await sharp(FIXTURE).resize(8, 8, { fit: 'contain', background: { r: 0, g: 0, b: 0, alpha: 0 } }).ensureAlpha().raw().toBuffer();
    const opaque = (rgba: Uint8Array | Buffer): number => rgba.filter((_, i) => i % 4 === 3 && rgba[i]! > 0).length;
    assert.ok(opaque(start.rgba) > 0 && opaque(start.rgba) < opaque(target), `crop keeps ${opaque(start.rgba)} of ${opaque(target)} pixels`);
    // The training's hardest start is what the runtime builds from that image.
    const setting = new TaskSetting(createArchitecture({ rule: 'distill' }), 'growth', { width: start.width, height: start.height, rgba: start.rgba }, 12, 12, 0.4);
    const hardest = setting.start({ minSteps: 1, maxSteps: 1, noise: 0, truncation: 0, bites: 0, biteRadius: 0, lateDamage: 0 }, Rng.fromSeed(1));
    assert.deepEqual(hardest, startState(model).data);
    // Cropping never clears the caller's pixels, even from a Node Buffer (whose slice() is a view).
    const sprite = Buffer.from(target);
    new TaskSetting(createArchitecture({ rule: 'distill' }), 'growth', { width: 8, height: 8, rgba: sprite }, 12, 12, 0.2);
    assert.deepEqual(sprite, target, 'the target is left whole');
    await assert.rejects(
      train(tinyOptions('crop', { iterations: 4, resume: true })),
      (error: unknown) => error instanceof TrainerError && error.code === 'resume-mismatch' && /crop: 0.4 in the checkpoint, 0 now/.test(error.message),
    );
    assert.throws(() => tinyOptions('crop-persist', { task: 'persistence', crop: 0.4 }), /--crop is a growth start/);
  });

});
