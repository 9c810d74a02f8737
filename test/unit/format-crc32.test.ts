import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32 } from '../../runtime/format/index.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

test('CRC-32 check value: "123456789" -> 0xCBF43926', () => {
  assert.equal(crc32(ascii('123456789')), 0xcbf43926);
});

test('known vectors (zlib.crc32) and ranges', () => {
  assert.equal(crc32(new Uint8Array(0)), 0);
  assert.equal(crc32(ascii('The quick brown fox jumps over the lazy dog')), 0x414fa339);
  assert.equal(crc32(new Uint8Array(32).fill(0xff)), 0xff6cab0b);
  assert.equal(crc32(ascii('xx123456789yy'), 2, 11), 0xcbf43926);
});

test('an encoded file carries zlib.crc32 of bytes [20, total)', async (t) => {
  const zlib = await import('node:zlib');
  const zlibCrc = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
  if (typeof zlibCrc !== 'function') {
    t.skip(`node ${process.version} has no zlib.crc32 (added in 20.15 / 22.2)`);
    return;
  }
  const { encodeModel } = await import('../../runtime/format/index.js');
  const { sampleModel } = await import('./format-helpers.js');
  const bytes = encodeModel(sampleModel());
  assert.equal(new DataView(bytes.buffer).getUint32(16, true), zlibCrc(bytes.subarray(20)));
});
