/**
 * The pixel size of an image file, read from its header without decoding it, so a small file
 * that would decode to a huge bitmap is refused before any pixel is allocated. Reads PNG, JPEG,
 * GIF, WebP (lossy, lossless, extended), BMP and AVIF; undefined for anything else.
 */

export interface ImageSize {
  readonly format: 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp' | 'avif';
  readonly width: number;
  readonly height: number;
}

const ascii = (bytes: Uint8Array, at: number, text: string): boolean => [...text].every((c, i) => bytes[at + i] === c.charCodeAt(0));

export function imageSize(bytes: Uint8Array): ImageSize | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const has = (end: number): boolean => end <= bytes.byteLength;
  if (has(24) && bytes[0] === 0x89 && ascii(bytes, 1, 'PNG') && ascii(bytes, 12, 'IHDR')) {
    return { format: 'png', width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (has(10) && (ascii(bytes, 0, 'GIF87a') || ascii(bytes, 0, 'GIF89a'))) {
    return { format: 'gif', width: view.getUint16(6, true), height: view.getUint16(8, true) };
  }
  if (has(26) && ascii(bytes, 0, 'BM')) {
    return { format: 'bmp', width: Math.abs(view.getInt32(18, true)), height: Math.abs(view.getInt32(22, true)) };
  }
  if (has(16) && ascii(bytes, 0, 'RIFF') && ascii(bytes, 8, 'WEBP')) return webpSize(bytes, view);
  if (has(4) && bytes[0] === 0xff && bytes[1] === 0xd8) return jpegSize(bytes, view);
  if (has(12) && ascii(bytes, 4, 'ftyp')) return avifSize(bytes, view);
  return undefined;
}

function webpSize(bytes: Uint8Array, view: DataView): ImageSize | undefined {
  const has = (end: number): boolean => end <= bytes.byteLength;
  if (ascii(bytes, 12, 'VP8 ') && has(30)) return { format: 'webp', width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
  if (ascii(bytes, 12, 'VP8L') && has(25)) {
    const bits = view.getUint32(21, true);
    return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (ascii(bytes, 12, 'VP8X') && has(30)) {
    const u24 = (at: number): number => bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16);
    return { format: 'webp', width: u24(24) + 1, height: u24(27) + 1 };
  }
  return undefined;
}

/** Walks the marker segments to the first start-of-frame (SOF0..SOF15 but DHT, JPG and DAC). */
function jpegSize(bytes: Uint8Array, view: DataView): ImageSize | undefined {
  let at = 2;
  while (at + 9 <= bytes.byteLength) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { format: 'jpeg', width: view.getUint16(at + 7), height: view.getUint16(at + 5) };
    }
    // Standalone markers (RSTn, TEM) carry no length.
    at += marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7) ? 2 : 2 + view.getUint16(at + 2);
  }
  return undefined;
}

/**
 * AVIF (ISOBMFF): every `ispe` (image spatial extents) property in the file's first 64 KB; the
 * largest counts, so a small primary item cannot hide a huge one.
 */
function avifSize(bytes: Uint8Array, view: DataView): ImageSize | undefined {
  if (!(ascii(bytes, 8, 'avif') || ascii(bytes, 8, 'avis'))) return undefined;
  let best: ImageSize | undefined;
  const end = Math.min(bytes.byteLength, 65_536) - 16;
  for (let at = 12; at <= end; at++) {
    if (!ascii(bytes, at, 'ispe')) continue;
    const width = view.getUint32(at + 8);
    const height = view.getUint32(at + 12);
    if (best === undefined || width * height > best.width * best.height) best = { format: 'avif', width, height };
  }
  return best;
}
