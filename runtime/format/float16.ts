/**
 * IEEE-754 binary16 <-> number. Decoding is exact (every half is a float32 and a double).
 * Encoding rounds the exact value of a double (not a float32 first, which would round twice) to
 * the nearest half, ties to even, through subnormals, to +-Infinity above the largest half.
 */

/** The largest finite half. */
export const F16_MAX = 65504;
/** The smallest positive (subnormal) half, 2^-24. */
export const F16_MIN_SUBNORMAL = 2 ** -24;
/** The smallest positive normal half, 2^-14. */
export const F16_MIN_NORMAL = 2 ** -14;
/** Halfway between F16_MAX and the next step (65536): from here on, ties-to-even gives Infinity. */
const F16_OVERFLOW = 65520;
const F16_CANONICAL_NAN = 0x7e00;

/** 2^(e - 25) for a biased exponent e in 0..31: a normal half is (1024 + mantissa) * this. */
const NORMAL_SCALE: readonly number[] = Array.from({ length: 32 }, (_, e) => 2 ** (e - 25));

/** The number a half's 16 bits stand for (NaN for any NaN pattern). */
export function f16BitsToNumber(bits: number): number {
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  const sign = bits & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * mantissa * F16_MIN_SUBNORMAL;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mantissa) * (NORMAL_SCALE[exponent] as number);
}

/** Round half to even for a non-negative value whose fraction is exact in a double. */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The 16 bits of the half nearest to `value` (ties to even); NaN gives the canonical quiet NaN. */
export function numberToF16Bits(value: number): number {
  if (Number.isNaN(value)) return F16_CANONICAL_NAN;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (magnitude >= F16_OVERFLOW) return sign | 0x7c00;
  if (magnitude < F16_MIN_NORMAL) {
    // Subnormal: a multiple of 2^-24. Rounding up to 1024 yields 0x0400, the smallest normal,
    // which is exactly the right bit pattern.
    return sign | roundHalfEven(magnitude / F16_MIN_SUBNORMAL);
  }
  let exponent = Math.floor(Math.log2(magnitude));
  // log2 may be off by one near powers of two; fix it with exact power-of-two comparisons.
  if (2 ** exponent > magnitude) exponent--;
  else if (2 ** (exponent + 1) <= magnitude) exponent++;
  // Scaling by a power of two and subtracting 1 are exact in a double.
  let mantissa = roundHalfEven((magnitude / 2 ** exponent - 1) * 1024);
  if (mantissa === 1024) {
    mantissa = 0;
    exponent++;
  }
  const biased = exponent + 15;
  if (biased >= 0x1f) return sign | 0x7c00;
  return sign | (biased << 10) | mantissa;
}

/** `value` rounded to the nearest half, as a number. */
export function roundToF16(value: number): number {
  return f16BitsToNumber(numberToF16Bits(value));
}
