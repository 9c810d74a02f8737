/**
 * Shared builders for the format tests: a seeded PRNG, sample models, and a tiny test-side chunk
 * splitter/assembler so a test can damage one field of a valid file and re-fix the length and CRC,
 * making sure the check it means to exercise is the one that fires.
 */
import assert from 'node:assert/strict';
import { crc32 } from '../../runtime/format/index.js';
import {
  createArchitecture,
  createModel,
  NcaFormatError,
  type ArchitectureOptions,
  type NcaFormatErrorCode,
  type NcaModel,
} from '../../runtime/format/index.js';
import { mulberry32 } from '../fixtures/reference-architectures.js';

export { mulberry32 };

/** A model with seeded random weights in every layer and non-zero biases. */
export function sampleModel(
  options: Partial<ArchitectureOptions> & { seed?: number; name?: string; image?: boolean } = {},
): NcaModel {
  const random = mulberry32(options.seed ?? 1);
  const arch = createArchitecture({ rule: 'distill', init: 'random', ...options, random });
  for (const layer of arch.layers) {
    for (let i = 0; i < layer.bias.length; i++) layer.bias[i] = (random() * 2 - 1) * 0.1;
  }
  let start: NcaModel['metadata']['start'] = { kind: 'seed' };
  if (options.image) {
    const width = 5;
    const height = 3;
    const rgba = new Uint8Array(width * height * 4);
    for (let i = 0; i < rgba.length; i += 4) {
      const a = Math.floor(random() * 256);
      rgba[i] = Math.floor(random() * (a + 1));
      rgba[i + 1] = Math.floor(random() * (a + 1));
      rgba[i + 2] = Math.floor(random() * (a + 1));
      rgba[i + 3] = a;
    }
    start = { kind: 'image', width, height, rgba };
  }
  return createModel(arch, {
    name: options.name ?? 'Test lizard 🦎',
    task: 'healing',
    targetWidth: 40,
    targetHeight: 32,
    start,
    training: { iterations: 8000, finalLoss: 0.0123 },
    attribution: 'Noto Emoji (Apache-2.0), trained by the nca-canvas tests',
  });
}

export interface RawChunk {
  type: string;
  data: Uint8Array;
}

export interface RawFile {
  version: number;
  flags: number;
  chunks: RawChunk[];
}

/** Splits a well-formed file (trusting it: tests only) into header fields and chunks. */
export function splitFile(bytes: Uint8Array): RawFile {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: RawChunk[] = [];
  let at = 20;
  while (at < bytes.length) {
    const type = String.fromCharCode(...bytes.subarray(at, at + 4));
    const length = view.getUint32(at + 4, true);
    chunks.push({ type, data: bytes.slice(at + 8, at + 8 + length) });
    at += 8 + length;
  }
  return { version: view.getUint16(8, true), flags: view.getUint16(10, true), chunks };
}

/** Assembles header + chunks with a correct total length and CRC. */
export function joinFile(file: RawFile): Uint8Array {
  const total = 20 + file.chunks.reduce((n, c) => n + 8 + c.data.length, 0);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  bytes.set([0x89, 0x4e, 0x43, 0x41, 0x0d, 0x0a, 0x1a, 0x0a]);
  view.setUint16(8, file.version, true);
  view.setUint16(10, file.flags, true);
  let at = 20;
  for (const chunk of file.chunks) {
    for (let i = 0; i < 4; i++) bytes[at + i] = chunk.type.charCodeAt(i);
    view.setUint32(at + 4, chunk.data.length, true);
    bytes.set(chunk.data, at + 8);
    at += 8 + chunk.data.length;
  }
  return fixHeader(bytes);
}

/** Rewrites the total length to the array's length and recomputes the CRC, in place. */
export function fixHeader(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(12, bytes.length, true);
  view.setUint32(16, crc32(bytes, 20, bytes.length), true);
  return bytes;
}

/** Applies `edit` to a copy of chunk `index` of `bytes`'s type and reassembles. */
export function editChunk(
  bytes: Uint8Array,
  type: string,
  edit: (data: Uint8Array, view: DataView) => Uint8Array | void,
  occurrence = 0,
): Uint8Array {
  const file = splitFile(bytes);
  const matches = file.chunks.filter((c) => c.type === type);
  const chunk = matches[occurrence];
  assert.ok(chunk, `no ${type}[${occurrence}] chunk`);
  const data = chunk.data.slice();
  const replaced = edit(data, new DataView(data.buffer));
  chunk.data = replaced ?? data;
  return joinFile(file);
}

/** Asserts `fn` throws an NcaFormatError with `code` (and a message matching `pattern`). */
export function assertFormatError(fn: () => unknown, code: NcaFormatErrorCode, pattern?: RegExp): NcaFormatError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof NcaFormatError, `expected NcaFormatError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, `wrong code; message: ${caught.message}`);
  if (pattern) assert.match(caught.message, pattern);
  return caught;
}
