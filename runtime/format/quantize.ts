/**
 * Per-row symmetric int8 quantisation: each row stores one f16 scale and `q` in -127..127, and
 * stands for `q * scale`. -128 is never written so the range is symmetric around zero.
 */
import { roundToF16 } from './float16.js';

export interface QuantizedRow {
  /** Already rounded to f16, finite and >= 0. */
  readonly scale: number;
  readonly q: Int8Array;
}

/**
 * scale = maxabs / 127 rounded to f16; q = clamp(round(w / scale), -127, 127), ties away from 0. A row of zeros (or
 * one so small its scale rounds to 0 in f16) gets scale 0 and q = 0. The error per value is at most
 * scale / 2 (the clamp only cuts the f16 rounding of the scale, less than maxabs * 2^-11).
 * Returns null when the scale overflows f16 (maxabs > ~8.3e6) or a value is not finite.
 */
export function quantizeRow(values: Float32Array, start: number, end: number): QuantizedRow | null {
  let maxAbs = 0;
  for (let i = start; i < end; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) return null;
    const a = Math.abs(v);
    if (a > maxAbs) maxAbs = a;
  }
  const q = new Int8Array(end - start);
  const scale = roundToF16(maxAbs / 127);
  if (!Number.isFinite(scale)) return null;
  if (scale === 0) return { scale: 0, q };
  for (let i = start; i < end; i++) {
    // Half away from zero, so a row and its negation quantise to negated codes.
    const x = (values[i] as number) / scale;
    const r = x < 0 ? -Math.round(-x) : Math.round(x);
    q[i - start] = r > 127 ? 127 : r < -127 ? -127 : r;
  }
  return { scale, q };
}
