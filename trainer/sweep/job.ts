/**
 * Runs one sweep job against the store, the same way in `nca worker` and in the local sweep:
 * resume from the job's last checkpoint when there is one, train, score the model with the eval
 * API, and store the `.nca`, `summary.json`, `eval.json` and `result.json` in the job's folder.
 *
 * A failure of the job itself (a bad sprite, a divergence) is a result, stored like a success;
 * anything else (a bug, a full disk, a lost thread) is thrown, for the caller to retry.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CHECKPOINT_FILE, PREVIOUS_CHECKPOINT_FILE } from '../io/checkpoint.js';
import { resolveOptions } from '../training/config.js';
import { TrainerError } from '../errors.js';
import { reportJson, type Verdict } from '../eval/index.js';
import { train, type TrainEvent, type TrainResult } from '../training/train.js';
import type { JobSpec } from './plan.js';
import { scoreModel } from './score.js';
import { exists, jobKey, type SweepStore } from './store.js';

/** What a running job reports (BullMQ's job progress; `nca sweep status` shows it). */
export interface JobProgress {
  readonly phase: 'training' | 'scoring';
  readonly iteration: number;
  readonly iterations: number;
  /** The last checkpoint's iteration: where another worker would resume. */
  readonly checkpoint: number;
  readonly loss: number | null;
  readonly worker: string;
  /** The iteration this session resumed from (0: it started the job). */
  readonly resumedFrom: number;
}

/** One worker's turn at a job. A worker that died leaves its session with no successor's `from` of 0. */
export interface JobSession {
  readonly worker: string;
  readonly started: string;
  /** Iteration it started at: 0, or the checkpoint it resumed. */
  readonly from: number;
}

export interface JobScores {
  readonly verdict: 'pass' | 'fail';
  readonly growth: Verdict;
  readonly healing: Verdict;
  readonly persistence: Verdict;
  /** Growth PSNR in dB (capped), null when the state was not finite. */
  readonly growthPsnr: number | null;
}

/** `result.json` in the job's folder. */
export interface JobResult {
  readonly id: string;
  readonly name: string;
  readonly sprite: string;
  readonly task: JobSpec['task'];
  readonly params: JobSpec['params'];
  readonly status: 'completed' | 'failed';
  /** The eval's verdict; 'error' when the job failed before there was a model to score. */
  readonly verdict: 'pass' | 'fail' | 'error';
  /** Failed jobs: the trainer's error code (`target-not-image`...) or `diverged`. */
  readonly code?: string;
  readonly reason?: string;
  readonly iterations: number | null;
  readonly finalLoss: number | null;
  /** Training seconds, across sessions. */
  readonly seconds: number | null;
  readonly sessions: readonly JobSession[];
  /** Store keys of the job's files. */
  readonly model?: string;
  readonly summary?: string;
  readonly eval?: string;
  readonly scores?: JobScores;
  readonly finished: string;
}

export type JobOutcome = { readonly kind: 'done'; readonly result: JobResult } | { readonly kind: 'interrupted'; readonly iteration: number };

export interface RunJobOptions {
  /** Who runs it (host and pid), recorded in the job's sessions. */
  readonly worker: string;
  /** Aborting stops training after the current iteration and writes a checkpoint ('interrupted'). */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: JobProgress) => void;
  readonly onEvent?: (event: TrainEvent) => void;
  /** This machine's thread count, replacing the job's (it does not change what the job computes). */
  readonly threads?: number;
}

/** Trainer errors that say something about this machine, not the job: worth a retry elsewhere. */
const MACHINE_ERRORS: readonly string[] = ['worker-failed', 'backend-unavailable'];
const PROGRESS_INTERVAL_MS = 1000;

/** The stored result of a job, if it has finished. */
export async function readJobResult(store: SweepStore, jobId: string): Promise<JobResult | undefined> {
  const text = await store.readText(jobKey(jobId, 'result.json'));
  return text === undefined ? undefined : (JSON.parse(text) as JobResult);
}

