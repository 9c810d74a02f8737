/**
 * Registers `<nca-canvas>`. Importing this module defines the element once; a second copy of the
 * package on the same page (two bundles) leaves the first definition in place instead of throwing.
 */
import { NcaCanvas } from './nca-canvas.component.js';
import type { NcaBackendEvent, NcaErrorEvent, NcaLoadEvent, NcaStepEvent } from './events.js';

export const TAG_NAME = 'nca-canvas';

// NOTE: the literal tag (not TAG_NAME) so the custom-elements manifest analyzer can read it.
if (typeof customElements !== 'undefined' && customElements.get('nca-canvas') === undefined) {
  customElements.define('nca-canvas', NcaCanvas);
}

export { NcaCanvas };

declare global {
  interface HTMLElementTagNameMap {
    'nca-canvas': NcaCanvas;
  }
  interface HTMLElementEventMap {
    'nca-load': NcaLoadEvent;
    'nca-error': NcaErrorEvent;
    'nca-backend': NcaBackendEvent;
    'nca-step': NcaStepEvent;
  }
}
