/**
 * Image sizes read from headers, before any decode (issue 12, item 1: a small file that decodes
 * to a huge bitmap is refused on its declared size).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { imageSize } from '../../component/image-size.js';

const bytes = (...parts: (number[] | string)[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));
const u32be = (n: number): number[] => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const u16le = (n: number): number[] => [n & 255, n >>> 8];
const u16be = (n: number): number[] => [n >>> 8, n & 255];

test('PNG: the IHDR size (a real file and a 30000x30000 header)', () => {
  assert.deepEqual(imageSize(readFileSync('test/browser/pages/element/models/red-square.png')), { format: 'png', width: 16, height: 16 });
  assert.deepEqual(imageSize(bytes([0x89], 'PNG\r\n\x1a\n', u32be(13), 'IHDR', u32be(30_000), u32be(30_000))), { format: 'png', width: 30_000, height: 30_000 });
});

test('GIF, BMP, WebP (VP8, VP8L, VP8X), JPEG and AVIF headers', () => {
  assert.deepEqual(imageSize(bytes('GIF89a', u16le(640), u16le(480))), { format: 'gif', width: 640, height: 480 });
  assert.deepEqual(imageSize(bytes('BM', new Array(16).fill(0), [0x00, 0x10, 0, 0], [0x00, 0xf0, 0xff, 0xff])), { format: 'bmp', width: 4096, height: 4096 });
  const riff = (chunk: string, body: number[]): Uint8Array => bytes('RIFF', [0, 0, 0, 0], 'WEBP', chunk, body);
  assert.deepEqual(imageSize(riff('VP8 ', [...new Array(10).fill(0), ...u16le(300), ...u16le(200)])), { format: 'webp', width: 300, height: 200 });
  // VP8L: signature 0x2f, then 14 bits width-1 and 14 bits height-1.
  const vp8l = (299 | (199 << 14)) >>> 0;
  assert.deepEqual(imageSize(riff('VP8L', [0, 0, 0, 0, 0x2f, vp8l & 255, (vp8l >>> 8) & 255, (vp8l >>> 16) & 255, vp8l >>> 24, 0])), { format: 'webp', width: 300, height: 200 });
  assert.deepEqual(imageSize(riff('VP8X', [0, 0, 0, 0, 0, 0, 0, 0, 0x0f, 0x27, 0, 0x0f, 0x27, 0, 0])), { format: 'webp', width: 10_000, height: 10_000 });
  const app0 = [0xff, 0xe0, ...u16be(16), ...new Array(14).fill(0)];
  const sof0 = [0xff, 0xc0, ...u16be(17), 8, ...u16be(1080), ...u16be(1920), 3];
  assert.deepEqual(imageSize(bytes([0xff, 0xd8], app0, sof0)), { format: 'jpeg', width: 1920, height: 1080 });
  const ispe = (w: number, h: number): number[] => [...u32be(20), ...bytes('ispe'), 0, 0, 0, 0, ...u32be(w), ...u32be(h)];
  assert.deepEqual(imageSize(bytes(u32be(20), 'ftypavif', new Array(8).fill(0), ispe(64, 64), ispe(50_000, 50_000))), { format: 'avif', width: 50_000, height: 50_000 });
});

test('anything else, and truncated headers: undefined', () => {
  assert.equal(imageSize(bytes('<svg xmlns="http://www.w3.org/2000/svg"/>')), undefined);
  assert.equal(imageSize(bytes([0x89], 'PNG')), undefined);
  assert.equal(imageSize(bytes([0xff, 0xd8, 0xff, 0xe0, 0, 16])), undefined);
});

test('any bytes: never throws (property test)', () => {
  const heads = fc.constantFrom([0x89, 0x50, 0x4e, 0x47], [0xff, 0xd8], [...'RIFF'].map((c) => c.charCodeAt(0)), [...'GIF89a'].map((c) => c.charCodeAt(0)), [0x42, 0x4d], []);
  fc.assert(
    fc.property(heads, fc.uint8Array({ maxLength: 200 }), (head, tail) => {
      const size = imageSize(Uint8Array.from([...head, ...tail]));
      if (size !== undefined) assert.ok(Number.isInteger(size.width) && Number.isInteger(size.height));
    }),
    { numRuns: 2000 },
  );
});
