/**
 * The embedded sweep (no Redis): the jobs one after another in this process, through the same
 * `runJob` as `nca worker`, so a sweep killed at any point (even `kill -9`) continues where it
 * stopped when run again: finished jobs are skipped and the interrupted one resumes from its last
 * checkpoint in the store.
 */
import { runJob, readJobResult, type JobResult } from './job.js';
import type { JobSpec } from './plan.js';
import type { SweepStore } from './store.js';
import type { TrainEvent } from '../training/train.js';

export interface LocalSweepReport {
  /** Jobs finished before this run started. */
  readonly skipped: number;
  readonly ran: number;
  /** True when a signal stopped the sweep (the running job wrote a checkpoint). */
  readonly interrupted: boolean;
  /** Jobs that threw (not a job's own failure, which is a result): retried on the next run. */
  readonly errors: ReadonlyMap<string, string>;
}

export interface LocalSweepOptions {
  readonly worker: string;
  readonly signal: AbortSignal;
  readonly say: (line: string) => void;
  readonly threads?: number;
}

function outcomeLine(result: JobResult): string {
  if (result.status === 'failed') return `failed [${result.code}] ${result.reason}`;
  const resumed = result.sessions.length > 1 ? `, resumed ${result.sessions.length - 1}x` : '';
  return `${result.verdict} after ${result.iterations} iterations (loss ${result.finalLoss?.toPrecision(3) ?? '-'}${resumed})`;
}

export async function runLocalSweep(specs: readonly JobSpec[], store: SweepStore, options: LocalSweepOptions): Promise<LocalSweepReport> {
  const errors = new Map<string, string>();
  let skipped = 0;
  let ran = 0;
  for (const [n, spec] of specs.entries()) {
    const label = `[${n + 1}/${specs.length}] ${spec.name} (${spec.id})`;
    const before = await readJobResult(store, spec.id);
    if (before) {
      skipped += 1;
      options.say(`${label}: already ${before.status}, ${outcomeLine(before)}`);
      continue;
    }
    if (options.signal.aborted) return { skipped, ran, interrupted: true, errors };
    const onEvent = (event: TrainEvent): void => {
      if (event.type === 'start') options.say(`${label}: ${event.resumedFrom ? `resuming at iteration ${event.iteration}` : 'training'}, ${event.iterations} iterations`);
      if (event.type === 'checkpoint') options.say(`${label}: checkpoint at iteration ${event.iteration}`);
      if (event.type === 'warning') options.say(`${label}: warning: ${event.message}`);
    };
    try {
      const outcome = await runJob(spec, store, { worker: options.worker, signal: options.signal, onEvent, ...(options.threads !== undefined ? { threads: options.threads } : {}) });
      if (outcome.kind === 'interrupted') {
        options.say(`${label}: stopped at iteration ${outcome.iteration}, checkpoint written; run the same command again to continue`);
        return { skipped, ran, interrupted: true, errors };
      }
      ran += 1;
      options.say(`${label}: ${outcomeLine(outcome.result)}`);
    } catch (error) {
      // NOTE: not the job's own failure (that is a result): an I/O error or a bug. The sweep goes
      // on; the job has no result, so the next run tries it again.
      const message = (error as Error).message ?? String(error);
      errors.set(spec.id, message);
      options.say(`${label}: error: ${message}`);
    }
  }
  return { skipped, ran, interrupted: false, errors };
}
