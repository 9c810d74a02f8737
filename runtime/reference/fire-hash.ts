/**
 * NCA-Hash-4091, the fire mask of docs/format.md ("The fire mask"). Everything here is integer
 * arithmetic on values below 2^24, so a float32 GPU kernel computing `t - P*floor(t/P)` plus one
 * correction gets exactly the same bits as this code.
 */

/** The hash's modulus: prime, and P mod 3 = 2, so cubing is a bijection mod P. */
export const FIRE_HASH_PRIME = 4091;

const P = FIRE_HASH_PRIME;
/** Seeds are uint32: the fire key absorbs three base-P digits of one. */
export const MAX_SEED = 0xffff_ffff;

/** `t mod P` for an integer t >= 0. */
function mod(t: number): number {
  return t % P;
}

/** One absorption round: cube (a bijection mod P) then an affine map, all below 2^24. */
function mix(v: number, k: number, a: number, b: number): number {
  const t = mod(v + k);
  const u = mod(mod(t * t) * t);
  return mod(a * u + b);
}

function assertNonNegativeInteger(name: string, value: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer in 0..${max}, got ${value}`);
  }
}

/**
 * The per-step key (0..P-1) that absorbs the seed (a uint32) and the step index n, both in three
 * base-P digits. Steps n and n + P^3 (about 6.8e10 steps apart) share a key.
 * @throws RangeError if seed is not a uint32 or step is not a non-negative safe integer.
 */
export function fireKey(seed: number, step: number): number {
  assertNonNegativeInteger('seed', seed, MAX_SEED);
  assertNonNegativeInteger('step', step);
  let v = 0;
  v = mix(v, mod(seed), 1597, 31);
  v = mix(v, mod(Math.floor(seed / P)), 2663, 1013);
  v = mix(v, mod(Math.floor(seed / (P * P))), 3571, 577);
  v = mix(v, mod(step), 997, 2111);
  v = mix(v, mod(Math.floor(step / P)), 1597, 31);
  v = mix(v, mod(Math.floor(step / (P * P))), 2663, 1013);
  return v;
}

/**
 * The hash of element (x, y, c) under a step's key, in 0..P-1. Cell coordinates count from the
 * top-left, 0-based; per-cell masks pass c = 0.
 */
export function fireHash(key: number, x: number, y: number, c: number): number {
  assertNonNegativeInteger('key', key, P - 1);
  assertNonNegativeInteger('x', x);
  assertNonNegativeInteger('y', y);
  assertNonNegativeInteger('c', c);
  let u = mix(key, x, 1597, 31);
  u = mix(u, y, 2663, 1013);
  u = mix(u, c, 3571, 577);
  return mix(u, 0, 997, 2111);
}

/**
 * The integer threshold T = round(rate * P) for a fire rate in [0, 1]: 0 never fires, P always
 * does, otherwise the rate is T/P (0.5 -> 2046, i.e. 0.50012). `Math.round` rounds halves up.
 * @throws RangeError for a rate outside [0, 1] or NaN.
 */
export function fireThreshold(rate: number): number {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`fire rate must be in [0, 1], got ${rate}`);
  return Math.round(rate * P);
}

/** Whether element (x, y, c) updates this step: `fireHash(key, x, y, c) < threshold`. */
export function fires(key: number, threshold: number, x: number, y: number, c: number): boolean {
  return fireHash(key, x, y, c) < threshold;
}
