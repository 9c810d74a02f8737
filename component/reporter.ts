/**
 * Events and console warnings of one element. A removed element fires nothing (RELIABILITY 12);
 * an `nca-error` whose listener calls `preventDefault()` is not warned about either.
 */
import { LoadFailure } from './model-loader.js';
import { NcaErrorEvent, type NcaErrorType } from './events.js';

export class Reporter {
  /** Keys already warned about: a state that dies again, a start image the model lacks. */
  private readonly warned = new Set<string>();

  constructor(private readonly host: HTMLElement) {}

  /** Dispatches unless removed from the document; says whether it did. */
  emit(event: Event): boolean {
    if (!this.host.isConnected) return false;
    this.host.dispatchEvent(event);
    return true;
  }

  /** An `nca-error`, and a console warning unless prevented or (with `onceKey`) warned before. */
  report(type: NcaErrorType, cause: unknown, onceKey?: string): void {
    const quiet = onceKey !== undefined && this.warned.has(onceKey);
    if (onceKey !== undefined) this.warned.add(onceKey);
    const event = new NcaErrorEvent({ type, cause });
    const delivered = this.emit(event);
    if (delivered && !event.defaultPrevented && !quiet) {
      console.warn(`<nca-canvas> ${type} error:`, cause, this.host);
    }
  }

  /** A failed load stage: its tagged type and original cause, or a plain `load` error. */
  reportFailure(error: unknown): void {
    if (error instanceof LoadFailure) this.report(error.type, error.cause);
    else this.report('load', error);
  }

  warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    console.warn(message, this.host);
  }
}
