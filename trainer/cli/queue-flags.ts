/** What `nca sweep` and `nca worker` share on the command line: the queue and store flags, and error printing. */
import type { ParseArgsConfig } from 'node:util';
import { TrainerError } from '../errors.js';
import { SweepError } from '../sweep/errors.js';

export const QUEUE_FLAGS = {
  queue: { type: 'string' },
  'queue-name': { type: 'string' },
  store: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** --queue and --queue-name, checked; undefined without --queue. */
export function queueAddress(values: { readonly queue?: string | undefined; readonly 'queue-name'?: string | undefined }): { url: string; name: string } | undefined {
  if (values.queue === undefined) return undefined;
  const url = values.queue.trim();
  if (!/^rediss?:\/\/[^/\s]+/.test(url)) throw new SweepError('bad-queue-url', `--queue expects redis://host:port (or rediss://), got ${JSON.stringify(values.queue)}`);
  const name = values['queue-name'] ?? 'nca-sweep';
  // BullMQ builds Redis keys as bull:<name>:...; a ':' in the name would blur them.
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new SweepError('bad-option', `--queue-name must be letters, digits, '.', '_' or '-', got ${JSON.stringify(name)}`);
  return { url, name };
}

/**
 * Prints an input failure as one line (`nca <command>: error [code]: message`, or a JSON object
 * with --json) and returns true; returns false for anything else (a bug, to be rethrown).
 */
export function reportFailure(command: string, error: unknown, json: boolean): boolean {
  if (!(error instanceof SweepError) && !(error instanceof TrainerError)) return false;
  if (json) process.stdout.write(`${JSON.stringify({ type: 'error', code: error.code, message: error.message })}\n`);
  else console.error(`nca ${command}: error [${error.code}]: ${error.message}`);
  return true;
}

/** A whole number in min..max from a flag, or `fallback` when the flag is absent. */
export function integerFlag(values: Readonly<Record<string, unknown>>, flag: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = values[flag];
  if (raw === undefined) return fallback;
  const value = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new SweepError('bad-option', `--${flag} must be an integer in ${min}..${max}, got ${JSON.stringify(raw)}`);
  return value;
}

/** A positive number of seconds from a flag, in milliseconds. */
export function secondsFlag(values: Readonly<Record<string, unknown>>, flag: string, fallback: number): number {
  const raw = values[flag];
  if (raw === undefined) return fallback * 1000;
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  if (!(value > 0 && value <= 86_400)) throw new SweepError('bad-option', `--${flag} must be a number of seconds in (0, 86400], got ${JSON.stringify(raw)}`);
  return Math.round(value * 1000);
}

/**
 * SIGINT/SIGTERM abort the returned signal (the running job then writes a checkpoint); a second
 * signal exits at once with 130. `release` removes the handlers.
 */
export function stopOnSignals(command: string, doing: string): { readonly signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
    process.stderr.write(`nca ${command}: ${signal}: ${doing} (again to quit at once)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    release() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
