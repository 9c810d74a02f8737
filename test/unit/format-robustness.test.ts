/**
 * RELIABILITY.md items 4, 5, 6 and 10: truncated and padded files, lying sizes rejected before
 * allocation, and random or mutated bytes producing only NcaFormatError in bounded time and memory.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  decodeModel,
  encodeModel,
  NcaFormatError,
  type NcaFormatErrorCode,
  type NcaModel,
} from '../../runtime/format/index.js';
import { assertFormatError, editChunk, fixHeader, sampleModel } from './format-helpers.js';

const full = encodeModel(sampleModel({ image: true }), { precision: 'int8', biasPrecision: 'int8' });
const small = encodeModel(sampleModel({ image: true, channels: 4, hidden: 3 }), { precision: 'int8', biasPrecision: 'f16' });

/**
 * Runs `fn` while watching float-array allocations; returns the largest element count requested.
 * The decoder's only size-dependent allocations are Float32Array / Float64Array.
 */
function largestAllocation(fn: () => void): number {
  const saved = { f32: globalThis.Float32Array, f64: globalThis.Float64Array };
  let largest = 0;
  const spy = <T extends object>(ctor: T): T =>
    new Proxy(ctor, {
      construct(target, args, newTarget) {
        if (typeof args[0] === 'number') largest = Math.max(largest, args[0]);
        return Reflect.construct(target as new (...a: unknown[]) => object, args, newTarget) as object;
      },
    });
  globalThis.Float32Array = spy(saved.f32);
  globalThis.Float64Array = spy(saved.f64);
  try {
    fn();
  } finally {
    globalThis.Float32Array = saved.f32;
    globalThis.Float64Array = saved.f64;
  }
  return largest;
}

/** Decodes, returning the model or the NcaFormatError; anything else thrown fails the test. */
function decodeOrError(bytes: Uint8Array): NcaModel | NcaFormatError {
  try {
    return decodeModel(bytes);
  } catch (error) {
    if (error instanceof NcaFormatError) return error;
    throw new Error(`decodeModel threw a non-NcaFormatError: ${String(error)}`, { cause: error });
  }
}

function assertCodeIn(bytes: Uint8Array, codes: readonly NcaFormatErrorCode[], label: string): void {
  const result = decodeOrError(bytes);
  assert.ok(result instanceof NcaFormatError, `${label}: accepted`);
  assert.ok(codes.includes(result.code), `${label}: ${result.code}: ${result.message}`);
}

describe('truncation and trailing bytes', () => {
  test('every proper prefix of a valid file is rejected (too-small or length-mismatch)', () => {
    for (let n = 0; n < full.length; n++) assertCodeIn(full.subarray(0, n), ['too-small', 'length-mismatch'], `prefix ${n}`);
  });

  test('every prefix with its header re-fixed to match is still rejected: never a partial model', () => {
    for (let n = 20; n < small.length; n++) {
      assertCodeIn(fixHeader(small.slice(0, n)), ['truncated-chunk', 'chunk-size', 'missing-chunk'], `prefix ${n}`);
    }
  });

  test('a valid file plus trailing bytes is rejected, with or without a re-fixed header', () => {
    for (let k = 1; k <= 16; k++) {
      const padded = new Uint8Array(small.length + k);
      padded.set(small);
      assertCodeIn(padded, ['length-mismatch'], `+${k}`);
      assertCodeIn(fixHeader(padded.slice()), k < 8 ? ['truncated-chunk'] : ['unexpected-chunk'], `+${k} fixed`);
    }
  });
});

describe('lying sizes are rejected before allocation', () => {
  const cases: [string, Uint8Array, NcaFormatErrorCode][] = [
    ['65535 channels', editChunk(full, 'ARCH', (_d, v) => v.setUint16(0, 65535, true)), 'bad-dimension'],
    ['a 48x1024 f32 layer in a small chunk', editChunk(small, 'LAYR', (d, v) => {
      v.setUint16(2, 1024, true);
      d[5] = 0;
    }), 'chunk-size'],
    ['a 1024x1024 image in a small STRT', editChunk(small, 'STRT', (_d, v) => {
      v.setUint16(0, 1024, true);
      v.setUint16(2, 1024, true);
    }), 'chunk-size'],
    ['a 65535-byte name', editChunk(small, 'META', (_d, v) => v.setUint16(18, 65535, true)), 'bad-string'],
    ['a chunk of 2^32-1 bytes', fixHeader(((b) => (new DataView(b.buffer).setUint32(24, 0xffffffff, true), b))(small.slice())), 'truncated-chunk'],
    ['a header total of 2^32-1 bytes', ((b) => (new DataView(b.buffer).setUint32(12, 0xffffffff, true), b))(small.slice()), 'length-mismatch'],
  ];
  for (const [label, bytes, code] of cases) {
    test(label, () => {
      // Kernels and the earlier, honest layers may be allocated; never what the lying field claims.
      const largest = largestAllocation(() => assertFormatError(() => decodeModel(bytes), code));
      assert.ok(largest <= 1000, `allocated ${largest} elements`);
    });
  }
});

describe('random and mutated bytes (fast-check)', () => {
  /** The property: only NcaFormatError, memory bounded by the input, and whatever decodes re-encodes. */
  function check(bytes: Uint8Array): void {
    let result: NcaModel | NcaFormatError | undefined;
    const largest = largestAllocation(() => {
      result = decodeOrError(bytes);
    });
    assert.ok(largest <= Math.max(16, bytes.length), `allocated ${largest} floats for ${bytes.length} bytes`);
    if (result && !(result instanceof NcaFormatError)) decodeModel(encodeModel(result));
  }

  const mutation = fc.record({
    edits: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 }),
    resize: fc.oneof(fc.constant(0), fc.integer({ min: -64, max: 64 })),
    refix: fc.boolean(),
  });
  function mutate(base: Uint8Array, m: { edits: { at: number; value: number }[]; resize: number; refix: boolean }): Uint8Array {
    const length = Math.max(0, base.length + m.resize);
    const bytes = new Uint8Array(length);
    bytes.set(base.subarray(0, Math.min(length, base.length)));
    // Keep the header intact for most edits so they reach the chunk parser.
    for (const { at, value } of m.edits) if (length > 20) bytes[20 + (at % (length - 20))] = value;
    return m.refix && length >= 20 ? fixHeader(bytes) : bytes;
  }

  test('random bytes, bare and behind a valid header', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), (random, withHeader) => {
        if (!withHeader) return check(random);
        const bytes = new Uint8Array(20 + random.length);
        bytes.set(full.subarray(0, 20));
        bytes.set(random, 20);
        check(fixHeader(bytes));
      }),
      { numRuns: 1500, seed: 20240501 },
    );
  });

  test('byte edits, truncation and extension of valid files (header re-fixed or not)', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(fc.constantFrom(full, small), mutation, (base, m) => check(mutate(base, m))),
      { numRuns: 3000, seed: 20240502 },
    );
  });
});
