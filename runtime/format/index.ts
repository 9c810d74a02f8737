/**
 * `nca-canvas/format`: the `.nca` model file (docs/format.md). Browser-safe, no dependencies.
 *
 * ```ts
 * import { decodeModel, encodeModel, isNcaFormatError } from 'nca-canvas/format';
 * const model = decodeModel(new Uint8Array(await (await fetch('lizard.nca')).arrayBuffer()));
 * ```
 */
export type * from './types.js';
export { decodeModel } from './decode.js';
export { encodeModel, type EncodeOptions } from './encode.js';
export { NCA_FORMAT_ERROR_CODES, NcaFormatError, isNcaFormatError, type NcaFormatErrorCode } from './errors.js';
export { validateModel } from './validate.js';
export { countParameters } from './parameters.js';
export { crc32 } from './crc32.js';
export {
  DEFAULT_TARGET_SIZE,
  TARGET_PADDING,
  createArchitecture,
  createModel,
  distillKernels,
  essayKernels,
  type ArchitectureOptions,
  type NcaRule,
} from './presets.js';
export {
  FORMAT_VERSION,
  MAX_ATTRIBUTION_BYTES,
  MAX_CHANNELS,
  MAX_GRID_SIDE,
  MAX_IMAGE_SIDE,
  MAX_KERNELS,
  MAX_LAYERS,
  MAX_LAYER_WIDTH,
  MAX_NAME_BYTES,
  MAX_PARAMETERS,
} from './constants.js';
