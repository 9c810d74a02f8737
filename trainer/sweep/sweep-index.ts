/**
 * The sweep's index in its --out folder: `index.json` for scripts and `index.md` (a table) for
 * people, one row per job with its verdict, and each finished job's `.nca` and eval scores copied
 * beside them.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { readJobResult, type JobResult } from './job.js';
import type { JobSpec } from './plan.js';
import { jobKey, type SweepStore } from './store.js';

export interface IndexRow {
  readonly id: string;
  readonly name: string;
  readonly sprite: string;
  readonly params: JobSpec['params'];
  /** 'completed' or 'failed' once finished; otherwise where the job is (queued, active...). */
  readonly state: string;
  readonly verdict: JobResult['verdict'] | null;
  readonly iterations: number | null;
  readonly finalLoss: number | null;
  readonly growthPsnr: number | null;
  readonly scores: JobResult['scores'] | null;
  /** Sessions it took (more than one: it was resumed after a worker stopped or died). */
  readonly sessions: number;
  /** The copied model, relative to the index. */
  readonly model: string | null;
  readonly reason: string | null;
}

export interface SweepIndex {
  readonly generated: string;
  readonly store: string;
  readonly jobs: readonly IndexRow[];
}

/** `state` of a job without a result: what the queue says, or why it has none. */
export type PendingState = (spec: JobSpec) => { readonly state: string; readonly reason?: string };

export async function buildIndex(specs: readonly JobSpec[], store: SweepStore, out: string, pending: PendingState): Promise<SweepIndex> {
  await mkdir(out, { recursive: true });
  const rows: IndexRow[] = [];
  for (const spec of specs) {
    const result = await readJobResult(store, spec.id);
    let model: string | null = null;
    if (result?.status === 'completed' && result.model !== undefined) {
      model = `${spec.name}.nca`;
      await writeFileAtomic(join(out, model), await readFile(await store.localFile(result.model)));
      const scores = await store.readText(jobKey(spec.id, 'eval.json'));
      if (scores !== undefined) await writeFileAtomic(join(out, `${spec.name}.eval.json`), new TextEncoder().encode(scores));
    }
    const waiting = result ? undefined : pending(spec);
    rows.push({
      id: spec.id,
      name: spec.name,
      sprite: spec.sprite,
      params: spec.params,
      state: result?.status ?? waiting?.state ?? 'unknown',
      verdict: result?.verdict ?? null,
      iterations: result?.iterations ?? null,
      finalLoss: result?.finalLoss ?? null,
      growthPsnr: result?.scores?.growthPsnr ?? null,
      scores: result?.scores ?? null,
      sessions: result?.sessions.length ?? 0,
      model,
      reason: result?.reason ?? waiting?.reason ?? null,
    });
  }
  return { generated: new Date().toISOString(), store: store.location, jobs: rows };
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\s+/g, ' ');

export function indexMarkdown(index: SweepIndex): string {
  const lines = [
    '# Sweep',
    '',
    `${index.jobs.length} jobs; store ${index.store}; written ${index.generated}.`,
    '',
    '| job | sprite | params | state | verdict | growth / healing / persistence | iterations | loss | model | reason |',
    '| --- | --- | --- | --- | --- | --- | ---: | ---: | --- | --- |',
  ];
  for (const row of index.jobs) {
    const params = Object.entries(row.params).map(([k, v]) => `${k}=${v}`).join(' ');
    const scores = row.scores ? `${row.scores.growth} / ${row.scores.healing} / ${row.scores.persistence}` : '';
    lines.push(
      `| ${[
        row.id,
        row.sprite,
        params,
        row.state,
        row.verdict ?? '',
        scores,
        row.iterations === null ? '' : String(row.iterations),
        row.finalLoss === null ? '' : row.finalLoss.toPrecision(3),
        row.model === null ? '' : `[${row.model}](${encodeURI(row.model)})`,
        row.reason ?? '',
      ]
        .map(cell)
        .join(' | ')} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export async function writeIndex(out: string, index: SweepIndex): Promise<{ json: string; markdown: string }> {
  const json = join(out, 'index.json');
  const markdown = join(out, 'index.md');
  await writeFileAtomic(json, new TextEncoder().encode(`${JSON.stringify(index, null, 2)}\n`));
  await writeFileAtomic(markdown, new TextEncoder().encode(indexMarkdown(index)));
  return { json, markdown };
}
