/**
 * What `nca sweep` and `nca worker` refuse on purpose, before any job runs. A job's own failure
 * (a bad sprite, a divergence) is not one of these: it is recorded as the job's result.
 */
export type SweepErrorCode =
  /** A sprite given on the command line cannot be read. */
  | 'sprite-missing'
  /** `--grid-search` is neither `key=v1,v2` nor a readable JSON object of arrays. */
  | 'bad-grid-search'
  /** `--queue` is not a redis:// or rediss:// URL. */
  | 'bad-queue-url'
  /** Redis does not answer at `--queue`. */
  | 'queue-unreachable'
  /** A store key that would leave the store folder, or a store that cannot be written. */
  | 'bad-store'
  /** A sweep flag has a bad value or is missing. */
  | 'bad-option';

export class SweepError extends Error {
  readonly code: SweepErrorCode;

  constructor(code: SweepErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SweepError';
    this.code = code;
  }
}
