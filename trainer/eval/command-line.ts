/**
 * What `nca eval` and `nca render` share on the command line: strict number parsing, one line per
 * input error, and a progress line on stderr (the reference step is slow enough to need one).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isNcaFormatError } from '../../runtime/format/index.js';
import { InputError } from './inputs.js';

/** Thrown for a bad flag value; the command prints it with its usage and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A decimal integer in min..max (no sign, no exponent, no fraction). */
export function parseInteger(flag: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be an integer in ${min}..${max}, got '${text}'`);
  }
  return value;
}

export { MAX_SEED } from '../../runtime/reference/index.js';

type Flags = NonNullable<ParseArgsConfig['options']>;
type ParsedFlags<O extends Flags> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>['values'];

/**
 * Parses `nca <command> <model.nca> [flags]` strictly. Returns the flags and the one model path,
 * or the exit code to return at once: 0 after printing the usage for --help, 2 after printing
 * what is wrong with the command line.
 */
export function parseModelCommand<O extends Flags>(
  command: string,
  usage: string,
  argv: string[],
  options: O,
): { values: ParsedFlags<O>; path: string } | number {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    console.error(`nca ${command}: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if ((values as Readonly<Record<string, unknown>>)['help'] === true) {
    console.log(usage);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(`nca ${command}: expected one model file, got ${positionals.length}\n\n${usage}`);
    return 2;
  }
  return { values, path: positionals[0] as string };
}

/**
 * Prints an input failure as one line (`error [code]: message` for a model the decoder rejects)
 * and returns true, or returns false for anything else (a bug, to be rethrown).
 */
export function printInputError(command: string, error: unknown): boolean {
  if (isNcaFormatError(error)) {
    console.error(`nca ${command}: error [${error.code}]: ${error.message}`);
    return true;
  }
  if (error instanceof InputError) {
    console.error(`nca ${command}: error [${error.code}]: ${error.message}`);
    return true;
  }
  if (error instanceof UsageError) {
    console.error(`nca ${command}: ${error.message}`);
    return true;
  }
  return false;
}

/**
 * Progress on stderr: on a terminal one line rewritten in place (at most every 200 ms); otherwise
 * (a log, CI) a line when a phase ends and every `logEvery` steps, so logs stay short.
 */
export class ProgressLine {
  private readonly stream = process.stderr;
  private readonly startedAt = performance.now();
  private lastDraw = 0;
  private stepsDone = 0;
  private lastDone = 0;
  private lastPhase = '';
  private drawn = false;

  constructor(
    private readonly command: string,
    private readonly enabled: boolean,
    private readonly logEvery = 250,
  ) {}

  update(phase: string, done: number, total: number): void {
    if (phase !== this.lastPhase) this.lastDone = 0;
    this.stepsDone += done - this.lastDone;
    this.lastDone = done;
    this.lastPhase = phase;
    if (!this.enabled) return;
    const elapsed = performance.now() - this.startedAt;
    const perStep = this.stepsDone > 0 ? elapsed / this.stepsDone : 0;
    const text = `nca ${this.command}: ${phase} ${done}/${total} steps, ${perStep.toFixed(0)} ms/step, ${(elapsed / 1000).toFixed(0)} s so far`;
    if (this.stream.isTTY) {
      if (done < total && performance.now() - this.lastDraw < 200) return;
      this.lastDraw = performance.now();
      this.stream.write(`\r${text}\x1b[K`);
      this.drawn = true;
    } else if (done === total || done % this.logEvery === 0) {
      this.stream.write(`${text}\n`);
    }
  }

  /** Ends the rewritten line so the report starts on a fresh one. */
  finish(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
