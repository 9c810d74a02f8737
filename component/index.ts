/**
 * `nca-canvas`: the `<nca-canvas>` custom element. Importing the package registers it.
 *
 * ```html
 * <script type="module" src="https://unpkg.com/nca-canvas/dist/nca-canvas.js"></script>
 * <nca-canvas src="lizard.nca" pixelated>A lizard that grows back when you scratch it.</nca-canvas>
 * ```
 */
export { NcaCanvas, TAG_NAME } from './nca-canvas.js';
export { RELEASE_DELAY_MS } from './engine-controller.js';
export type { NcaStatus } from './element-state.js';
export {
  NcaBackendEvent,
  NcaErrorEvent,
  NcaLoadError,
  NcaLoadEvent,
  NcaStateError,
  NcaStepEvent,
  type NcaBackendDetail,
  type NcaErrorDetail,
  type NcaErrorType,
  type NcaLoadDetail,
  type NcaStepDetail,
} from './events.js';
export { BASE_STEPS_PER_SECOND, type Interaction } from './attributes.js';
export { DEFAULT_LOAD_TIMEOUT_MS, DEFAULT_MAX_BYTES, NcaTimeoutError, NcaTooLargeError } from './fetch-limits.js';
export { MAX_START_IMAGE_PIXELS } from './start-image.js';
