import type { NcaModel } from '../format/types.js';
import { stateFromImage } from './image.js';
import { seedState } from './seed.js';
import type { CaState } from './state.js';

/**
 * The state a model starts from, W x H cells (default: the model's suggested grid): one seed
 * cell in the centre, or the embedded STRT image (premultiplied RGBA8, values / 255) centred as
 * in `stateFromImage`.
 */
export function startState(model: NcaModel, width?: number, height?: number): CaState {
  const { architecture, metadata } = model;
  const w = width ?? metadata.gridWidth;
  const h = height ?? metadata.gridHeight;
  const start = metadata.start;
  if (start.kind === 'seed') return seedState(architecture, w, h);
  return stateFromImage(architecture, w, h, start.rgba, start.width, start.height, { premultiplied: true });
}
