import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FIRE_HASH_PRIME, fireHash, fireKey, fires, fireThreshold } from '../../runtime/reference/index.js';

const P = FIRE_HASH_PRIME;
const BP = BigInt(P);

/** An independent BigInt transcription of docs/format.md, "The fire mask: NCA-Hash-4091". */
function mixBig(v: bigint, k: bigint, a: bigint, b: bigint): bigint {
  const t = (v + k) % BP;
  const u = (((t * t) % BP) * t) % BP;
  return (a * u + b) % BP;
}
function keyBig(seed: number, step: number): number {
  const s = BigInt(seed);
  const n = BigInt(step);
  let v = 0n;
  v = mixBig(v, s % BP, 1597n, 31n);
  v = mixBig(v, (s / BP) % BP, 2663n, 1013n);
  v = mixBig(v, (s / (BP * BP)) % BP, 3571n, 577n);
  v = mixBig(v, n % BP, 997n, 2111n);
  v = mixBig(v, (n / BP) % BP, 1597n, 31n);
  v = mixBig(v, (n / (BP * BP)) % BP, 2663n, 1013n);
  return Number(v);
}
function hashBig(key: number, x: number, y: number, c: number): number {
  let u = mixBig(BigInt(key), BigInt(x), 1597n, 31n);
  u = mixBig(u, BigInt(y), 2663n, 1013n);
  u = mixBig(u, BigInt(c), 3571n, 577n);
  return Number(mixBig(u, 0n, 997n, 2111n));
}

/**
 * The GPU's way: float32 only (Math.fround after every operation), `mod` as
 * t - P*floor(t/P) with one correction. `reciprocal` multiplies by fround(1/P) instead of
 * dividing, as a shader compiler may.
 */
function modF32(t: number, reciprocal = false): number {
  const f = Math.fround;
  const quotient = reciprocal ? f(f(t) * f(1 / P)) : f(f(t) / P);
  let r = f(t - f(P * Math.floor(quotient)));
  if (r < 0) r = f(r + P);
  else if (r >= P) r = f(r - P);
  return r;
}
function mixF32(v: number, k: number, a: number, b: number, reciprocal = false): number {
  const f = Math.fround;
  const t = modF32(f(v + k), reciprocal);
  const u = modF32(f(modF32(f(t * t), reciprocal) * t), reciprocal);
  return modF32(f(f(a * u) + b), reciprocal);
}
function hashF32(key: number, x: number, y: number, c: number, reciprocal = false): number {
  let u = mixF32(key, x, 1597, 31, reciprocal);
  u = mixF32(u, y, 2663, 1013, reciprocal);
  u = mixF32(u, c, 3571, 577, reciprocal);
  return mixF32(u, 0, 997, 2111, reciprocal);
}

describe('NCA-Hash-4091 values', () => {
  it('matches values worked by hand', () => {
    // mix(0, 0, 1597, 31): t = 0, u = 0 -> 31.
    // mix(31, 0, 2663, 1013): t = 31, t^2 = 961, 961*31 = 29791 = 7*4091 + 1154,
    //   2663*1154 + 1013 = 3074115 = 751*4091 + 1774 -> 1774.
    // mix(1774, 0, 3571, 577): 1774^2 = 3147076 = 769*4091 + 1097, 1097*1774 = 1946078 =
    //   475*4091 + 2853, 3571*2853 + 577 = 10188640 = 2490*4091 + 2050 -> 2050.
    // mix(2050, 0, 997, 2111) -> 3472, then 1648 (1597, 31), then 3154 (2663, 1013).
    assert.equal(fireKey(0, 0), 3154);
    // fireHash(0, 0, 0, 0) runs the same first four rounds: 31, 1774, 2050, 3472.
    assert.equal(fireHash(0, 0, 0, 0), 3472);
    assert.equal(fireKey(1, 0), 3422);
    assert.equal(fireKey(0, 1), 905);
    assert.equal(fireKey(0xdeadbeef, 12345), 2312);
    assert.equal(fireKey(0xffffffff, P ** 3 - 1), 1697);
    assert.equal(fireHash(3154, 1, 2, 3), 3786);
    assert.equal(fireHash(4090, 1023, 1023, 63), 3370);
  });

  it('equals the BigInt transcription on random inputs', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.nat({ max: Number.MAX_SAFE_INTEGER }), (seed, step) => {
        assert.equal(fireKey(seed, step), keyBig(seed, step));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.nat({ max: P - 1 }), fc.nat({ max: 1023 }), fc.nat({ max: 1023 }), fc.nat({ max: 63 }), (key, x, y, c) => {
        assert.equal(fireHash(key, x, y, c), hashBig(key, x, y, c));
      }),
      { numRuns: 5000 },
    );
  });

  it('absorbs seed and step in three base-P digits', () => {
    assert.notEqual(fireKey(P * P, 0), fireKey(0, 0));
    assert.notEqual(fireKey(0, P * P), fireKey(0, 0));
    // Only three digits: a step P^3 later repeats the key (documented).
    assert.equal(fireKey(7, P ** 3 + 5), fireKey(7, 5));
  });

  it('rejects seeds that are not uint32 and bad steps, keys and rates', () => {
    assert.throws(() => fireKey(-1, 0), RangeError);
    assert.throws(() => fireKey(2 ** 32, 0), RangeError);
    assert.throws(() => fireKey(1.5, 0), RangeError);
    assert.throws(() => fireKey(0, -1), RangeError);
    assert.throws(() => fireHash(P, 0, 0, 0), RangeError);
    assert.throws(() => fireHash(0, -1, 0, 0), RangeError);
    assert.throws(() => fireThreshold(1.01), RangeError);
    assert.throws(() => fireThreshold(Number.NaN), RangeError);
  });
});

