/**
 * One group per error code of docs/format.md. Each bad file is a valid file with one field
 * changed and, unless the test is about the header, the length and CRC re-fixed so that the check
 * under test is the one that fires.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createArchitecture,
  createModel,
  decodeModel,
  encodeModel,
  NCA_FORMAT_ERROR_CODES,
  type NcaFormatErrorCode,
} from '../../runtime/format/index.js';
import { assertFormatError, editChunk, fixHeader, joinFile, sampleModel, splitFile } from './format-helpers.js';

const f32File = encodeModel(sampleModel());
const f16File = encodeModel(sampleModel(), { precision: 'f16', biasPrecision: 'f16' });
const int8File = encodeModel(sampleModel(), { precision: 'int8', biasPrecision: 'int8' });
const imageFile = encodeModel(sampleModel({ image: true }));
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

const seen = new Set<NcaFormatErrorCode>();
function rejects(bytes: Uint8Array, code: NcaFormatErrorCode, pattern?: RegExp): void {
  assertFormatError(() => decodeModel(bytes), code, pattern);
  seen.add(code);
}

/** Layer data offsets: weights start after the 8-byte layer header. */
const LAYR_DATA = 8;

describe('too-small', () => {
  test('empty file and every length below the 20-byte header', () => {
    rejects(new Uint8Array(0), 'too-small', /0 bytes.*empty file/);
    for (let n = 1; n < 20; n++) rejects(f32File.slice(0, n), 'too-small', /shorter than the 20-byte/);
  });
  test('a short text body says what it looks like', () => {
    rejects(text('Not Found'), 'too-small', /looks like text \(starts with "Not Found"\)/);
  });
});

