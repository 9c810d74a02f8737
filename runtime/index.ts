/**
 * `nca-canvas/runtime`: run a `.nca` model in the page.
 *
 * ```ts
 * import { createEngine, decodeModel } from 'nca-canvas/runtime';
 * const model = decodeModel(new Uint8Array(await (await fetch('lizard.nca')).arrayBuffer()));
 * const engine = await createEngine(model); // backend: 'auto'
 * const frame = async () => { await engine.step(); engine.render(canvas); requestAnimationFrame(frame); };
 * requestAnimationFrame(frame);
 * ```
 *
 * Re-exports the format (`nca-canvas/format`) and the reference step (`nca-canvas/reference`)
 * so one import serves a page.
 */
export * from './engine/index.js';
export * from './format/index.js';
export * from './reference/index.js';