describe('NCA-Hash-4091 on float32 hardware', () => {
  it('float32 mod equals integer mod for every operand a mix can produce', () => {
    // Every operand of mod is below 4091^2 + 4091; check them all, for t/P and t*(1/P).
    const limit = P * P + P;
    for (let t = 0; t < limit; t++) {
      if (modF32(t) !== t % P || modF32(t, true) !== t % P) assert.fail(`float32 mod differs at t = ${t}`);
    }
  });

  it('float32 hash equals the integer hash on random inputs', () => {
    fc.assert(
      fc.property(fc.nat({ max: P - 1 }), fc.nat({ max: 1023 }), fc.nat({ max: 1023 }), fc.nat({ max: 63 }), fc.boolean(), (key, x, y, c, reciprocal) => {
        assert.equal(hashF32(key, x, y, c, reciprocal), fireHash(key, x, y, c));
      }),
      { numRuns: 20000 },
    );
  });
});

describe('NCA-Hash-4091 statistics', () => {
  const W = 64;
  const H = 64;
  const C = 16;
  const threshold = fireThreshold(0.5);
  const mask = (step: number): Uint8Array => {
    const key = fireKey(42, step);
    const out = new Uint8Array(W * H * C);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) out[(y * W + x) * C + c] = fires(key, threshold, x, y, c) ? 1 : 0;
    return out;
  };
  const correlation = (pairs: Array<[number, number]>): number => {
    const n = pairs.length;
    let sa = 0, sb = 0, sab = 0, saa = 0, sbb = 0;
    for (const [a, b] of pairs) {
      sa += a; sb += b; sab += a * b; saa += a * a; sbb += b * b;
    }
    const cov = sab / n - (sa / n) * (sb / n);
    return cov / Math.sqrt((saa / n - (sa / n) ** 2) * (sbb / n - (sb / n) ** 2));
  };
  const m0 = mask(0);
  const m1 = mask(1);
  const at = (m: Uint8Array, x: number, y: number, c: number): number => m[(y * W + x) * C + c]!;

  it('rate 0.5 gives T/P = 2046/4091 on average', () => {
    assert.equal(threshold, 2046);
    const mean = m0.reduce((s, v) => s + v, 0) / m0.length;
    assert.ok(Math.abs(mean - threshold / P) < 0.01, `mean ${mean}`);
  });

  it('neighbouring cells, channels and steps are uncorrelated', () => {
    // Measured over 30 steps: cells and steps stay within +-0.013 (noise is about 0.004), but
    // adjacent channels sit at about -0.015 (-0.006..-0.023): c is absorbed by the last input
    // round, so it gets only one more cubing. Small, yet a property of the spec, not noise.
    const horizontal: Array<[number, number]> = [];
    const vertical: Array<[number, number]> = [];
    const channel: Array<[number, number]> = [];
    const steps: Array<[number, number]> = [];
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        for (let c = 0; c < C; c++) {
          if (x + 1 < W) horizontal.push([at(m0, x, y, c), at(m0, x + 1, y, c)]);
          if (y + 1 < H) vertical.push([at(m0, x, y, c), at(m0, x, y + 1, c)]);
          if (c + 1 < C) channel.push([at(m0, x, y, c), at(m0, x, y, c + 1)]);
          steps.push([at(m0, x, y, c), at(m1, x, y, c)]);
        }
      }
    }
    for (const [name, pairs] of Object.entries({ horizontal, vertical, channel, steps })) {
      const r = correlation(pairs);
      assert.ok(Math.abs(r) < 0.03, `${name} correlation ${r}`);
    }
  });

  it('rate 0 never fires and rate 1 always fires', () => {
    assert.equal(fireThreshold(0), 0);
    assert.equal(fireThreshold(1), P);
    for (let step = 0; step < 4; step++) {
      const key = fireKey(7, step);
      for (let x = 0; x < 32; x++) {
        for (let c = 0; c < 16; c++) {
          assert.equal(fires(key, 0, x, 3, c), false);
          assert.equal(fires(key, P, x, 3, c), true);
        }
      }
    }
  });
});