describe('bad-magic', () => {
  const pad = (bytes: Uint8Array): Uint8Array => {
    const out = new Uint8Array(Math.max(64, bytes.length));
    out.set(bytes);
    return out;
  };
  test('an HTML 404 page served with status 200', () => {
    rejects(text('\n  <!DOCTYPE html><html><head><title>404 Not Found</title></head></html>'), 'bad-magic', /HTML.*"<!DOCTYPE html>/);
  });
  test('a PNG, JSON, gzip, text, damaged .nca and binary junk', () => {
    rejects(pad(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), 'bad-magic', /PNG image/);
    rejects(text('{"error":"model not found","status":404}'), 'bad-magic', /JSON \(starts with "\{/);
    rejects(pad(new Uint8Array([0x1f, 0x8b, 0x08, 0x00])), 'bad-magic', /gzip/);
    rejects(text('model weights go here, one per line\n0.1\n0.2\n'), 'bad-magic', /text \(starts with "model weights/);
    // CR LF turned into LF by a text-mode transfer.
    const crlf = [...f32File.subarray(0, 4), 0x0a, 0x1a, 0x0a, ...f32File.subarray(8)];
    rejects(new Uint8Array(crlf), 'bad-magic', /text-mode/);
    // The high byte re-encoded as UTF-8 (U+FFFD).
    rejects(new Uint8Array([0xef, 0xbf, 0xbd, ...f32File.subarray(1)]), 'bad-magic', /text-mode/);
    rejects(new Uint8Array(64), 'bad-magic', /binary data \(first bytes 00 00/);
  });
});

describe('unsupported-version', () => {
  test('version 0 and a future version name found and supported versions', () => {
    rejects(joinFile({ ...splitFile(f32File), version: 0 }), 'unsupported-version', /version 0 .*version 1/);
    rejects(joinFile({ ...splitFile(f32File), version: 2 }), 'unsupported-version', /version 2 .*version 1.*newer/);
  });
});

describe('bad-flags', () => {
  test('header flags and the reserved bytes of ARCH and LAYR', () => {
    rejects(joinFile({ ...splitFile(f32File), flags: 1 }), 'bad-flags', /flags/);
    rejects(editChunk(f32File, 'ARCH', (d) => void (d[9] = 1)), 'bad-flags', /ARCH\.reserved/);
    rejects(editChunk(f32File, 'LAYR', (d) => void (d[7] = 4), 1), 'bad-flags', /LAYR\[1\]\.reserved/);
  });
});

describe('length-mismatch', () => {
  test('a truncated download and trailing bytes', () => {
    rejects(f32File.slice(0, -1), 'length-mismatch', /1 bytes are missing/);
    rejects(new Uint8Array([...f32File, 0x0a]), 'length-mismatch', /1 trailing bytes/);
  });
});

describe('bad-checksum', () => {
  test('one flipped bit in a weight', () => {
    const bytes = f32File.slice();
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] as number) ^ 0x10;
    rejects(bytes, 'bad-checksum', /CRC-32 mismatch/);
  });
});

describe('truncated-chunk', () => {
  test('a chunk claiming more bytes than the file has', () => {
    const bytes = f32File.slice();
    const view = new DataView(bytes.buffer);
    // The last chunk is META; its length field sits 8 bytes before its data.
    const metaAt = bytes.length - 8 - (splitFile(f32File).chunks.at(-1)?.data.length ?? 0);
    view.setUint32(metaAt + 4, view.getUint32(metaAt + 4, true) + 10, true);
    rejects(fixHeader(bytes), 'truncated-chunk', /"META" .*claims/);
  });
  test('a partial chunk header at the end', () => {
    rejects(fixHeader(new Uint8Array([...f32File, 0x74, 0x45, 0x58])), 'truncated-chunk', /chunk header/);
  });
});

describe('missing-chunk', () => {
  const without = (bytes: Uint8Array, index: number): Uint8Array => {
    const file = splitFile(bytes);
    file.chunks.splice(index, 1);
    return joinFile(file);
  };
  test('no META, a LAYR short, no STRT for an image start, no chunks at all', () => {
    rejects(without(f32File, 3), 'missing-chunk', /META is missing at the end/);
    rejects(without(f32File, 2), 'missing-chunk', /LAYR\[1\] \(ARCH declares 2 layers\) is missing: found META/);
    rejects(without(imageFile, 4), 'missing-chunk', /STRT .*is missing/);
    rejects(joinFile({ ...splitFile(f32File), chunks: [] }), 'missing-chunk', /ARCH is missing/);
  });
});

describe('unexpected-chunk', () => {
  const insert = (bytes: Uint8Array, index: number, chunk: { type: string; data: Uint8Array }): Uint8Array => {
    const file = splitFile(bytes);
    file.chunks.splice(index, 0, chunk);
    return joinFile(file);
  };
  const arch = splitFile(f32File).chunks[0]!;
  const layr = splitFile(f32File).chunks[2]!;
  const strt = splitFile(imageFile).chunks[4]!;
  test('an unknown critical chunk, including non-letter types', () => {
    rejects(insert(f32File, 1, { type: 'ABCD', data: new Uint8Array(4) }), 'unexpected-chunk', /unknown critical chunk "ABCD"/);
    rejects(insert(f32File, 4, { type: '\0\0\0\0', data: new Uint8Array(0) }), 'unexpected-chunk', /"\\x00\\x00\\x00\\x00"/);
  });
  test('a repeated ARCH, an extra LAYR, a STRT for a seed start', () => {
    rejects(insert(f32File, 1, arch), 'unexpected-chunk', /ARCH already appeared/);
    rejects(insert(f32File, 3, layr), 'unexpected-chunk', /declares only 2 layers/);
    rejects(insert(f32File, 4, strt), 'unexpected-chunk', /seed cell/);
  });
  test('an ancillary chunk before ARCH', () => {
    rejects(insert(f32File, 0, { type: 'tEXt', data: text('hi') }), 'unexpected-chunk', /before ARCH/);
  });
});

describe('chunk-size', () => {
  test('ARCH, LAYR, META and STRT lengths that differ from what their fields imply', () => {
    rejects(editChunk(f32File, 'ARCH', (d) => new Uint8Array([...d, 0])), 'chunk-size', /ARCH is 127 bytes but 3 kernels imply 126/);
    rejects(editChunk(f32File, 'ARCH', (d) => d.slice(0, 10)), 'chunk-size', /ARCH\.fire rate needs 4 bytes/);
    rejects(editChunk(f32File, 'LAYR', (d) => d.slice(0, -1), 1), 'chunk-size', /LAYR\[1\] is \d+ bytes but 16x128 f32 weights/);
    rejects(editChunk(f32File, 'META', (d) => new Uint8Array([...d, 0])), 'chunk-size', /META has 1 bytes after/);
    rejects(editChunk(f32File, 'META', (_d, v) => v.setUint16(18, 200, true)), 'chunk-size', /META\.name needs 200 bytes/);
    rejects(editChunk(imageFile, 'STRT', (d) => d.slice(0, -4)), 'chunk-size', /STRT is \d+ bytes but 5x3 RGBA/);
  });
});

describe('bad-enum', () => {
  test('every enum byte', () => {
    rejects(editChunk(f32File, 'LAYR', (d) => void (d[4] = 5)), 'bad-enum', /LAYR\[0\]\.activation is 5, not one of 0 identity/);
    rejects(editChunk(f32File, 'LAYR', (d) => void (d[5] = 3), 1), 'bad-enum', /LAYR\[1\]\.weight dtype is 3/);
    rejects(editChunk(f32File, 'LAYR', (d) => void (d[6] = 255)), 'bad-enum', /bias dtype/);
    rejects(editChunk(f32File, 'ARCH', (d) => void (d[4] = 2)), 'bad-enum', /perception order/);
    rejects(editChunk(f32File, 'ARCH', (d) => void (d[6] = 2)), 'bad-enum', /update mode is 2, not one of 0 replace, 1 residual/);
    rejects(editChunk(f32File, 'ARCH', (d) => void (d[7] = 2)), 'bad-enum', /fire granularity/);
    rejects(editChunk(f32File, 'ARCH', (d) => void (d[8] = 7)), 'bad-enum', /alive mode/);
    rejects(editChunk(f32File, 'META', (d) => void (d[0] = 3)), 'bad-enum', /META\.task/);
    rejects(editChunk(f32File, 'META', (d) => void (d[1] = 2)), 'bad-enum', /META\.start/);
  });
});

describe('bad-dimension', () => {
  test('zero and over-cap counts and sizes, alpha outside the state', () => {
    rejects(editChunk(f32File, 'ARCH', (_d, v) => v.setUint16(0, 0, true)), 'bad-dimension', /ARCH\.channels is 0, must be 1\.\.64/);
    rejects(editChunk(f32File, 'ARCH', (_d, v) => v.setUint16(0, 65535, true)), 'bad-dimension', /channels is 65535/);
    rejects(editChunk(f32File, 'ARCH', (d) => void (d[2] = 16)), 'bad-dimension', /alpha channel is 16/);
    rejects(editChunk(f32File, 'ARCH', (d) => void (d[3] = 0)), 'bad-dimension', /kernel count is 0/);
    rejects(editChunk(f32File, 'ARCH', (d) => void (d[3] = 9)), 'bad-dimension', /kernel count is 9/);
    rejects(editChunk(f32File, 'ARCH', (d) => void (d[5] = 0)), 'bad-dimension', /layer count is 0/);
    rejects(editChunk(f32File, 'ARCH', (d) => void (d[5] = 255)), 'bad-dimension', /layer count is 255/);
    rejects(editChunk(f32File, 'LAYR', (_d, v) => v.setUint16(0, 0, true)), 'bad-dimension', /LAYR\[0\]\.inputs is 0/);
    rejects(editChunk(f32File, 'LAYR', (_d, v) => v.setUint16(2, 65535, true)), 'bad-dimension', /LAYR\[0\]\.outputs is 65535/);
    rejects(editChunk(f32File, 'LAYR', (_d, v) => v.setUint16(2, 0, true)), 'bad-dimension', /LAYR\[0\]\.outputs is 0/);
    rejects(editChunk(f32File, 'META', (_d, v) => v.setUint16(2, 0, true)), 'bad-dimension', /META\.target width is 0/);
    rejects(editChunk(f32File, 'META', (_d, v) => v.setUint16(8, 1025, true)), 'bad-dimension', /META\.grid height is 1025/);
    rejects(editChunk(imageFile, 'STRT', (_d, v) => v.setUint16(0, 0, true)), 'bad-dimension', /STRT\.width is 0/);
  });
});

describe('too-large', () => {
  test('a parameter total over 4,194,304 is refused at the LAYR that crosses the cap', () => {
    // A real ~3.4 MB file: 64 channels x 3 kernels -> 1024, three 1024x1024 layers (int8 zeros),
    // then a fourth 1024x1024 layer header that would cross the cap.
    const model = createModel(createArchitecture({ rule: 'distill', channels: 64, hidden: 1024, random: () => 0.5 }));
    const file = splitFile(encodeModel(model, { precision: 'int8', biasPrecision: 'int8' }));
    const [arch, first, , meta] = file.chunks;
    arch!.data[5] = 8;
    const wide = (): { type: string; data: Uint8Array } => {
      const data = new Uint8Array(8 + 1024 * 2 + 1024 * 1024 + 2 + 1024);
      new DataView(data.buffer).setUint16(0, 1024, true);
      new DataView(data.buffer).setUint16(2, 1024, true);
      data[4] = 1;
      data[5] = 2;
      data[6] = 2;
      return { type: 'LAYR', data };
    };
    const header = wide();
    header.data = header.data.slice(0, 8);
    file.chunks = [arch!, first!, wide(), wide(), wide(), header, meta!];
    rejects(joinFile(file), 'too-large', /LAYR\[4\] brings the parameter total to 4396032, over the cap of 4194304/);
  });
});

describe('shape-mismatch', () => {
  test('layer sizes that do not chain from K*C to C', () => {
    rejects(editChunk(f32File, 'LAYR', (_d, v) => v.setUint16(0, 47, true)), 'shape-mismatch', /LAYR\[0\]\.inputs is 47 but kernels x channels is 48/);
    rejects(editChunk(f32File, 'LAYR', (_d, v) => v.setUint16(0, 127, true), 1), 'shape-mismatch', /LAYR\[1\]\.inputs is 127 but LAYR\[0\]\.outputs is 128/);
    rejects(editChunk(f32File, 'LAYR', (_d, v) => v.setUint16(2, 15, true), 1), 'shape-mismatch', /last layer and has 15 outputs/);
  });
});

describe('bad-value', () => {
  test('NaN and infinite weights, biases, kernels, rate, threshold and loss', () => {
    rejects(editChunk(f32File, 'LAYR', (_d, v) => v.setFloat32(LAYR_DATA + 37 * 4, NaN, true), 1), 'bad-value', /^LAYR\[1\]\.weights\[37\] is NaN$/);
    rejects(
      editChunk(f32File, 'LAYR', (d, v) => v.setFloat32(d.length - 4, -Infinity, true), 1),
      'bad-value',
      /^LAYR\[1\]\.bias\[15\] is -Infinity$/,
    );
    rejects(editChunk(f16File, 'LAYR', (_d, v) => v.setUint16(LAYR_DATA + 2, 0x7c00, true)), 'bad-value', /^LAYR\[0\]\.weights\[1\] is Infinity$/);
    rejects(editChunk(f32File, 'ARCH', (_d, v) => v.setFloat32(18 + 36 + 8, NaN, true)), 'bad-value', /ARCH\.kernels\[1\]\[2\] is NaN/);
    rejects(editChunk(f32File, 'ARCH', (_d, v) => v.setFloat32(10, 1.5, true)), 'bad-value', /fire rate is 1\.5, outside 0\.\.1/);
    rejects(editChunk(f32File, 'ARCH', (_d, v) => v.setFloat32(10, -0.25, true)), 'bad-value', /fire rate/);
    rejects(editChunk(f32File, 'ARCH', (_d, v) => v.setFloat32(10, NaN, true)), 'bad-value', /fire rate is NaN/);
    rejects(editChunk(f32File, 'ARCH', (_d, v) => v.setFloat32(14, Infinity, true)), 'bad-value', /alive threshold is Infinity/);
    rejects(editChunk(f32File, 'META', (_d, v) => v.setFloat32(14, NaN, true)), 'bad-value', /final loss is NaN/);
  });
  test('int8 scales that are NaN, infinite or negative, and q = -128', () => {
    rejects(editChunk(int8File, 'LAYR', (_d, v) => v.setUint16(LAYR_DATA + 2 * 5, 0x7e00, true)), 'bad-value', /LAYR\[0\]\.weights\.scale\[5\] is NaN/);
    rejects(editChunk(int8File, 'LAYR', (_d, v) => v.setUint16(LAYR_DATA, 0xfc00, true), 1), 'bad-value', /scale\[0\] is -Infinity/);
    rejects(editChunk(int8File, 'LAYR', (_d, v) => v.setUint16(LAYR_DATA, 0xbc00, true)), 'bad-value', /scale\[0\] is negative \(-1\)/);
    rejects(editChunk(int8File, 'LAYR', (d) => void (d[LAYR_DATA + 16 * 2 + 3] = 0x80), 1), 'bad-value', /LAYR\[1\]\.weights\[3\] is int8 -128/);
  });
  test('a STRT colour above its alpha', () => {
    rejects(
      editChunk(imageFile, 'STRT', (d) => {
        d[4 + 4 * 6 + 3] = 10; // pixel 6 = (1, 1) of a 5-wide image
        d[4 + 4 * 6 + 1] = 11;
      }),
      'bad-value',
      /STRT pixel \(1, 1\) has a colour above its alpha/,
    );
  });
});

describe('bad-string', () => {
  test('a name that is not UTF-8, and strings over their caps', () => {
    rejects(editChunk(f32File, 'META', (d) => void (d[20] = 0xff)), 'bad-string', /META\.name is not valid UTF-8/);
    rejects(editChunk(f32File, 'META', (_d, v) => v.setUint16(18, 257, true)), 'bad-string', /META\.name is 257 bytes, over the cap of 256/);
    rejects(
      editChunk(f32File, 'META', (d, v) => v.setUint16(20 + v.getUint16(18, true), 4097, true) ?? d),
      'bad-string',
      /attribution is 4097 bytes/,
    );
  });
});

// Runs last (tests run in order); skipped by a --test-name-pattern run, which would skew `seen`.
test('every code of the spec table was produced by a test above', () => {
  assert.deepEqual([...seen].sort(), [...NCA_FORMAT_ERROR_CODES].sort());
});
