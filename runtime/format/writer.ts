/** A little-endian cursor over a buffer sized in advance by the encoder. */
export class ByteWriter {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private cursor = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  get offset(): number {
    return this.cursor;
  }

  u8(value: number): void {
    this.view.setUint8(this.cursor, value);
    this.cursor += 1;
  }

  i8(value: number): void {
    this.view.setInt8(this.cursor, value);
    this.cursor += 1;
  }

  u16(value: number): void {
    this.view.setUint16(this.cursor, value, true);
    this.cursor += 2;
  }

  u32(value: number): void {
    this.view.setUint32(this.cursor, value, true);
    this.cursor += 4;
  }

  f32(value: number): void {
    this.view.setFloat32(this.cursor, value, true);
    this.cursor += 4;
  }

  bytesFrom(source: ArrayLike<number>): void {
    this.bytes.set(source, this.cursor);
    this.cursor += source.length;
  }

  /** A chunk type: four ASCII characters. */
  fourCC(type: string): void {
    for (let i = 0; i < 4; i++) this.u8(type.charCodeAt(i));
  }

  /** Overwrites a u32 at an earlier offset (the header's length and CRC). */
  patchU32(at: number, value: number): void {
    this.view.setUint32(at, value, true);
  }
}
