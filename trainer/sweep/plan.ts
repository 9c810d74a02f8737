/**
 * A sweep's jobs: one per sprite x grid combination, each with an id that depends only on what
 * the job computes (the sprite's bytes, the training options that shape the model, the eval
 * settings), so the same sweep run twice names the same jobs and enqueues nothing new.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Task } from '../../runtime/format/types.js';
import { explicitOptions, type Values as TrainValues } from '../cli/train.js';
import { baseName, resolveOptions, type TrainOptionsInput } from '../training/config.js';
import { describeFsError } from '../io/fs-errors.js';
import { SweepError } from './errors.js';
import type { Combination } from './grid-search.js';
import type { SweepStore } from './store.js';

/** Training options a job carries: everything but the per-job paths, which the runner sets. */
export type JobTrainOptions = Omit<Partial<TrainOptionsInput>, 'target' | 'out' | 'runDir' | 'name' | 'resume'>;

/** How a finished model is scored (`nca eval`'s --steps, --heal-steps, --long); unset: its defaults. */
export interface EvalSettings {
  readonly steps?: number;
  readonly healSteps?: number;
  readonly longSteps?: number;
}

/** One job, as it travels through the queue (plain JSON). */
export interface JobSpec {
  /** Deterministic: `<sprite>-<hash of what the job computes>`. */
  readonly id: string;
  /** File-safe: the sprite's name and the combination, e.g. `chick.lr-0.001`. */
  readonly name: string;
  /** The sprite as given on the command line (for the index). */
  readonly sprite: string;
  /** The sprite's copy in the store. */
  readonly target: string;
  readonly task: Task;
  readonly params: Combination;
  readonly train: JobTrainOptions;
  readonly eval: EvalSettings;
}

/** Options that change how fast a job runs, not what it computes: not part of the id. */
const RUNNING_OPTIONS: readonly string[] = ['backend', 'engine', 'threads', 'memory', 'checkpointEvery', 'previewEvery'];

/** JSON with object keys sorted, so equal values hash equally. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const fileSafe = (text: string): string => text.replace(/[^A-Za-z0-9._-]+/g, '_');

export interface SweepSprite {
  readonly path: string;
  readonly sha256: string;
  /** Store key of its copy. */
  readonly key: string;
}

/** Reads each sprite and copies it into the store by content; a missing file stops the sweep. */
export async function storeSprites(paths: readonly string[], store: SweepStore): Promise<SweepSprite[]> {
  const sprites: SweepSprite[] = [];
  for (const path of paths) {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw new SweepError('sprite-missing', `cannot read sprite '${path}': ${describeFsError(error)}`, { cause: error });
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const key = `targets/${sha256.slice(0, 24)}${fileSafe(extname(path).toLowerCase())}`;
    await store.putFile(key, path);
    sprites.push({ path, sha256, key });
  }
  return sprites;
}

/**
 * The jobs of a sweep. `base` holds the `nca train` flags given once; each combination's values
 * replace them. Every job's options are checked with the trainer's own `resolveOptions` here, so
 * a bad flag stops the whole sweep before anything is enqueued (`TrainerError('bad-option')`),
 * while a bad sprite only fails its own job later.
 */
export function planJobs(sprites: readonly SweepSprite[], base: TrainValues, combinations: readonly Combination[], evalSettings: EvalSettings): JobSpec[] {
  const jobs: JobSpec[] = [];
  for (const sprite of sprites) {
    for (const params of combinations) {
      const values = { ...base, ...params } as TrainValues;
      const { target: _t, out: _o, runDir: _r, name: _n, resume: _s, ...train } = explicitOptions(values);
      if (train.task === undefined) throw new SweepError('bad-option', '--task is required: growth, persistence or healing');
      const task = train.task;
      resolveOptions({ ...train, task, target: sprite.path });
      const shaping = Object.fromEntries(Object.entries(train).filter(([key]) => !RUNNING_OPTIONS.includes(key)));
      const hash = createHash('sha256').update(canonical({ sprite: sprite.sha256, train: shaping, eval: evalSettings })).digest('hex').slice(0, 12);
      const stem = fileSafe(baseName(sprite.path)).toLowerCase() || 'sprite';
      const label = Object.entries(params).map(([key, value]) => `.${key}-${value}`).join('');
      jobs.push({
        // NOTE: BullMQ refuses ids that contain ':' or parse as integers; this has neither.
        id: `${stem}-${hash}`,
        name: fileSafe(`${baseName(sprite.path)}${label}`),
        sprite: sprite.path,
        target: sprite.key,
        task,
        params,
        train,
        eval: evalSettings,
      });
    }
  }
  // The same sprite given twice is one job; two sprites of one name in two folders keep both.
  const unique = [...new Map(jobs.map((job) => [job.id, job])).values()];
  const names = new Map<string, number>();
  for (const job of unique) names.set(job.name, (names.get(job.name) ?? 0) + 1);
  return unique.map((job) => ((names.get(job.name) ?? 0) > 1 ? { ...job, name: `${job.name}.${job.id.slice(-6)}` } : job));
}
