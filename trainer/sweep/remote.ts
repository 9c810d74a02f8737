/**
 * `nca sweep --queue`: enqueue the sweep's jobs, then (unless --detach) wait for every one to
 * finish on the workers, showing progress, so the caller can write the index.
 */
import { readJobResult } from './job.js';
import type { JobSpec } from './plan.js';
import { enqueue, jobStates, openQueue, type EnqueueReport, type QueueAddress, type QueuedJob } from './queue.js';
import type { SweepStore } from './store.js';
import type { PendingState } from './sweep-index.js';

export interface RemoteSweepOptions {
  readonly attempts: number;
  readonly detach: boolean;
  readonly pollMs: number;
  readonly signal: AbortSignal;
  readonly say: (line: string) => void;
}

export interface RemoteSweepReport extends EnqueueReport {
  /** False when detached or interrupted before every job finished. */
  readonly finished: boolean;
  readonly pending: PendingState;
}

function progressText(job: QueuedJob): string {
  const p = job.progress;
  if (!p) return `${job.id} ${job.state}`;
  return `${job.id} ${p.phase} ${p.iteration}/${p.iterations} on ${p.worker}${p.resumedFrom > 0 ? ` (resumed at ${p.resumedFrom})` : ''}`;
}

export async function runRemoteSweep(specs: readonly JobSpec[], store: SweepStore, address: QueueAddress, options: RemoteSweepOptions): Promise<RemoteSweepReport> {
  const queue = await openQueue(address);
  try {
    const done = new Set<string>();
    for (const spec of specs) if (await readJobResult(store, spec.id)) done.add(spec.id);
    const report = await enqueue(queue, specs, done, options.attempts);
    options.say(`${specs.length} jobs: ${report.added.length} enqueued, ${report.existing.size} already queued or finished`);
    let last: QueuedJob[] = [];
    const pending: PendingState = (spec) => {
      const job = last.find((j) => j.id === spec.id);
      return { state: job?.state ?? 'unknown', ...(job?.failedReason ? { reason: job.failedReason } : {}) };
    };
    if (options.detach) return { ...report, finished: false, pending };
    let shown = '';
    while (!options.signal.aborted) {
      for (const spec of specs) if (!done.has(spec.id) && (await readJobResult(store, spec.id))) done.add(spec.id);
      last = await jobStates(queue, specs.filter((s) => !done.has(s.id)).map((s) => s.id));
      // A job that failed without a stored result (retries exhausted, stalled too often) is finished too.
      const open = last.filter((j) => j.state !== 'failed' && j.state !== 'completed' && j.state !== 'missing');
      const line = `${specs.length - open.length}/${specs.length} finished` + (open.length ? `; ${open.filter((j) => j.state === 'active').map(progressText).join('; ') || `${open.length} waiting`}` : '');
      if (line !== shown) options.say(line);
      shown = line;
      if (open.length === 0) return { ...report, finished: true, pending };
      await new Promise((resolve) => setTimeout(resolve, options.pollMs));
    }
    return { ...report, finished: false, pending };
  } finally {
    await queue.close();
  }
}
