/**
 * Every failure the trainer reports on purpose. `code` is stable and machine-readable; the message
 * is for people and names the file, flag or field concerned.
 */
export type TrainerErrorCode =
  /** --target does not exist or cannot be read. */
  | 'target-missing'
  /** The target is not an image sharp can decode. */
  | 'target-not-image'
  /** The target decodes to zero width or height. */
  | 'target-empty'
  /** Every pixel of the target is transparent (or near-white without alpha). */
  | 'target-transparent'
  /** A flag has an unknown or out-of-range value (unknown task, rule, backend, size...). */
  | 'bad-option'
  /** The requested TensorFlow.js backend cannot be loaded. */
  | 'backend-unavailable'
  /** --resume but no readable checkpoint in the run folder. */
  | 'no-checkpoint'
  /** A checkpoint file is truncated, damaged or of another version. */
  | 'bad-checkpoint'
  /** --resume with another architecture, task or target than the checkpoint's. */
  | 'resume-mismatch';

export class TrainerError extends Error {
  readonly code: TrainerErrorCode;

  constructor(code: TrainerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrainerError';
    this.code = code;
  }
}
