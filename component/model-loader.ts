/**
 * Loading as a Lit reactive controller, in the manner of `@lit/task`: an `AbortSignal` per run
 * and a latest-run guard so a stale result never lands.
 *
 * NOTE: some work cannot be aborted midway (`createEngine` takes no signal). When such a run
 * finishes after it was superseded, its value is handed to `discard` (the element disposes the
 * stale engine there) instead of being dropped on the floor with GPU memory attached.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { isNcaEngineError } from '../runtime/index.js';
import type { NcaErrorType } from './events.js';
import { NcaTimeoutError, NcaTooLargeError } from './fetch-limits.js';

export interface LoadOptions<A, R> {
  /** The work. Should honour `signal`; may resolve after an abort (see `discard`). */
  readonly task: (args: A, signal: AbortSignal) => Promise<R>;
  /** The latest run succeeded (not called for superseded or aborted runs). */
  readonly onComplete?: (value: R, args: A) => void;
  /** The latest run failed (not called for superseded or aborted runs). */
  readonly onError?: (error: unknown, args: A) => void;
  /** A superseded or aborted run produced a value anyway: release it. */
  readonly discard?: (value: R) => void;
}

/**
 * NOTE: the controller keeps no status or value of its own: the owner hands each outcome on at
 * once (the element's status is the engine controller's), so a copy here would only go stale.
 */
export class LoadController<A, R> implements ReactiveController {
  private run = 0;
  private controller: AbortController | undefined;

  constructor(
    host: ReactiveControllerHost,
    private readonly options: LoadOptions<A, R>,
  ) {
    host.addController(this);
  }

  /** Starts a run, aborting any run in flight; only this run's outcome will be reported. */
  start(args: A): Promise<void> {
    this.abort();
    const id = this.run;
    const controller = new AbortController();
    this.controller = controller;
    const stale = (): boolean => id !== this.run || controller.signal.aborted;
    return this.options.task(args, controller.signal).then(
      (value) => {
        if (stale()) {
          this.options.discard?.(value);
          return;
        }
        this.controller = undefined;
        this.options.onComplete?.(value, args);
      },
      (error: unknown) => {
        if (stale()) return;
        this.controller = undefined;
        this.options.onError?.(error, args);
      },
    );
  }

  /** Aborts the run in flight (if any); nothing from it will be reported. */
  abort(): void {
    this.controller?.abort(new DOMException('superseded', 'AbortError'));
    this.controller = undefined;
    this.run++;
  }

  hostDisconnected(): void {
    // NOTE: a removed element must fire nothing (RELIABILITY 12); a re-inserted one restarts
    // the load from connectedCallback if it still needs it.
    this.abort();
  }
}

/**
 * A failed load stage, tagged with the `nca-error` type it reports as; `cause` is the original
 * error (fetch's, `NcaFormatError`, the engine's).
 */
export class LoadFailure extends Error {
  readonly type: NcaErrorType;
  constructor(type: NcaErrorType, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'LoadFailure';
    this.type = type;
  }
}

/**
 * Runs one load stage, tagging whatever it throws (except an abort) with `type`, or with the type
 * of a limit it hit: over a byte, pixel or engine budget is `too-large`, a deadline `timeout`.
 */
export async function stage<T>(type: NcaErrorType, work: () => Promise<T> | T): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof LoadFailure || isAbort(error)) throw error;
    throw new LoadFailure(limitType(error) ?? type, error);
  }
}

function limitType(error: unknown): NcaErrorType | undefined {
  if (error instanceof NcaTooLargeError || (isNcaEngineError(error) && error.code === 'too-large')) return 'too-large';
  if (error instanceof NcaTimeoutError) return 'timeout';
  return undefined;
}

export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}
