/**
 * A little-endian cursor over a window of bytes. Every read checks the window first and throws
 * `NcaFormatError` (with the code the caller chose for "ran past the end") before touching a byte,
 * so a lying length field can never read outside the window or the file.
 */
import { NcaFormatError, type NcaFormatErrorCode } from './errors.js';
import { f16BitsToNumber } from './float16.js';

export class ByteReader {
  private readonly view: DataView;
  private readonly bytes: Uint8Array;
  private readonly end: number;
  private cursor: number;

  /**
   * @param bytes the whole file
   * @param start first byte of the window
   * @param end one past the last byte of the window (must be <= bytes.length)
   * @param where the chunk name used in messages, e.g. `LAYR[1]` ('' outside any chunk)
   * @param overrunCode the code thrown when a read would pass `end`
   */
  constructor(
    bytes: Uint8Array,
    start: number,
    end: number,
    private readonly where: string,
    private readonly overrunCode: NcaFormatErrorCode,
  ) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.cursor = start;
    this.end = Math.min(end, bytes.length);
  }

  get offset(): number {
    return this.cursor;
  }

  get remaining(): number {
    return this.end - this.cursor;
  }

  /** Throws unless `count` more bytes are inside the window. */
  require(count: number, field: string): void {
    if (!(count >= 0) || count > this.end - this.cursor) {
      throw new NcaFormatError(
        this.overrunCode,
        `${this.where ? `${this.where}.${field}` : field} needs ${count} bytes at offset ${this.cursor} but only ` +
          `${Math.max(0, this.end - this.cursor)} remain`,
      );
    }
  }

  u8(field: string): number {
    this.require(1, field);
    return this.view.getUint8(this.cursor++);
  }

  i8(field: string): number {
    this.require(1, field);
    return this.view.getInt8(this.cursor++);
  }

  u16(field: string): number {
    this.require(2, field);
    const value = this.view.getUint16(this.cursor, true);
    this.cursor += 2;
    return value;
  }

  u32(field: string): number {
    this.require(4, field);
    const value = this.view.getUint32(this.cursor, true);
    this.cursor += 4;
    return value;
  }

  f32(field: string): number {
    this.require(4, field);
    const value = this.view.getFloat32(this.cursor, true);
    this.cursor += 4;
    return value;
  }

  f16(field: string): number {
    this.require(2, field);
    const value = f16BitsToNumber(this.view.getUint16(this.cursor, true));
    this.cursor += 2;
    return value;
  }

  /** A view (not a copy) of the next `count` bytes. */
  bytesView(count: number, field: string): Uint8Array {
    this.require(count, field);
    const view = this.bytes.subarray(this.cursor, this.cursor + count);
    this.cursor += count;
    return view;
  }

  /** Four bytes as a string of char codes 0..255 (a chunk type). */
  fourCC(field: string): string {
    this.require(4, field);
    const b = this.bytes;
    const c = this.cursor;
    this.cursor += 4;
    return String.fromCharCode(b[c] as number, b[c + 1] as number, b[c + 2] as number, b[c + 3] as number);
  }

  skip(count: number, field: string): void {
    this.require(count, field);
    this.cursor += count;
  }

  /** Bulk f32 read for tensors: the caller has already required `count * 4` bytes. */
  f32Array(count: number, field: string, out: Float32Array): void {
    this.require(count * 4, field);
    const view = this.view;
    let at = this.cursor;
    for (let i = 0; i < count; i++, at += 4) out[i] = view.getFloat32(at, true);
    this.cursor = at;
  }

  /** Bulk f16 read into float32 (exact). */
  f16Array(count: number, field: string, out: Float32Array): void {
    this.require(count * 2, field);
    const view = this.view;
    let at = this.cursor;
    for (let i = 0; i < count; i++, at += 2) out[i] = f16BitsToNumber(view.getUint16(at, true));
    this.cursor = at;
  }
}
