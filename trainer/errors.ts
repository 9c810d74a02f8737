/**
 * Every failure the trainer reports on purpose. `code` is stable and machine-readable; the message
 * is for people and names the file, flag or field concerned.
 */
export type TrainerErrorCode =
  /** --target does not exist or cannot be read. */
  | 'target-missing'
  /** --target names a folder (or another thing that is not a file). */
  | 'target-not-file'
  /** The target is not an image sharp can decode. */
  | 'target-not-image'
  /** The target starts like a PNG, JPEG, GIF or WebP but its contents are damaged. */
  | 'target-corrupt'
  /** The target's width x height exceeds `MAX_TARGET_PIXELS` (checked before decoding). */
  | 'target-too-large'
  /** The target decodes to zero width or height. */
  | 'target-empty'
  /** No pixel of the target is opaque enough to live (transparent, fainter than the alive threshold, or near-white without alpha). */
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
  | 'resume-mismatch'
  /** `nca import`: the file is not JSON. */
  | 'import-not-json'
  /** `nca import`: the JSON is not a list of two layer objects with the expected fields. */
  | 'import-not-model'
  /** `nca import`: a layer's in_ch / out_ch differ from the architecture's (48 -> 128 -> 16). */
  | 'import-bad-shape'
  /** `nca import`: a layer's data_b64 is not valid base64. */
  | 'import-bad-base64'
  /** `nca import`: a layer's bytes are not (in_ch + 1) x out_ch. */
  | 'import-bad-length'
  /** `nca import`: a layer's type is not "uint8" (the only quantisation the published files use). */
  | 'import-bad-type'
  /** `nca import`: a weight or bias scale is missing, not finite, or negative. */
  | 'import-bad-scale'
  /** A training worker thread failed or stopped (the message says why). */
  | 'worker-failed';

export class TrainerError extends Error {
  readonly code: TrainerErrorCode;

  constructor(code: TrainerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrainerError';
    this.code = code;
  }
}
