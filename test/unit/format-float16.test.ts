import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  F16_MAX,
  F16_MIN_NORMAL,
  F16_MIN_SUBNORMAL,
  f16BitsToNumber,
  numberToF16Bits,
} from '../../runtime/format/float16.js';

test('every one of the 65,536 halves decodes and encodes back to the same bits (NaN: any NaN)', () => {
  for (let bits = 0; bits < 0x10000; bits++) {
    const value = f16BitsToNumber(bits);
    const isNaNPattern = (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;
    if (isNaNPattern) {
      assert.ok(Number.isNaN(value), `0x${bits.toString(16)}`);
      continue;
    }
    assert.equal(Math.fround(value), value, 'decoded halves are exact float32 values');
    assert.equal(numberToF16Bits(value), bits, `0x${bits.toString(16)} -> ${value}`);
  }
});

test('edge values decode exactly', () => {
  assert.equal(f16BitsToNumber(0x0000), 0);
  assert.ok(Object.is(f16BitsToNumber(0x8000), -0));
  assert.equal(f16BitsToNumber(0x3c00), 1);
  assert.equal(f16BitsToNumber(0xc000), -2);
  assert.equal(f16BitsToNumber(0x7bff), F16_MAX);
  assert.equal(f16BitsToNumber(0x0001), F16_MIN_SUBNORMAL);
  assert.equal(f16BitsToNumber(0x03ff), 1023 * 2 ** -24);
  assert.equal(f16BitsToNumber(0x0400), F16_MIN_NORMAL);
  assert.equal(f16BitsToNumber(0x3555), 0.333251953125);
  assert.equal(f16BitsToNumber(0x7c00), Infinity);
  assert.equal(f16BitsToNumber(0xfc00), -Infinity);
  assert.ok(Number.isNaN(f16BitsToNumber(0x7e00)));
});

test('encoding rounds to nearest, ties to even, including subnormals and overflow', () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [1 + 2 ** -11, 0x3c00], // tie between 1 and 1+2^-10: even (1)
    [1 + 3 * 2 ** -11, 0x3c02], // tie between 1+2^-10 and 1+2^-9: even (1+2^-9)
    [1 + 2 ** -11 + 2 ** -30, 0x3c01], // just above the tie rounds up
    [0.1, 0x2e66],
    [Math.fround(0.1), 0x2e66],
    [65504, 0x7bff],
    [65519.99, 0x7bff],
    [65520, 0x7c00], // tie between 65504 (odd mantissa) and 65536: even, which overflows
    [1e6, 0x7c00],
    [-1e6, 0xfc00],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -24, 0x0001],
    [2 ** -25, 0x0000], // tie between 0 and the smallest subnormal: even (0)
    [2 ** -25 + 2 ** -40, 0x0001],
    [3 * 2 ** -25, 0x0002], // tie between 1 and 2 subnormal steps: even (2)
    [-(2 ** -26), 0x8000],
    [1023.5 * 2 ** -24, 0x0400], // rounds up out of the subnormals to the smallest normal
    [2 ** -14, 0x0400],
    [2047.5, 0x6800], // 2047.5 -> tie between 2047 and 2048 at ulp 1: even (2048)
  ];
  for (const [value, bits] of cases) {
    assert.equal(numberToF16Bits(value).toString(16), bits.toString(16), `${value}`);
  }
  assert.equal(numberToF16Bits(NaN) & 0x7c00, 0x7c00);
  assert.notEqual(numberToF16Bits(NaN) & 0x3ff, 0);
});

test('encoding matches a brute-force nearest-half search on random doubles', () => {
  const finite: number[] = [];
  for (let b = 0; b < 0x7c00; b++) finite.push(f16BitsToNumber(b));
  let seed = 12345;
  const next = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  for (let n = 0; n < 2000; n++) {
    const value = (next() < 0.5 ? 1 : 2 ** -20) * next() * 2 ** (next() * 15.9);
    // Binary search for the bracketing halves, then pick the nearer (tie: even bits).
    let lo = 0;
    let hi = finite.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((finite[mid] as number) <= value) lo = mid;
      else hi = mid;
    }
    const dLo = value - (finite[lo] as number);
    const dHi = (finite[hi] as number) - value;
    const expected = dLo < dHi ? lo : dHi < dLo ? hi : lo % 2 === 0 ? lo : hi;
    assert.equal(numberToF16Bits(value), expected, `${value}`);
  }
});
