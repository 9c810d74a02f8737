import type { SkippedBackend } from './types.js';

export const NCA_ENGINE_ERROR_CODES = [
  /** No backend could run the model; `skipped` says why for each one tried. */
  'no-backend',
  /** An option is out of range (grid size, seed, fire rate, rotation, backend name). */
  'bad-option',
  /** The engine was disposed; nothing can run on it any more. */
  'disposed',
  /** The GL context is lost; the engine waits for it to come back. */
  'paused',
  /** The grid and model need more memory than the engine's budget (budget.ts) allows. */
  'too-large',
] as const;

export type NcaEngineErrorCode = (typeof NCA_ENGINE_ERROR_CODES)[number];

/** Thrown (or rejected with) by `createEngine` and by engine methods. */
export class NcaEngineError extends Error {
  readonly code: NcaEngineErrorCode;
  /** For `no-backend`: every backend tried, with the reason it was not used. */
  readonly skipped: readonly SkippedBackend[];

  constructor(code: NcaEngineErrorCode, message: string, skipped: readonly SkippedBackend[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NcaEngineError';
    this.code = code;
    this.skipped = skipped;
  }
}

/** True for an `NcaEngineError`, also one from another copy of this module (bundles, realms). */
export function isNcaEngineError(value: unknown): value is NcaEngineError {
  return value instanceof NcaEngineError || (value instanceof Error && value.name === 'NcaEngineError' && 'code' in value);
}

/** A readable one-line reason from anything thrown (never "[object Object]"). */
export function reasonOf(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}
