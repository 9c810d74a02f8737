/**
 * Every way a `.nca` file can be rejected, as in the table of docs/format.md. The code is stable
 * and machine-readable; the message names the chunk and field (`LAYR[1].weights[37] is NaN`).
 */
export const NCA_FORMAT_ERROR_CODES = [
  'too-small',
  'bad-magic',
  'unsupported-version',
  'bad-flags',
  'length-mismatch',
  'bad-checksum',
  'truncated-chunk',
  'missing-chunk',
  'unexpected-chunk',
  'chunk-size',
  'bad-enum',
  'bad-dimension',
  'too-large',
  'shape-mismatch',
  'bad-value',
  'bad-string',
] as const;

export type NcaFormatErrorCode = (typeof NCA_FORMAT_ERROR_CODES)[number];

/**
 * Thrown by `decodeModel` for any file it will not load, and by `encodeModel` for a model it will
 * not write. A decoder never throws anything else for bytes it is given.
 */
export class NcaFormatError extends Error {
  readonly code: NcaFormatErrorCode;

  constructor(code: NcaFormatErrorCode, message: string) {
    super(message);
    this.name = 'NcaFormatError';
    this.code = code;
  }
}

/** True for an `NcaFormatError`, also one from another copy of this module (bundles, realms). */
export function isNcaFormatError(value: unknown): value is NcaFormatError {
  if (value instanceof NcaFormatError) return true;
  if (!(value instanceof Error) || value.name !== 'NcaFormatError') return false;
  const code = (value as { code?: unknown }).code;
  return typeof code === 'string' && (NCA_FORMAT_ERROR_CODES as readonly string[]).includes(code);
}
