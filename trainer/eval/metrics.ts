/**
 * What eval measures on a state: PSNR of premultiplied RGBA against a target, the target's box,
 * and whether a run is healthy (finite, alive, not spilling over its world).
 */
import type { Architecture } from '../../runtime/format/types.js';
import { aliveThreshold32, hasNonFinite, isAllDead, type CaState } from '../../runtime/reference/index.js';

/**
 * PSNR of an exact match is infinite; it is reported as this many dB (MSE <= 1e-10), so JSON
 * stays numeric and "higher is better" still holds.
 */
export const PSNR_CAP_DB = 100;

/**
 * Premultiplied RGBA in [0, 1], 4 floats per cell, row-major: colour channels below alpha (R, G,
 * B when alpha is channel 3; a missing one reads 0) and alpha, each clamped to [0, 1]. NaN stays
 * NaN so a diverged state cannot score well.
 */
export function premultipliedRgba(state: CaState, arch: Architecture): Float32Array {
  const cells = state.width * state.height;
  const out = new Float32Array(cells * 4);
  const colours = Math.min(3, arch.alphaChannel);
  const clamp = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);
  for (let cell = 0; cell < cells; cell++) {
    const base = cell * state.channels;
    for (let c = 0; c < colours; c++) out[cell * 4 + c] = clamp(state.data[base + c]!);
    out[cell * 4 + 3] = clamp(state.data[base + arch.alphaChannel]!);
  }
  return out;
}

/**
 * Peak signal-to-noise ratio in dB of `actual` against `expected` (same length, values in [0,
 * 1], peak 1): `10 log10(1 / MSE)` over every value of the grid (background included, as the
 * training loss is), capped at `PSNR_CAP_DB`. NaN if any value is NaN.
 */
export function psnr(actual: Float32Array, expected: Float32Array): number {
  if (actual.length !== expected.length || actual.length === 0) {
    throw new RangeError(`PSNR needs two images of the same size, got ${actual.length} and ${expected.length} values`);
  }
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = actual[i]! - expected[i]!;
    sum += d * d;
  }
  const mse = sum / actual.length;
  if (Number.isNaN(mse)) return Number.NaN;
  return Math.min(PSNR_CAP_DB, 10 * Math.log10(1 / mse));
}

/** A box of cells: columns x..x+width-1, rows y..y+height-1. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** The smallest box holding every cell whose alpha (value 3 of 4 per cell) is above 0; undefined if none. */
export function alphaBoundingBox(rgba: Float32Array, width: number, height: number): Box | undefined {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!(rgba[(y * width + x) * 4 + 3]! > 0)) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return x1 < 0 ? undefined : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/**
 * How far the box is grown before counting cells as "outside": 10% of the sprite's longer side,
 * at least 2 cells, so a faint living halo around the sprite is not overgrowth.
 */
export function overgrowthMargin(box: Box): number {
  return Math.max(2, Math.ceil(0.1 * Math.max(box.width, box.height)));
}

/** `box` grown by `margin` cells on every side, clipped to the grid. */
export function dilateBox(box: Box, margin: number, gridWidth: number, gridHeight: number): Box {
  const x = Math.max(0, box.x - margin);
  const y = Math.max(0, box.y - margin);
  const right = Math.min(gridWidth, box.x + box.width + margin);
  const bottom = Math.min(gridHeight, box.y + box.height + margin);
  return { x, y, width: right - x, height: bottom - y };
}

/**
 * The share of cells outside `box` that are alive (own alpha above the alive threshold, as
 * float32, whatever the alive mode), 0..1; 0 when the box covers the whole grid. A model that
 * fills its world (the essay's "Pikagoo") scores near 1.
 */
export function aliveOutside(state: CaState, arch: Architecture, box: Box): number {
  const threshold = aliveThreshold32(arch);
  let outside = 0;
  let alive = 0;
  for (let y = 0; y < state.height; y++) {
    for (let x = 0; x < state.width; x++) {
      if (x >= box.x && x < box.x + box.width && y >= box.y && y < box.y + box.height) continue;
      outside++;
      if (state.data[(y * state.width + x) * state.channels + arch.alphaChannel]! > threshold) alive++;
    }
  }
  return outside === 0 ? 0 : alive / outside;
}

/** ok, or the first thing wrong: a NaN/infinite value, no living cell, or too much life outside the box. */
export type Health = 'ok' | 'non-finite' | 'dead' | 'overgrown';

export function healthOf(state: CaState, arch: Architecture, outsideShare: number, maxOutside: number): Health {
  if (hasNonFinite(state)) return 'non-finite';
  if (isAllDead(state, arch)) return 'dead';
  if (outsideShare > maxOutside) return 'overgrown';
  return 'ok';
}