export async function runJob(spec: JobSpec, store: SweepStore, options: RunJobOptions): Promise<JobOutcome> {
  // NOTE: BullMQ delivers at least once; a job finished by a worker that then lost its lock
  // may come again, and must not be trained twice.
  const finished = await readJobResult(store, spec.id);
  if (finished) return { kind: 'done', result: finished };

  const folder = await store.workspace(spec.id);
  const runDir = join(folder, 'run');
  const out = join(folder, `${spec.name}.nca`);
  const target = await store.localFile(spec.target);
  const sessions: JobSession[] = JSON.parse((await store.readText(jobKey(spec.id, 'sessions.json'))) ?? '[]') as JobSession[];

  let writes: Promise<void> = Promise.resolve();
  let writeFailure: unknown;
  const later = (write: () => Promise<void>): void => {
    writes = writes.then(write).catch((error: unknown) => {
      writeFailure ??= error;
    });
  };
  let progress: JobProgress = { phase: 'training', iteration: 0, iterations: spec.train.iterations ?? 0, checkpoint: 0, loss: null, worker: options.worker, resumedFrom: 0 };
  let reported = 0;
  const report = (next: Partial<JobProgress>, force: boolean): void => {
    progress = { ...progress, ...next };
    if (!force && performance.now() - reported < PROGRESS_INTERVAL_MS) return;
    reported = performance.now();
    options.onProgress?.(progress);
  };
  let stopMessage = '';
  const onEvent = (event: TrainEvent): void => {
    options.onEvent?.(event);
    if (event.type === 'start') {
      sessions.push({ worker: options.worker, started: new Date().toISOString(), from: event.iteration });
      const record = JSON.stringify(sessions, null, 2);
      later(() => store.writeText(jobKey(spec.id, 'sessions.json'), `${record}\n`));
      report({ iteration: event.iteration, iterations: event.iterations, checkpoint: event.iteration, resumedFrom: event.iteration }, true);
    } else if (event.type === 'iteration') {
      report({ iteration: event.iteration, loss: event.loss }, false);
    } else if (event.type === 'checkpoint') {
      later(() => store.publish(spec.id));
      report({ checkpoint: event.iteration }, true);
    } else if (event.type === 'stopped') {
      stopMessage = event.message;
    }
  };

  const resumable = (await exists(join(runDir, CHECKPOINT_FILE))) || (await exists(join(runDir, PREVIOUS_CHECKPOINT_FILE)));
  const optionsFor = (resume: boolean) =>
    resolveOptions({ ...spec.train, task: spec.task, target, out, runDir, name: spec.name, resume, ...(options.threads !== undefined ? { threads: options.threads } : {}) });
  const hooks = { onEvent, ...(options.signal ? { signal: options.signal } : {}) };
  const failed = (code: string, reason: string, trained?: TrainResult): JobResult => ({
    id: spec.id,
    name: spec.name,
    sprite: spec.sprite,
    task: spec.task,
    params: spec.params,
    status: 'failed',
    verdict: 'error',
    code,
    // The trainer names the file it read: the store's copy; the sprite as given says more.
    reason: reason.split(target).join(spec.sprite),
    iterations: trained?.iteration ?? null,
    finalLoss: trained?.finalLoss ?? null,
    seconds: null,
    sessions,
    finished: new Date().toISOString(),
  });

  let trained: TrainResult;
  let result: JobResult | undefined;
  try {
    try {
      trained = await train(optionsFor(resumable), hooks);
    } catch (error) {
      // A checkpoint that cannot be read (both copies damaged) costs the job its progress, not its life.
      if (!(resumable && error instanceof TrainerError && (error.code === 'no-checkpoint' || error.code === 'bad-checkpoint'))) throw error;
      options.onEvent?.({ type: 'warning', message: `${error.message}; starting job ${spec.id} over` });
      trained = await train(optionsFor(false), hooks);
    }
  } catch (error) {
    if (!(error instanceof TrainerError) || MACHINE_ERRORS.includes(error.code)) throw error;
    result = failed(error.code, error.message);
  }
  await writes;
  if (writeFailure) throw writeFailure;
  if (!result) {
    if (trained!.status === 'interrupted') return { kind: 'interrupted', iteration: trained!.iteration };
    if (trained!.status === 'diverged') result = failed('diverged', stopMessage || 'the loss diverged', trained!);
  }
  if (!result) {
    report({ phase: 'scoring' }, true);
    const evalReport = await scoreModel(out, target, spec.eval);
    await store.writeText(jobKey(spec.id, 'eval.json'), `${JSON.stringify(reportJson(evalReport), null, 2)}\n`);
    const summary = JSON.parse(await readFile(join(runDir, 'summary.json'), 'utf8')) as { seconds?: number };
    const r = evalReport.result;
    result = {
      id: spec.id,
      name: spec.name,
      sprite: spec.sprite,
      task: spec.task,
      params: spec.params,
      status: 'completed',
      verdict: r.verdict,
      iterations: trained!.iteration,
      finalLoss: trained!.finalLoss,
      seconds: summary.seconds ?? null,
      sessions,
      model: jobKey(spec.id, `${spec.name}.nca`),
      summary: jobKey(spec.id, 'run/summary.json'),
      eval: jobKey(spec.id, 'eval.json'),
      scores: {
        verdict: r.verdict,
        growth: r.growth.verdict,
        healing: r.healing.verdict,
        persistence: r.persistence.verdict,
        growthPsnr: Number.isFinite(r.growth.snapshot.psnr) ? Number(r.growth.snapshot.psnr.toFixed(2)) : null,
      },
      finished: new Date().toISOString(),
    };
  }
  await store.writeText(jobKey(spec.id, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  await store.publish(spec.id);
  return { kind: 'done', result };
}
