/**
 * Events `<nca-canvas>` dispatches, each a typed CustomEvent subclass (declared in
 * `HTMLElementEventMap` in nca-canvas.ts so `addEventListener('nca-load', e => ...)` is typed).
 *
 * NOTE: all four bubble and are composed. A page with twenty sprites can listen once on
 * `document` (delegation), and an app that wraps the element in its own shadow tree still hears
 * them on its host (retargeted, so no internals leak: the target is the element or its wrapper).
 * None is cancelable except `nca-error`, whose default action is the console warning.
 */
import type { BackendName, BackendSelection, SkippedBackend } from '../runtime/index.js';

const FLAGS = { bubbles: true, composed: true } as const;

export interface NcaLoadDetail {
  /** The resolved URL of the model that is now showing. */
  readonly src: string;
  /** The model's name from its metadata. */
  readonly name: string;
  readonly backend: BackendName;
  readonly width: number;
  readonly height: number;
}

/** The first frame of a model is drawn (after `nca-backend`). */
export class NcaLoadEvent extends CustomEvent<NcaLoadDetail> {
  static readonly eventName = 'nca-load';
  constructor(detail: NcaLoadDetail) {
    super(NcaLoadEvent.eventName, { ...FLAGS, detail });
  }
}

/**
 * - `load`: the model or start image could not be fetched (HTTP status, network, CORS, a
 *   connection cut mid-body). `cause` is the fetch error or an `NcaLoadError` with `status`.
 * - `format`: bytes arrived but are not a valid model or image (`cause` is an `NcaFormatError`
 *   with `code`, e.g. `bad-magic` for an HTML page, `length-mismatch` for a truncated file).
 * - `too-large`: the download is over `max-bytes` (declared or counted), a start image declares
 *   more pixels than the element decodes, or the grid and model are over the engine's memory
 *   budget (`cause`: an `NcaTooLargeError`, or an `NcaEngineError` with code `too-large`).
 * - `timeout`: the download took longer than `load-timeout` (`cause` is an `NcaTimeoutError`).
 * - `backend`: no backend could run the model (`cause` is the engine's error).
 * - `context-lost`: the GPU context was lost; the element paused and resumes on restore.
 * - `state`: the state died out or turned NaN (`cause.problem` is `'dead'` or `'nan'`).
 */
export type NcaErrorType = 'load' | 'format' | 'too-large' | 'timeout' | 'backend' | 'context-lost' | 'state';

export interface NcaErrorDetail {
  readonly type: NcaErrorType;
  readonly cause: unknown;
}

/**
 * Something went wrong; the element shows its fallback content (for `load`, `format`,
 * `too-large`, `timeout`, `backend`; a start image that fails leaves the model's own start running)
 * or pauses (`context-lost`). Cancel it (`preventDefault()`) to silence the console warning.
 */
export class NcaErrorEvent extends CustomEvent<NcaErrorDetail> {
  static readonly eventName = 'nca-error';
  constructor(detail: NcaErrorDetail) {
    super(NcaErrorEvent.eventName, { ...FLAGS, cancelable: true, detail });
  }
}

export interface NcaBackendDetail {
  readonly chosen: BackendName;
  /** Backends tried or ruled out before `chosen`, with reasons, in order. */
  readonly skipped: readonly SkippedBackend[];
  readonly renderer?: string;
}

/** The engine picked a backend (fired on every engine creation, before `nca-load`). */
export class NcaBackendEvent extends CustomEvent<NcaBackendDetail> {
  static readonly eventName = 'nca-backend';
  constructor(selection: BackendSelection) {
    const detail: NcaBackendDetail =
      selection.renderer === undefined
        ? { chosen: selection.chosen, skipped: selection.skipped }
        : { chosen: selection.chosen, skipped: selection.skipped, renderer: selection.renderer };
    super(NcaBackendEvent.eventName, { ...FLAGS, detail });
  }
}

export interface NcaStepDetail {
  /** Steps since the last reset. */
  readonly stepCount: number;
  /** Measured steps per second over the last half second. */
  readonly stepsPerSecond: number;
}

/** Progress while animating, at most every `NcaStepEvent.interval` ms (4 per second). */
export class NcaStepEvent extends CustomEvent<NcaStepDetail> {
  static readonly eventName = 'nca-step';
  static readonly interval = 250;
  constructor(detail: NcaStepDetail) {
    super(NcaStepEvent.eventName, { ...FLAGS, detail });
  }
}

/** A model or image fetch that got an HTTP error status. */
export class NcaLoadError extends Error {
  readonly url: string;
  readonly status: number;
  constructor(url: string, status: number, statusText: string) {
    super(`GET ${url} failed: HTTP ${status}${statusText ? ` ${statusText}` : ''}`);
    this.name = 'NcaLoadError';
    this.url = url;
    this.status = status;
  }
}

/** The state died out or turned NaN (the `cause` of an `nca-error` of type `state`). */
export class NcaStateError extends Error {
  readonly problem: 'dead' | 'nan';
  readonly stepCount: number;
  constructor(problem: 'dead' | 'nan', stepCount: number) {
    super(problem === 'dead' ? `every cell died by step ${stepCount}` : `the state turned NaN/infinite by step ${stepCount}`);
    this.name = 'NcaStateError';
    this.problem = problem;
    this.stepCount = stepCount;
  }
}
