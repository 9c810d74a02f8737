/**
 * `nca sweep <sprites...> --task <task> [train flags] [--grid-search k=v1,v2 | file.json]`: one
 * training job per sprite x combination. Without --queue the jobs run here, one after another;
 * with --queue redis://host:port --store DIR they go to BullMQ for `nca worker`s. `nca sweep
 * status --queue ...` shows the queue. See docs/sweep.md.
 *
 * NOTE: the queue modules are imported statically on purpose: they load bullmq and ioredis only
 * when used (trainer/sweep/queue.ts), and a dynamic import inside this lazily loaded command
 * breaks the one-file CLI bundle (rollup defines such nested modules after main's top-level await).
 *
 * Exit codes: 0 every job completed (whatever its verdict), 1 a job failed or errored, 2 bad
 * input (nothing enqueued or run), 130 interrupted (resumable: run the same command again).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SweepError } from '../sweep/errors.js';
import { parseGridSearch } from '../sweep/grid-search.js';
import { runLocalSweep } from '../sweep/local.js';
import { planJobs, storeSprites, type EvalSettings, type JobSpec } from '../sweep/plan.js';
import { runRemoteSweep } from '../sweep/remote.js';
import { formatStatus, readStatus } from '../sweep/status.js';
import { DirectoryStore, type SweepStore } from '../sweep/store.js';
import { buildIndex, writeIndex, type PendingState } from '../sweep/sweep-index.js';
import { FLAGS as TRAIN_FLAGS, type Values as TrainValues } from './train.js';
import { integerFlag, queueAddress, QUEUE_FLAGS, reportFailure, secondsFlag, stopOnSignals } from './queue-flags.js';

const HELP = `usage: nca sweep <sprite>... --task growth|persistence|healing [options]
       nca sweep status --queue redis://host:port [--queue-name NAME] [--json]

One training job per sprite and --grid-search combination, each trained, exported and scored
like nca train + nca eval. Re-running the same sweep skips finished jobs and resumes the
interrupted one from its last checkpoint.

sweep options
  --out <dir>              models, their eval scores and index.json / index.md (default models)
  --store <dir>            checkpoints, summaries and results of every job (default runs/sweep;
                           with --queue: required, a folder every worker sees)
  --grid-search <spec>     key=v1,v2 over an nca train flag (repeat for more keys), or a JSON
                           file {"lr": [0.001, 0.002], "seed": [1, 2]}
  --eval-steps <n>         nca eval --steps (default: the task's)
  --eval-heal-steps <n>    nca eval --heal-steps (default 200)
  --eval-long <n>          nca eval --long (default 1000)
  --queue <url>            redis://host:port: enqueue for nca worker instead of running here
  --queue-name <name>      BullMQ queue (default nca-sweep)
  --attempts <n>           with --queue: tries per job when it throws (default 3); a job's own
                           failure (bad sprite, divergence) is final at once
  --detach                 with --queue: return once enqueued (see nca sweep status)
  --poll-seconds <s>       with --queue: how often to look at the queue while waiting (default 2)
  --json                   print the index (or the status) as JSON on stdout
  -h, --help               this text

Every nca train flag but --target, --name, --run-dir and --resume applies to every job (see
nca train --help); --threads is not part of a job's identity.
`;

const { target: _target, name: _name, 'run-dir': _runDir, resume: _resume, out: _out, json: _json, help: _help, ...SHARED_TRAIN_FLAGS } = TRAIN_FLAGS;

const FLAGS = {
  ...SHARED_TRAIN_FLAGS,
  ...QUEUE_FLAGS,
  out: { type: 'string' },
  'grid-search': { type: 'string', multiple: true },
  'eval-steps': { type: 'string' },
  'eval-heal-steps': { type: 'string' },
  'eval-long': { type: 'string' },
  attempts: { type: 'string' },
  detach: { type: 'boolean' },
  'poll-seconds': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

type Values = ReturnType<typeof parseArgs<{ options: typeof FLAGS; strict: true; allowPositionals: true }>>['values'];

function bad(message: string): SweepError {
  return new SweepError('bad-option', message);
}

function evalSettings(values: Values): EvalSettings {
  const settings: { -readonly [K in keyof EvalSettings]: EvalSettings[K] } = {};
  if (values['eval-steps'] !== undefined) settings.steps = integerFlag(values, 'eval-steps', 0, 1);
  if (values['eval-heal-steps'] !== undefined) settings.healSteps = integerFlag(values, 'eval-heal-steps', 0, 0);
  if (values['eval-long'] !== undefined) settings.longSteps = integerFlag(values, 'eval-long', 0, 0);
  if (settings.longSteps !== undefined && settings.longSteps > 0 && settings.steps !== undefined && settings.longSteps < settings.steps) {
    throw bad(`--eval-long ${settings.longSteps} is shorter than --eval-steps ${settings.steps} (0 skips the long run)`);
  }
  return settings;
}

function trainValues(values: Values): TrainValues {
  return Object.fromEntries(Object.entries(values).filter(([key]) => Object.hasOwn(SHARED_TRAIN_FLAGS, key))) as TrainValues;
}

function worker(): string {
  return `local-${process.pid}`;
}

async function plan(positionals: readonly string[], values: Values, store: SweepStore): Promise<JobSpec[]> {
  if (positionals.length === 0) throw bad('no sprites given: nca sweep sprites/*.png --task healing');
  if (values.task === undefined) throw bad('--task is required: growth, persistence or healing');
  const combinations = await parseGridSearch(values['grid-search'] ?? [], TRAIN_FLAGS);
  const settings = evalSettings(values);
  // NOTE: options first (no file is touched for a bad flag), then the sprites are copied in.
  planJobs([{ path: positionals[0]!, sha256: '', key: '' }], trainValues(values), combinations, settings);
  return planJobs(await storeSprites(positionals, store), trainValues(values), combinations, settings);
}

async function sweep(positionals: readonly string[], values: Values, signal: AbortSignal): Promise<number> {
  const say = (line: string): void => void process.stderr.write(`nca sweep: ${line}\n`);
  const address = queueAddress(values);
  if (address && values.store === undefined) throw bad('--queue needs --store: a folder every worker sees (a shared volume)');
  const store = new DirectoryStore(values.store ?? 'runs/sweep');
  const out = values.out ?? 'models';
  const specs = await plan(positionals, values, store);
  let pending: PendingState = () => ({ state: 'not run' });
  let finished = true;
  let failedToRun = 0;
  if (address) {
    const attempts = integerFlag(values, 'attempts', 3, 1, 100);
    const pollMs = secondsFlag(values, 'poll-seconds', 2);
    const report = await runRemoteSweep(specs, store, address, { attempts, detach: values.detach === true, pollMs, signal, say });
    pending = report.pending;
    finished = report.finished;
    if (values.detach) {
      say(`detached; follow with: nca sweep status --queue ${address.url.replace(/\/\/[^@/]*@/, '//')}`);
      if (values.json) console.log(JSON.stringify({ jobs: specs.length, enqueued: report.added.length, existing: report.existing.size }));
      return 0;
    }
  } else {
    if (values.detach) throw bad('--detach needs --queue');
    const threads = values.threads === undefined ? undefined : integerFlag(values, 'threads', 1, 1, 256);
    const report = await runLocalSweep(specs, store, { worker: worker(), signal, say, ...(threads !== undefined ? { threads } : {}) });
    finished = !report.interrupted;
    failedToRun = report.errors.size;
    pending = (spec) => ({ state: report.errors.has(spec.id) ? 'error' : 'not run', ...(report.errors.has(spec.id) ? { reason: report.errors.get(spec.id)! } : {}) });
  }
  const index = await buildIndex(specs, store, out, pending);
  const paths = await writeIndex(out, index);
  say(`index: ${paths.markdown}, ${paths.json}`);
  if (values.json) console.log(JSON.stringify(index, null, 2));
  if (!finished) return 130;
  const failed = index.jobs.filter((job) => job.state !== 'completed').length;
  if (failed > 0) say(`${failed} of ${specs.length} jobs did not complete (see the index)`);
  return failed > 0 || failedToRun > 0 ? 1 : 0;
}

async function status(values: Values): Promise<number> {
  const address = queueAddress(values);
  if (!address) throw bad('nca sweep status needs --queue redis://host:port');
  const report = await readStatus(address);
  console.log(values.json ? JSON.stringify(report, null, 2) : formatStatus(report));
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: true });
  } catch (error) {
    console.error(`nca sweep: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const stop = stopOnSignals('sweep', 'stopping after this iteration, checkpoint written');
  try {
    return positionals[0] === 'status' ? await status(values) : await sweep(positionals, values, stop.signal);
  } catch (error) {
    if (reportFailure('sweep', error, values.json === true)) return 2;
    throw error;
  } finally {
    stop.release();
  }
}
