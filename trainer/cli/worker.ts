/**
 * `nca worker --queue redis://host:port --store DIR`: takes sweep jobs from BullMQ one at a time
 * until stopped (SIGINT/SIGTERM: the running job writes a checkpoint and goes back to the queue)
 * or, with --until-empty, until the queue has nothing left. See docs/sweep.md.
 *
 * Exit codes: 0 stopped, 2 bad input or Redis unreachable.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SweepError } from '../sweep/errors.js';
import { runWorker } from '../sweep/queue.js';
import { DirectoryStore } from '../sweep/store.js';
import { integerFlag, queueAddress, QUEUE_FLAGS, reportFailure, secondsFlag, stopOnSignals } from './queue-flags.js';

const HELP = `usage: nca worker --queue redis://host:port --store <dir> [options]

Trains the jobs of nca sweep --queue, one at a time, until SIGINT/SIGTERM (the running job writes
a checkpoint and goes back to the queue for any worker to resume).

  --queue <url>            the sweep's Redis (required)
  --store <dir>            the sweep's store, the same folder as the sweep's (required)
  --queue-name <name>      BullMQ queue (default nca-sweep)
  --threads <n>            training threads on this machine (default: its CPU count)
  --lock-seconds <s>       BullMQ lockDuration: a dead worker's job waits this long before
                           another worker may take it (default 60)
  --stalled-seconds <s>    BullMQ stalledInterval: how often to look for such jobs (default 30)
  --max-stalled <n>        BullMQ maxStalledCount: times a job may lose its worker before it
                           fails (default 2)
  --until-empty            exit once no job is waiting, delayed or active (batch systems)
  -h, --help               this text
`;

const FLAGS = {
  ...QUEUE_FLAGS,
  threads: { type: 'string' },
  'lock-seconds': { type: 'string' },
  'stalled-seconds': { type: 'string' },
  'max-stalled': { type: 'string' },
  'until-empty': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    console.error(`nca worker: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const shutdown = stopOnSignals('worker', 'checkpointing the running job and putting it back in the queue');
  try {
    const address = queueAddress(values);
    if (!address) throw new SweepError('bad-option', '--queue redis://host:port is required');
    if (values.store === undefined) throw new SweepError('bad-option', '--store is required: the folder the sweep stores its jobs in');
    const lockMs = secondsFlag(values, 'lock-seconds', 60);
    const stalledMs = secondsFlag(values, 'stalled-seconds', 30);
    const maxStalled = integerFlag(values, 'max-stalled', 2, 0, 1000);
    const threads = values.threads === undefined ? undefined : integerFlag(values, 'threads', 1, 1, 256);
    await runWorker(address, new DirectoryStore(values.store), {
      lockMs,
      stalledMs,
      maxStalled,
      untilEmpty: values['until-empty'] === true,
      ...(threads !== undefined ? { threads } : {}),
      onEvent: (line) => process.stderr.write(`nca worker: ${line}\n`),
    }, shutdown.signal);
    return 0;
  } catch (error) {
    if (reportFailure('worker', error, false)) return 2;
    throw error;
  } finally {
    shutdown.release();
  }
}
