/**
 * The training fire mask: a counter-based hash of (iteration seed, step, element), so the fused
 * kernel draws it in place (no per-element JS random draws, no upload), a batch split over
 * workers draws exactly the masks of one engine, and the tfjs path (the oracle) can draw the very
 * same masks. Mirrors `mix`/`fires` in assembly/kernel.ts; a test holds the two together.
 */

/** Chris Wellons' lowbias32 integer hash. */
export function mix(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** The key of step `step` of the rollout seeded by `seed` (a uint32 drawn once per iteration). */
export function stepKey(seed: number, step: number): number {
  return mix((seed + Math.imul(step, 0x9e3779b9)) >>> 0);
}

/** The 24-bit comparison bound of a fire rate: an element fires when (hash >> 8) < bound. */
export function fireBound(rate: number): number {
  return Math.round(Math.min(1, Math.max(0, rate)) * 2 ** 24);
}

/**
 * The fire mask of one step as 0/1 values, [cells, depth] (depth 1: per-cell masks, index =
 * cell; else per element, index = cell * depth + channel), cells counted from `cellOffset`.
 */
export function fireMaskValues(seed: number, step: number, cellOffset: number, cells: number, depth: number, rate: number): Float32Array {
  const key = stepKey(seed, step);
  const bound = fireBound(rate);
  const out = new Float32Array(cells * depth);
  const first = cellOffset * depth;
  for (let i = 0; i < out.length; i++) out[i] = mix(((first + i) ^ key) >>> 0) >>> 8 < bound ? 1 : 0;
  return out;
}
