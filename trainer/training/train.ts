/**
 * The training loop: curriculum, optional sample pool, back-propagation through time, Adam, the
 * divergence guard, checkpoints, previews and the export. Everything random comes from one
 * seeded `Rng` whose state is checkpointed, so a resumed run repeats an uninterrupted one
 * exactly (same backend).
 *
 * `train()` reads as its phases: open or resume the run (open-run.ts) and its session
 * (session.ts), then per iteration draw a batch (batch.ts), roll it out, step the guard
 * (divergence.ts, dead-grid.ts), apply Adam and record; checkpoints and previews (run-files.ts),
 * the --minutes budget (budget.ts) and the export (export-run.ts).
 */
import { countParameters } from '../../runtime/format/index.js';
import { drawBatch, returnToPool } from './batch.js';
import { Budget } from './budget.js';
import type { TrainOptions } from './config.js';
import { aliveShareOf, DeadGridWatch } from './dead-grid.js';
import { divergence } from './divergence.js';
import type { CheckSummary, Emit, TrainHooks, TrainResult, TrainStatus } from './events.js';
import { exportedModelOf, exportRun } from './export-run.js';
import { CheckSchedule, runCheck } from './held-in.js';
import { OvergrowthWatch } from './overgrowth.js';
import { Recovery, type RecoveryCause } from './recovery.js';
import { openRun, type OpenedRun } from './open-run.js';
import { Adam } from './optimizer.js';
import type { RolloutGradients } from './rollout.js';
import { RunFiles } from './run-files.js';
import { closeSession, finalLossOf, openSession, type Session } from './session.js';

export type { CheckSummary, Emit, TrainEvent, TrainHooks, TrainResult, TrainStatus } from './events.js';

/** The start event: what this run is and what it computes on. */
function emitStart(run: OpenedRun, session: Session, options: TrainOptions, emit: Emit): void {
  const { engine, history } = session;
  emit({
    type: 'start',
    task: options.task,
    rule: options.rule,
    poolSize: options.poolSize,
    backend: run.backend,
    engine: engine.kind,
    threads: engine.threads,
    memory: engine.memory ?? 'save',
    iteration: history.iteration,
    iterations: options.iterations,
    parameters: countParameters(run.arch.layers),
    trivialLoss: run.setting.trivialLoss,
    target: { width: run.target.width, height: run.target.height },
    grid: { width: run.setting.width, height: run.setting.height },
    ...(run.loaded ? { resumedFrom: run.loaded.path } : {}),
  });
}

/**
 * The guard, after the rollout and before the update: why the run must stop (divergence), or
 * the gradients' norms for Adam.
 */
function guard(result: RolloutGradients, session: Session, run: OpenedRun, options: TrainOptions): { norms: number[]; gradientNorm: number; diverged: string | null } {
  const norms = Adam.norms(result.gradients);
  const gradientNorm = Math.sqrt(norms.reduce((sum, n) => sum + n * n, 0));
  const { firstLoss, iteration } = session.history;
  const reference = Math.max(firstLoss ?? result.loss, run.setting.trivialLoss);
  const diverged = divergence({ loss: result.loss, gradientNorm, reference, factor: options.divergeFactor, iteration: iteration + 1 });
  return { norms, gradientNorm, diverged };
}

/**
 * A dead or diverged run goes back to its last healthy state with a lower learning rate; false
 * when it has no recovery left.
 */
function tryRecovery(recovery: Recovery, cause: RecoveryCause, why: string, session: Session, emit: Emit): boolean {
  const report = recovery.recover();
  if (!report) return false;
  const { iteration } = session.history;
  const learningRate = session.adam.rateAt(iteration);
  emit({
    type: 'recovered',
    iteration,
    cause,
    ...report,
    learningRate,
    message:
      `${why}; went back to the healthy state of iteration ${report.restoredFrom} and lowered the learning rate to ` +
      `${learningRate.toPrecision(3)} (x${report.learningRateScale}); ${report.recoveriesLeft} recover${report.recoveriesLeft === 1 ? 'y' : 'ies'} left`,
  });
  return true;
}

