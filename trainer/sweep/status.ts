/** `nca sweep status`: every job in the queue, its state, progress and, for failures, the reason. */
import type { JobResult } from './job.js';
import { listJobs, openQueue, type QueueAddress, type QueuedJob } from './queue.js';

export interface StatusReport {
  readonly queue: string;
  readonly counts: Readonly<Record<string, number>>;
  readonly jobs: readonly (QueuedJob & { readonly verdict: JobResult['verdict'] | null })[];
}

export async function readStatus(address: QueueAddress): Promise<StatusReport> {
  const queue = await openQueue(address);
  try {
    const listed = await listJobs(queue);
    const jobs = [];
    for (const job of listed) {
      const full = job.state === 'completed' ? await queue.getJob(job.id) : undefined;
      jobs.push({ ...job, verdict: full?.returnvalue?.verdict ?? null });
    }
    const counts: Record<string, number> = {};
    for (const job of jobs) counts[job.state] = (counts[job.state] ?? 0) + 1;
    return { queue: address.name, counts, jobs };
  } finally {
    await queue.close();
  }
}

function progressCell(job: QueuedJob): string {
  const p = job.progress;
  // A finished job's last progress says nothing its verdict does not.
  if (!p || job.state === 'completed' || (job.state === 'failed' && p.iteration === 0)) return '';
  const resumed = p.resumedFrom > 0 ? `, resumed at ${p.resumedFrom}` : '';
  return `${p.phase} ${p.iteration}/${p.iterations} (checkpoint ${p.checkpoint}${resumed}) ${p.worker}`;
}

export function formatStatus(report: StatusReport): string {
  const counts = Object.entries(report.counts).map(([state, n]) => `${n} ${state}`).join(', ') || 'no jobs';
  const rows = [['job', 'name', 'state', 'verdict', 'progress', 'attempts', 'stalled', 'reason']];
  for (const job of report.jobs) {
    rows.push([job.id, job.name, job.state, job.verdict ?? '', progressCell(job), String(job.attemptsMade), String(job.stalled), job.failedReason ?? '']);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const table = rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd());
  return [`queue ${report.queue}: ${counts}`, '', ...table].join('\n');
}
