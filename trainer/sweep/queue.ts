/**
 * The BullMQ side of a sweep: one Redis queue of `JobSpec`s, the jobs' ids being the specs' ids
 * (BullMQ ignores an add whose id exists, which is what makes a re-run enqueue nothing new).
 *
 * Only `nca sweep --queue`, `nca sweep status` and `nca worker` import this module, so the local
 * sweep and everything else run without Redis, bullmq or ioredis loaded. The packages themselves
 * are imported on first use too: the built CLI is one file (dist/nca.js), where a static import
 * would load them for every command.
 *
 * A worker that dies holds its job's lock until `lockDuration` runs out; another worker's stalled
 * check (every `stalledInterval`) then moves the job back to wait, and whoever takes it resumes
 * from the job's last checkpoint in the store. `maxStalledCount` bounds how often that may happen.
 */
import { hostname } from 'node:os';
import type { Job, JobState, Queue } from 'bullmq';
import { SweepError } from './errors.js';
import { runJob, type JobProgress, type JobResult } from './job.js';
import type { JobSpec } from './plan.js';
import type { SweepStore } from './store.js';
import type { TrainEvent } from '../training/train.js';

export const DEFAULT_QUEUE_NAME = 'nca-sweep';

export interface QueueAddress {
  /** redis://[user:password@]host:port[/db] or rediss:// */
  readonly url: string;
  readonly name: string;
}

function shown(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
}

/** Fails fast with `queue-unreachable` instead of letting ioredis retry for ever. */
async function checkReachable(url: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 5000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  // The socket's own error (ECONNREFUSED...) says more than the rejection ("Connection is closed").
  let cause: Error | undefined;
  client.on('error', (error: Error) => (cause ??= error));
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new SweepError('queue-unreachable', `no Redis answers at ${shown(url)}: ${(cause ?? (error as Error)).message}`, { cause: cause ?? error });
  } finally {
    client.disconnect();
  }
}

export type SweepQueue = Queue<JobSpec, JobResult>;

export async function openQueue(address: QueueAddress): Promise<SweepQueue> {
  await checkReachable(address.url);
  const { Queue } = await import('bullmq');
  const queue: SweepQueue = new Queue<JobSpec, JobResult>(address.name, { connection: { url: address.url } });
  queue.on('error', () => undefined);
  await queue.waitUntilReady();
  return queue;
}

export interface EnqueueReport {
  readonly added: readonly string[];
  /** Jobs already in the queue (or finished in the store), by state. */
  readonly existing: ReadonlyMap<string, string>;
}

/**
 * Adds the jobs the queue does not hold. Jobs whose result is already in the store (the queue
 * may have been emptied since) are not added either. `attempts` bounds the retries of a job
 * that threw; a job's own failure (bad sprite) is final at once.
 */
export async function enqueue(queue: SweepQueue, specs: readonly JobSpec[], finished: ReadonlySet<string>, attempts: number): Promise<EnqueueReport> {
  const added: string[] = [];
  const existing = new Map<string, string>();
  for (const spec of specs) {
    if (finished.has(spec.id)) {
      existing.set(spec.id, 'finished');
      continue;
    }
    const job = await queue.getJob(spec.id);
    if (job) {
      existing.set(spec.id, await job.getState());
      continue;
    }
    // NOTE: another sweep adding the same id in between is harmless: BullMQ ignores an add whose
    // id exists (this count is then one too high, nothing else).
    await queue.add(spec.name, spec, { jobId: spec.id, attempts, backoff: { type: 'exponential', delay: 5000 } });
    added.push(spec.id);
  }
  return { added, existing };
}

export interface QueuedJob {
  readonly id: string;
  readonly name: string;
  readonly state: JobState | 'unknown' | 'missing';
  readonly progress: JobProgress | null;
  readonly attemptsMade: number;
  readonly stalled: number;
  readonly failedReason: string | null;
  readonly spec: JobSpec | null;
}

function progressOf(job: Job<JobSpec, JobResult>): JobProgress | null {
  const p = job.progress;
  return typeof p === 'object' && p !== null && 'phase' in p ? (p as JobProgress) : null;
}

function describe(job: Job<JobSpec, JobResult>, state: QueuedJob['state']): QueuedJob {
  return {
    id: job.id ?? '',
    name: job.name,
    state,
    progress: progressOf(job),
    attemptsMade: job.attemptsMade,
    stalled: job.stalledCounter,
    failedReason: job.failedReason ? job.failedReason : null,
    spec: job.data ?? null,
  };
}

/** The given jobs' states, in order ('missing' for an id the queue does not hold). */
export async function jobStates(queue: SweepQueue, ids: readonly string[]): Promise<QueuedJob[]> {
  const jobs: QueuedJob[] = [];
  for (const id of ids) {
    const job = await queue.getJob(id);
    jobs.push(job ? describe(job, await job.getState()) : { id, name: '', state: 'missing', progress: null, attemptsMade: 0, stalled: 0, failedReason: null, spec: null });
  }
  return jobs;
}

const STATES: readonly JobState[] = ['active', 'waiting', 'prioritized', 'delayed', 'waiting-children', 'failed', 'completed'];

/** Every job in the queue with its state, active ones first. */
export async function listJobs(queue: SweepQueue): Promise<QueuedJob[]> {
  const jobs: QueuedJob[] = [];
  for (const state of STATES) {
    for (const job of await queue.getJobs(state)) if (job) jobs.push(describe(job, state));
  }
  return jobs;
}