/** Closes the session and reports the run's end. */
async function finish(status: TrainStatus, run: OpenedRun, session: Session, options: TrainOptions, emit: Emit, check: CheckSummary | null, extra: Partial<TrainResult> = {}): Promise<TrainResult> {
  await closeSession(session);
  const { iteration, losses, levels, seconds, recoveries } = session.history;
  const finalLoss = finalLossOf(losses);
  emit({
    type: 'summary',
    status,
    iterations: iteration,
    finalLoss,
    level: session.curriculum.level,
    seconds,
    runDir: options.runDir,
    out: extra.export?.path ?? null,
    recoveries,
    check,
  });
  return { status, iteration, losses, levels, finalLoss, backend: run.backend, recoveries, check, ...extra };
}

/**
 * Trains a model as `options` say and exports it to `options.out`. Bad inputs (target, options,
 * backend, checkpoint) throw `TrainerError` before the first iteration; divergence and
 * interruption are results, not exceptions.
 */
export async function train(options: TrainOptions, hooks: TrainHooks = {}): Promise<TrainResult> {
  const emit = hooks.onEvent ?? (() => undefined);
  const run = await openRun(options, emit);
  const session = openSession(run, options);
  emitStart(run, session, options, emit);
  const { rng, setting } = run;
  const { network, adam, curriculum, pool, history, engine } = session;
  const files = new RunFiles(run, session, options, emit);
  const budget = new Budget(options.minutes);
  const deadGrid = new DeadGridWatch(run.arch);
  const overgrowth = new OvergrowthWatch(setting, run.arch);
  const recovery = new Recovery(session, options.maxRecoveries);
  const schedule = new CheckSchedule(options.checkEvery, history.iteration, history.seconds);
  let check: CheckSummary | null = null;

  let ended: 'iterations' | 'budget' | 'passed' = 'iterations';
  while (history.iteration < options.iterations) {
    if (hooks.signal?.aborted) break;
    if (budget.spent(history.seconds)) {
      ended = 'budget';
      break;
    }
    const started = performance.now();
    const batch = drawBatch(setting, pool, curriculum.difficulty(), rng, options);
    const result = await engine.run({
      starts: batch.starts,
      batch: options.batch,
      height: setting.height,
      width: setting.width,
      steps: batch.steps,
      maskSeed: batch.maskSeed,
      ...(batch.damage ? { damage: batch.damage } : {}),
      poison: hooks.poison?.(history.iteration) ?? false,
    });
    const { norms, gradientNorm, diverged } = guard(result, session, run, options);
    if (diverged !== null) {
      for (const g of result.gradients) g.dispose();
      result.final.dispose();
      history.seconds += (performance.now() - started) / 1000;
      if (tryRecovery(recovery, 'diverged', diverged, session, emit)) {
        deadGrid.reset();
        overgrowth.reset();
        continue;
      }
      const exhausted = options.maxRecoveries > 0 ? ` after ${history.recoveries} recover${history.recoveries === 1 ? 'y' : 'ies'}` : '';
      emit({ type: 'stopped', reason: 'diverged', iteration: history.iteration, message: `${diverged}${exhausted}; stopped without writing a checkpoint or export (the last good ones are kept)` });
      return await finish('diverged', run, session, options, emit, check);
    }
    adam.apply(network.variables, result.gradients, norms, history.iteration);
    for (const g of result.gradients) g.dispose();
    if (batch.drawn.length > 0) returnToPool(pool, batch.drawn, result.final.dataSync() as Float32Array, setting.cellValues);
    const aliveShare = aliveShareOf(result.final, session.step);
    const outsideShare = overgrowth.shareOf(result.final);
    result.final.dispose();
    const deadWarning = deadGrid.observe(aliveShare, history.iteration + 1);
    const flooded = overgrowth.observe(outsideShare, history.iteration + 1);

    // Record the iteration: history, curriculum, best weights, the iteration event.
    history.firstLoss ??= result.loss;
    history.losses.push(result.loss);
    history.levels.push(curriculum.level);
    const level = curriculum.level;
    const raised = curriculum.record(result.loss, setting.trivialLoss);
    history.iteration += 1;
    const { iteration } = history;
    const smoothed = curriculum.smoothed ?? result.loss;
    budget.consider(network, iteration, level, smoothed);
    const elapsed = (performance.now() - started) / 1000;
    history.seconds += elapsed;
    const budgetLeft = budget.left(history.seconds);
    // A budgeted run's decay: once BUDGET_DECAY_SHARE of the budget is spent, if the iteration
    // schedule has not decayed the rate yet (the next iteration is the first at the lower rate).
    const decayDue = options.budgetDecayShare > 0 && adam.budgetDecayAt === undefined && budget.reached(history.seconds, options.budgetDecayShare);
    if (decayDue && options.decayAt.every((at) => iteration < at)) adam.budgetDecayAt = iteration;
    emit({
      type: 'iteration',
      iteration,
      iterations: options.iterations,
      loss: result.loss,
      smoothedLoss: smoothed,
      level,
      levels: options.curriculum.levels,
      steps: batch.steps,
      learningRate: adam.rateAt(iteration - 1),
      gradientNorm,
      aliveShare,
      iterationsPerSecond: 1 / elapsed,
      seconds: history.seconds,
      ...(budgetLeft !== undefined ? { budgetLeft } : {}),
      ...(check ? { check } : {}),
    });
    if (raised) emit({ type: 'level', iteration, level: curriculum.level, difficulty: curriculum.difficulty() });
    if (deadWarning && !tryRecovery(recovery, 'dead', deadWarning.split(':')[0]!, session, emit)) emit({ type: 'warning', message: deadWarning });
    if (deadWarning) {
      deadGrid.reset();
      overgrowth.reset();
    }
    // A flooded run that was healthy once goes back; with no recovery left, or never healthy (a
    // random start brings every cell to life), it warns, again every FLOOD_PATIENCE iterations.
    const recovered = flooded !== undefined && overgrowth.everHealthy && tryRecovery(recovery, 'overgrown', flooded.split(' (')[0]!, session, emit);
    if (flooded && !recovered) emit({ type: 'warning', message: `${flooded}; try a lower --lr or the sample pool (--pool)` });
    if (flooded) {
      overgrowth.reset();
      deadGrid.reset();
    }
    // NOTE: an iteration is one long synchronous computation; yield to the event loop so a
    // SIGINT/SIGTERM handler (which aborts `signal`) can run between iterations.
    await new Promise((resolve) => setImmediate(resolve));
    if (hooks.signal?.aborted) break;
    // A healthy state to go back to: the first iteration with living samples that does better
    // than an empty grid, then each checkpoint's. (A random essay start is worse than an empty grid
    // while it learns to clear its background: its early, chaotic states are no place to return to.)
    const learning = smoothed < setting.trivialLoss;
    if (deadGrid.healthy && overgrowth.healthy && learning && aliveShare > 0 && (!recovery.hasHealthy || iteration % options.checkpointEvery === 0)) recovery.remember();
    if (iteration % options.checkpointEvery === 0) await files.checkpoint();
    if (options.previewEvery > 0 && iteration % options.previewEvery === 0) await files.preview();
    if (schedule.due(iteration, history.seconds)) {
      const model = exportedModelOf(run, session, options);
      const result = await (hooks.check ? hooks.check(model, setting.image, iteration) : runCheck(model, setting.image, iteration, { confirmLongSteps: options.checkLong }));
      history.seconds += result.seconds;
      schedule.done(iteration, history.seconds, result.seconds);
      check = { iteration, verdict: result.verdict, score: result.score, scoreText: result.scoreText };
      emit({ type: 'check', ...result, ...(result.verdict === 'pass' ? { saved: await files.passed(model, iteration) } : {}) });
      if (result.verdict === 'pass') budget.considerPassed(network, iteration, result.score);
      if (result.verdict === 'pass' && options.earlyStop && curriculum.level === options.curriculum.levels - 1) {
        ended = 'passed';
        break;
      }
    }
  }

  const { iteration } = history;
  if (iteration < options.iterations && ended === 'iterations') {
    await files.checkpoint();
    emit({ type: 'stopped', reason: 'interrupted', iteration, message: `interrupted after iteration ${iteration}; resume with --resume` });
    return await finish('interrupted', run, session, options, emit, check);
  }
  if (history.losses.length === 0 || iteration % options.checkpointEvery !== 0) await files.checkpoint();
  if (ended === 'budget') {
    // NOTE: after the checkpoint, which keeps the current weights for a --resume with more minutes.
    emit({ type: 'stopped', reason: 'budget', iteration, message: budget.restoreBest(network, iteration) });
  } else if (ended === 'passed') {
    emit({
      type: 'stopped',
      reason: 'passed',
      iteration,
      message: `early stop after ${iteration} iterations: the held-in check passed at the last curriculum level (${check!.scoreText}); exporting these weights (--no-early-stop trains on)`,
    });
  }
  if (options.previewEvery > 0 && (ended !== 'iterations' || iteration % options.previewEvery !== 0)) await files.preview();
  const { model, report } = await exportRun(run, session, options, emit);
  return await finish('completed', run, session, options, emit, check, { model, export: report });
}
