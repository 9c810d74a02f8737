/**
 * Says in words what a file that is not a `.nca` looks like, for the `bad-magic` message: the usual
 * culprits are an HTML error page served with status 200, a PNG or JSON fetched from the wrong URL,
 * a body left gzip-compressed, or a model damaged by a text-mode transfer.
 */

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const NCA_LETTERS = [0x4e, 0x43, 0x41]; // "NCA"

function startsWith(bytes: Uint8Array, prefix: readonly number[], at = 0): boolean {
  if (bytes.length < at + prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

/** Up to `max` leading characters, with anything unprintable escaped, quoted. */
function snippet(bytes: Uint8Array, from: number, max = 24): string {
  let out = '';
  const end = Math.min(bytes.length, from + max);
  for (let i = from; i < end; i++) {
    const b = bytes[i] as number;
    out += b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\x${hex(b)}`;
  }
  return `"${out}${bytes.length > end ? '...' : ''}"`;
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}

/** True when most bytes are printable ASCII or could be UTF-8 (tab, CR, LF allowed). */
function looksLikeText(bytes: Uint8Array): boolean {
  const end = Math.min(bytes.length, 512);
  let printable = 0;
  for (let i = 0; i < end; i++) {
    const b = bytes[i] as number;
    if (b === 0) return false;
    if ((b >= 0x20 && b !== 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d) printable++;
  }
  return end > 0 && printable / end > 0.95;
}

/** A phrase such as `HTML (starts with "<!DOCTYPE html>")`; never empty. */
export function describeBytes(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'an empty file';
  if (startsWith(bytes, PNG)) return 'a PNG image';
  if (startsWith(bytes, [0x1f, 0x8b])) {
    return 'gzip-compressed data (a server compressed the file and the client did not decode it)';
  }
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) return 'a ZIP archive';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'a JPEG image';
  if (startsWith(bytes, [0x47, 0x49, 0x46, 0x38])) return 'a GIF image';
  // "NCA" shortly after the start, but the magic differs: the high byte or the line endings were
  // rewritten (FTP ASCII mode, git autocrlf, saving through a text API that re-encodes as UTF-8).
  for (let at = 0; at <= 3; at++) {
    if (startsWith(bytes, NCA_LETTERS, at)) {
      return `an .nca file damaged by a text-mode transfer (bytes ${snippet(bytes, 0, 10)})`;
    }
  }
  let first = 0;
  if (startsWith(bytes, [0xef, 0xbb, 0xbf])) first = 3; // UTF-8 byte order mark
  while (first < bytes.length && [0x20, 0x09, 0x0a, 0x0d].includes(bytes[first] as number)) first++;
  const lead = bytes[first];
  if (lead === 0x3c) return `HTML or XML, perhaps an error page (starts with ${snippet(bytes, first)})`;
  if (lead === 0x7b || lead === 0x5b) return `JSON (starts with ${snippet(bytes, first)})`;
  if (looksLikeText(bytes)) {
    return first === bytes.length ? 'blank text' : `text (starts with ${snippet(bytes, first)})`;
  }
  const shown = Array.from(bytes.subarray(0, 8), hex).join(' ');
  return `unrecognised binary data (first bytes ${shown})`;
}