export interface WorkerSettings {
  readonly lockMs: number;
  readonly stalledMs: number;
  readonly maxStalled: number;
  readonly threads?: number;
  /** Stop once the queue holds no waiting, delayed or active job (checked every stalled interval). */
  readonly untilEmpty?: boolean;
  readonly onEvent?: (line: string) => void;
}

/** This process, as sessions and BullMQ's worker name record it. */
export function workerName(): string {
  return `${hostname()}-${process.pid}`;
}

/**
 * Takes jobs one at a time until `shutdown` aborts: then the running job stops after its
 * iteration, writes a checkpoint and goes back to wait (not counted as a failure), and the
 * promise resolves once the worker has closed.
 */
export async function runWorker(address: QueueAddress, store: SweepStore, settings: WorkerSettings, shutdown: AbortSignal): Promise<void> {
  await checkReachable(address.url);
  const { Queue, UnrecoverableError, WaitingError, Worker } = await import('bullmq');
  const name = workerName();
  const say = settings.onEvent ?? (() => undefined);
  // The running jobs' stop switches, so a job whose lock could not be renewed stops training.
  const running = new Map<string, AbortController>();
  const processor = async (job: Job<JobSpec, JobResult>, token?: string, cancel?: AbortSignal): Promise<JobResult> => {
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    running.set(job.id ?? '', controller);
    shutdown.addEventListener('abort', stop);
    cancel?.addEventListener('abort', stop);
    try {
      say(`job ${job.id} (${job.name}): started, attempt ${job.attemptsMade + 1}`);
      const onProgress = (progress: JobProgress): void => {
        // NOTE: progress is best-effort; a failed update must not fail the job.
        job.updateProgress(progress).catch(() => undefined);
      };
      const onEvent = (event: TrainEvent): void => {
        if (event.type === 'start' && event.resumedFrom) say(`job ${job.id}: resuming at iteration ${event.iteration} from ${event.resumedFrom}`);
        if (event.type === 'warning') say(`job ${job.id}: warning: ${event.message}`);
      };
      const outcome = await runJob(job.data, store, { worker: name, signal: controller.signal, onProgress, onEvent, ...(settings.threads !== undefined ? { threads: settings.threads } : {}) });
      if (outcome.kind === 'done') {
        const { result } = outcome;
        if (result.status === 'failed') {
          say(`job ${job.id}: failed [${result.code}] ${result.reason}`);
          // A job's own failure (bad sprite, divergence) fails the same way every time: no retries.
          throw new UnrecoverableError(`[${result.code}] ${result.reason}`);
        }
        say(`job ${job.id}: ${result.verdict} after ${result.iterations} iterations`);
        return result;
      }
      if (shutdown.aborted && token !== undefined) {
        say(`job ${job.id}: stopped at iteration ${outcome.iteration} (checkpoint written), back to the queue`);
        await job.moveToWait(token);
        throw new WaitingError();
      }
      throw new Error(`job ${job.id} stopped at iteration ${outcome.iteration}: its lock was lost or it was cancelled`);
    } finally {
      running.delete(job.id ?? '');
      shutdown.removeEventListener('abort', stop);
      cancel?.removeEventListener('abort', stop);
    }
  };
  const worker = new Worker<JobSpec, JobResult>(address.name, processor, {
    connection: { url: address.url },
    name,
    concurrency: 1,
    lockDuration: settings.lockMs,
    stalledInterval: settings.stalledMs,
    maxStalledCount: settings.maxStalled,
    // NOTE: BullMQ's default long poll is 5 s; a shorter one lets a closing worker go sooner.
    drainDelay: 1,
  });
  worker.on('error', (error) => {
    say(`queue error: ${error.message}`);
    // NOTE: BullMQ reports a failed lock renewal only as this error event. The job may already be
    // another worker's (it stalled: this process was too busy or cut off from Redis for
    // lockDuration), so stop training it rather than race that worker in the same run folder.
    const lost = /could not renew lock for job (\S+)/.exec(error.message);
    if (lost) running.get(lost[1]!)?.abort();
  });
  worker.on('stalled', (jobId) => say(`job ${jobId}: stalled (its worker stopped renewing the lock); back to wait`));
  await worker.waitUntilReady();
  say(`worker ${name} on ${shown(address.url)} queue ${address.name}, store ${store.location}`);
  // NOTE: a plain Queue for the counts: the Worker has no "how many are left" of its own.
  const counter = settings.untilEmpty ? new Queue(address.name, { connection: { url: address.url } }) : undefined;
  counter?.on('error', () => undefined);
  let emptyChecks: ReturnType<typeof setInterval> | undefined;
  await new Promise<void>((resolve) => {
    if (shutdown.aborted) resolve();
    else shutdown.addEventListener('abort', () => resolve(), { once: true });
    if (!counter) return;
    let emptyBefore = false;
    emptyChecks = setInterval(() => {
      counter
        .getJobCounts('waiting', 'prioritized', 'delayed', 'active')
        .then((counts) => {
          const empty = Object.values(counts).every((n) => n === 0);
          // Twice in a row, so a job moving between states is not mistaken for none left.
          if (empty && emptyBefore) {
            say('queue empty; stopping');
            resolve();
          }
          emptyBefore = empty;
        })
        .catch(() => undefined);
    }, Math.max(1000, settings.stalledMs));
  });
  clearInterval(emptyChecks);
  await counter?.close();
  await worker.close();
}
