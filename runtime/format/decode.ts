/**
 * `.nca` bytes -> `NcaModel`. Trusts no field: every count is checked against its cap and every
 * length against the bytes left before anything is allocated, so memory is bounded by a small
 * multiple of the file's size (int8 weights grow 4x into float32).
 */
import {
  ACTIVATIONS,
  ALIVE_MODES,
  ARCH_FIXED_SIZE,
  CHUNK_ARCH,
  CHUNK_LAYR,
  CHUNK_META,
  CHUNK_STRT,
  CRC_START,
  DTYPES,
  FIRE_GRANULARITIES,
  FORMAT_VERSION,
  HEADER_SIZE,
  KERNEL_BYTES,
  KERNEL_SIZE,
  LAYR_FIXED_SIZE,
  MAGIC,
  MAX_ATTRIBUTION_BYTES,
  MAX_CHANNELS,
  MAX_GRID_SIDE,
  MAX_IMAGE_SIDE,
  MAX_KERNELS,
  MAX_LAYERS,
  MAX_LAYER_WIDTH,
  MAX_NAME_BYTES,
  MAX_PARAMETERS,
  PERCEPTION_ORDERS,
  START_KINDS,
  STRT_FIXED_SIZE,
  TASKS,
  UPDATE_MODES,
  tensorByteLength,
} from './constants.js';
import { crc32 } from './crc32.js';
import { NcaFormatError } from './errors.js';
import { ByteReader } from './reader.js';
import { describeBytes } from './sniff.js';
import type {
  Architecture,
  DenseLayer,
  ModelMetadata,
  NcaModel,
  StartState,
  TensorDType,
} from './types.js';

/** Fields of ARCH needed before the layers arrive. */
type ArchHeader = Omit<Architecture, 'layers'> & { readonly layerCount: number };
type MetaHeader = Omit<ModelMetadata, 'start'> & { readonly startKind: 'seed' | 'image' };

type ChunkName = typeof CHUNK_ARCH | typeof CHUNK_LAYR | typeof CHUNK_META | typeof CHUNK_STRT;
/** Position of each critical chunk in the required order; END is after the last one. */
const RANK: Readonly<Record<ChunkName | 'END', number>> = { [CHUNK_ARCH]: 0, [CHUNK_LAYR]: 1, [CHUNK_META]: 2, [CHUNK_STRT]: 3, END: 4 };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes a `.nca` file. Throws `NcaFormatError` (and nothing else) for any byte sequence that is
 * not a valid version-1 model; a `TypeError` only when `bytes` is not a Uint8Array or ArrayBuffer.
 * The result shares no memory with `bytes`.
 */
export function decodeModel(bytes: Uint8Array | ArrayBuffer): NcaModel {
  const file = asBytes(bytes);
  const total = checkHeader(file);
  return decodeChunks(file, total);
}

function asBytes(input: unknown): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer || Object.prototype.toString.call(input) === '[object ArrayBuffer]') {
    return new Uint8Array(input as ArrayBuffer);
  }
  throw new TypeError(`decodeModel expects a Uint8Array or ArrayBuffer, got ${describeType(input)}`);
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}

/** Checks the 20-byte header and the CRC; returns the total length. */
function checkHeader(file: Uint8Array): number {
  if (file.length < HEADER_SIZE) {
    const looks = matchesMagicPrefix(file) ? '' : `; it looks like ${describeBytes(file)}`;
    throw new NcaFormatError(
      'too-small',
      `file is ${file.length} bytes, shorter than the ${HEADER_SIZE}-byte .nca header${looks}`,
    );
  }
  if (!matchesMagicPrefix(file)) {
    throw new NcaFormatError('bad-magic', `not an .nca file: it looks like ${describeBytes(file)}`);
  }
  const header = new ByteReader(file, 0, HEADER_SIZE, 'header', 'too-small');
  header.skip(MAGIC.length, 'magic');
  const version = header.u16('version');
  if (version !== FORMAT_VERSION) {
    throw new NcaFormatError(
      'unsupported-version',
      `format version ${version} is not supported (this decoder reads version ${FORMAT_VERSION})` +
        (version > FORMAT_VERSION ? '; the file was written by a newer nca-canvas' : ''),
    );
  }
  const flags = header.u16('flags');
  if (flags !== 0) {
    throw new NcaFormatError('bad-flags', `header.flags is 0x${flags.toString(16)}, must be 0 in version 1`);
  }
  const total = header.u32('total length');
  if (total !== file.length) {
    const why =
      file.length < total
        ? `${total - file.length} bytes are missing (truncated download?)`
        : `${file.length - total} trailing bytes follow it`;
    throw new NcaFormatError(
      'length-mismatch',
      `header says the file is ${total} bytes but it is ${file.length} bytes: ${why}`,
    );
  }
  const stored = header.u32('crc32');
  const actual = crc32(file, CRC_START, total);
  if (stored !== actual) {
    throw new NcaFormatError(
      'bad-checksum',
      `CRC-32 mismatch: header says 0x${hex32(stored)}, bytes give 0x${hex32(actual)} (the file is corrupt)`,
    );
  }
  return total;
}

function matchesMagicPrefix(file: Uint8Array): boolean {
  const n = Math.min(file.length, MAGIC.length);
  if (n === 0) return false;
  for (let i = 0; i < n; i++) if (file[i] !== MAGIC[i]) return false;
  return true;
}

function hex32(value: number): string {
  return value.toString(16).padStart(8, '0');
}

/** A chunk type for messages: printable ASCII as is, anything else as \xNN. */
function showType(type: string): string {
  let out = '';
  for (const ch of type) {
    const c = ch.charCodeAt(0);
    out += c > 0x20 && c < 0x7f && ch !== '"' && ch !== '\\' ? ch : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `"${out}"`;
}

function decodeChunks(file: Uint8Array, total: number): NcaModel {
  const top = new ByteReader(file, HEADER_SIZE, total, '', 'truncated-chunk');
  let arch: ArchHeader | undefined;
  const layers: DenseLayer[] = [];
  let parameters = 0;
  let meta: MetaHeader | undefined;
  let start: StartState | undefined;

  const expected = (): ChunkName | 'END' => {
    if (!arch) return CHUNK_ARCH;
    if (layers.length < arch.layerCount) return CHUNK_LAYR;
    if (!meta) return CHUNK_META;
    if (meta.startKind === 'image' && !start) return CHUNK_STRT;
    return 'END';
  };
  const label = (name: ChunkName | 'END'): string => {
    if (name === CHUNK_LAYR && arch) return `LAYR[${layers.length}] (ARCH declares ${arch.layerCount} layers)`;
    if (name === CHUNK_STRT) return 'STRT (META says the start is an image)';
    return name;
  };

  while (top.remaining > 0) {
    const at = top.offset;
    const type = top.fourCC(`chunk header at offset ${at}`);
    const length = top.u32(`chunk header at offset ${at}`);
    if (length > top.remaining) {
      throw new NcaFormatError(
        'truncated-chunk',
        `chunk ${showType(type)} at offset ${at} claims ${length} bytes but only ${top.remaining} remain`,
      );
    }
    const dataStart = top.offset;
    const dataEnd = dataStart + length;
    top.skip(length, `chunk ${showType(type)}`);

    const lead = type.charCodeAt(0);
    if (lead >= 0x61 && lead <= 0x7a) {
      // Ancillary (lower-case) chunks carry optional data a newer writer may add; skip them.
      if (!arch) {
        throw new NcaFormatError('unexpected-chunk', `ancillary chunk ${showType(type)} at offset ${at} comes before ARCH`);
      }
      continue;
    }
    if (type !== CHUNK_ARCH && type !== CHUNK_LAYR && type !== CHUNK_META && type !== CHUNK_STRT) {
      throw new NcaFormatError('unexpected-chunk', `unknown critical chunk ${showType(type)} at offset ${at}`);
    }
    const want = expected();
    if (type !== want) {
      if (RANK[type] > RANK[want]) {
        throw new NcaFormatError('missing-chunk', `${label(want)} is missing: found ${type} at offset ${at}`);
      }
      const why =
        type === CHUNK_STRT
          ? 'META says the start is a seed cell'
          : type === CHUNK_LAYR && arch
            ? `ARCH declares only ${arch.layerCount} layers`
            : `${type} already appeared`;
      throw new NcaFormatError('unexpected-chunk', `unexpected ${type} chunk at offset ${at}: ${why}`);
    }
    switch (type) {
      case CHUNK_ARCH:
        arch = readArch(file, dataStart, dataEnd);
        break;
      case CHUNK_LAYR: {
        if (!arch) throw new Error('unreachable: LAYR before ARCH');
        const index = layers.length;
        const inputs = index === 0 ? arch.kernels.length * arch.channels : (layers[index - 1] as DenseLayer).outputs;
        const layer = readLayer(file, dataStart, dataEnd, index, {
          inputs,
          last: index === arch.layerCount - 1,
          channels: arch.channels,
          parametersSoFar: parameters,
        });
        parameters += layer.inputs * layer.outputs + layer.outputs;
        layers.push(layer);
        break;
      }
      case CHUNK_META:
        meta = readMeta(file, dataStart, dataEnd);
        break;
      case CHUNK_STRT:
        start = readStart(file, dataStart, dataEnd);
        break;
    }
  }
  const want = expected();
  if (want !== 'END') throw new NcaFormatError('missing-chunk', `${label(want)} is missing at the end of the file`);
  if (!arch || !meta) throw new Error('unreachable: END without ARCH and META');

  const { layerCount: _layerCount, ...archFields } = arch;
  const { startKind: _startKind, ...metaFields } = meta;
  return {
    architecture: { ...archFields, layers },
    metadata: { ...metaFields, start: start ?? { kind: 'seed' } },
  };
}

function enumByte<T>(table: readonly T[], code: number, where: string): T {
  const value = table[code];
  if (value === undefined) {
    const allowed = table.map((name, i) => `${i} ${String(name)}`).join(', ');
    throw new NcaFormatError('bad-enum', `${where} is ${code}, not one of ${allowed}`);
  }
  return value;
}

function checkRange(value: number, min: number, max: number, where: string): void {
  if (value < min || value > max) {
    throw new NcaFormatError('bad-dimension', `${where} is ${value}, must be ${min}..${max}`);
  }
}

function checkReserved(value: number, where: string): void {
  if (value !== 0) throw new NcaFormatError('bad-flags', `${where} is ${value}, must be 0`);
}

function describeNonFinite(value: number): string {
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

function checkFinite(value: number, where: string): void {
  if (!Number.isFinite(value)) throw new NcaFormatError('bad-value', `${where} is ${describeNonFinite(value)}`);
}

function checkChunkLength(where: string, actual: number, expected: number, detail: string): void {
  if (actual !== expected) {
    throw new NcaFormatError('chunk-size', `${where} is ${actual} bytes but ${detail} imply ${expected}`);
  }
}

function readArch(file: Uint8Array, start: number, end: number): ArchHeader {
  const r = new ByteReader(file, start, end, CHUNK_ARCH, 'chunk-size');
  const channels = r.u16('channels');
  const alphaChannel = r.u8('alpha channel');
  const kernelCount = r.u8('kernel count');
  const orderByte = r.u8('perception order');
  const layerCount = r.u8('layer count');
  const updateByte = r.u8('update mode');
  const granularityByte = r.u8('fire granularity');
  const aliveByte = r.u8('alive mode');
  const reserved = r.u8('reserved');
  const fireRate = r.f32('fire rate');
  const aliveThreshold = r.f32('alive threshold');

  checkRange(channels, 1, MAX_CHANNELS, 'ARCH.channels');
  if (alphaChannel >= channels) {
    throw new NcaFormatError('bad-dimension', `ARCH.alpha channel is ${alphaChannel}, outside the ${channels} state channels`);
  }
  checkRange(kernelCount, 1, MAX_KERNELS, 'ARCH.kernel count');
  checkRange(layerCount, 1, MAX_LAYERS, 'ARCH.layer count');
  const perceptionOrder = enumByte(PERCEPTION_ORDERS, orderByte, 'ARCH.perception order');
  const update = enumByte(UPDATE_MODES, updateByte, 'ARCH.update mode');
  const fireGranularity = enumByte(FIRE_GRANULARITIES, granularityByte, 'ARCH.fire granularity');
  const aliveMode = enumByte(ALIVE_MODES, aliveByte, 'ARCH.alive mode');
  checkReserved(reserved, 'ARCH.reserved');
  checkFinite(fireRate, 'ARCH.fire rate');
  if (fireRate < 0 || fireRate > 1) throw new NcaFormatError('bad-value', `ARCH.fire rate is ${fireRate}, outside 0..1`);
  checkFinite(aliveThreshold, 'ARCH.alive threshold');
  checkChunkLength(CHUNK_ARCH, end - start, ARCH_FIXED_SIZE + KERNEL_BYTES * kernelCount, `${kernelCount} kernels`);

  const kernels: Float32Array[] = [];
  for (let k = 0; k < kernelCount; k++) {
    const kernel = new Float32Array(KERNEL_SIZE);
    r.f32Array(KERNEL_SIZE, `kernels[${k}]`, kernel);
    for (let i = 0; i < KERNEL_SIZE; i++) checkFinite(kernel[i] as number, `ARCH.kernels[${k}][${i}]`);
    kernels.push(kernel);
  }
  return {
    channels,
    alphaChannel,
    kernels,
    perceptionOrder,
    layerCount,
    update,
    fireRate,
    fireGranularity,
    aliveThreshold,
    aliveMode,
  };
}

interface LayerContext {
  /** What this layer's inputs must be: K*C for layer 0, else the previous layer's outputs. */
  readonly inputs: number;
  readonly last: boolean;
  readonly channels: number;
  readonly parametersSoFar: number;
}

function readLayer(file: Uint8Array, start: number, end: number, index: number, context: LayerContext): DenseLayer {
  const where = `LAYR[${index}]`;
  const r = new ByteReader(file, start, end, where, 'chunk-size');
  const inputs = r.u16('inputs');
  const outputs = r.u16('outputs');
  const activationByte = r.u8('activation');
  const weightByte = r.u8('weight dtype');
  const biasByte = r.u8('bias dtype');
  const reserved = r.u8('reserved');

  checkReserved(reserved, `${where}.reserved`);
  const activation = enumByte(ACTIVATIONS, activationByte, `${where}.activation`);
  const weightDType = enumByte(DTYPES, weightByte, `${where}.weight dtype`);
  const biasDType = enumByte(DTYPES, biasByte, `${where}.bias dtype`);
  checkRange(inputs, 1, MAX_LAYER_WIDTH, `${where}.inputs`);
  checkRange(outputs, 1, MAX_LAYER_WIDTH, `${where}.outputs`);
  if (inputs !== context.inputs) {
    const from = index === 0 ? 'kernels x channels' : `LAYR[${index - 1}].outputs`;
    throw new NcaFormatError('shape-mismatch', `${where}.inputs is ${inputs} but ${from} is ${context.inputs}`);
  }
  if (context.last && outputs !== context.channels) {
    throw new NcaFormatError(
      'shape-mismatch',
      `${where} is the last layer and has ${outputs} outputs, but the state has ${context.channels} channels`,
    );
  }
  const count = inputs * outputs;
  const parameters = context.parametersSoFar + count + outputs;
  if (parameters > MAX_PARAMETERS) {
    throw new NcaFormatError(
      'too-large',
      `${where} brings the parameter total to ${parameters}, over the cap of ${MAX_PARAMETERS}`,
    );
  }
  const expected =
    LAYR_FIXED_SIZE + tensorByteLength(weightDType, outputs, count) + tensorByteLength(biasDType, 1, outputs);
  checkChunkLength(where, end - start, expected, `${outputs}x${inputs} ${weightDType} weights and ${biasDType} bias`);

  const weights = readTensor(r, weightDType, outputs, inputs, `${where}.weights`);
  const bias = readTensor(r, biasDType, 1, outputs, `${where}.bias`);
  return { inputs, outputs, activation, weights, bias, weightDType, biasDType };
}

/** Reads `rows` x `columns` values stored as `dtype`; the chunk length was checked by the caller. */
function readTensor(r: ByteReader, dtype: TensorDType, rows: number, columns: number, where: string): Float32Array {
  const count = rows * columns;
  const out = new Float32Array(count);
  if (dtype === 'int8') {
    readInt8Tensor(r, rows, columns, where, out);
    return out;
  }
  if (dtype === 'f32') r.f32Array(count, where, out);
  else r.f16Array(count, where, out);
  for (let i = 0; i < count; i++) {
    const v = out[i] as number;
    // `v - v` is NaN exactly for NaN and +-Infinity: one cheap test per value on the hot path.
    if (v - v !== 0) checkFinite(v, `${where}[${i}]`);
  }
  return out;
}

function readInt8Tensor(r: ByteReader, rows: number, columns: number, where: string, out: Float32Array): void {
  const scales = new Float64Array(rows);
  for (let row = 0; row < rows; row++) {
    const scale = r.f16(`scale[${row}]`);
    checkFinite(scale, `${where}.scale[${row}]`);
    if (scale < 0) throw new NcaFormatError('bad-value', `${where}.scale[${row}] is negative (${scale})`);
    scales[row] = scale;
  }
  const bytes = r.bytesView(rows * columns, 'values');
  const q = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  let i = 0;
  for (let row = 0; row < rows; row++) {
    const scale = scales[row] as number;
    for (let end = i + columns; i < end; i++) {
      const value = q[i] as number;
      if (value === -128) throw new NcaFormatError('bad-value', `${where}[${i}] is int8 -128, outside -127..127`);
      out[i] = value * scale;
    }
  }
}

function readString(r: ByteReader, max: number, where: string): string {
  const length = r.u16(`${where} length`);
  if (length > max) throw new NcaFormatError('bad-string', `META.${where} is ${length} bytes, over the cap of ${max}`);
  const bytes = r.bytesView(length, where);
  try {
    return utf8.decode(bytes);
  } catch {
    throw new NcaFormatError('bad-string', `META.${where} is not valid UTF-8`);
  }
}

function readMeta(file: Uint8Array, start: number, end: number): MetaHeader {
  const r = new ByteReader(file, start, end, CHUNK_META, 'chunk-size');
  const task = enumByte(TASKS, r.u8('task'), 'META.task');
  const startKind = enumByte(START_KINDS, r.u8('start'), 'META.start');
  const targetWidth = r.u16('target width');
  const targetHeight = r.u16('target height');
  const gridWidth = r.u16('grid width');
  const gridHeight = r.u16('grid height');
  checkRange(targetWidth, 1, MAX_IMAGE_SIDE, 'META.target width');
  checkRange(targetHeight, 1, MAX_IMAGE_SIDE, 'META.target height');
  checkRange(gridWidth, 1, MAX_GRID_SIDE, 'META.grid width');
  checkRange(gridHeight, 1, MAX_GRID_SIDE, 'META.grid height');
  const iterations = r.u32('training iterations');
  const finalLoss = r.f32('final loss');
  checkFinite(finalLoss, 'META.final loss');
  const name = readString(r, MAX_NAME_BYTES, 'name');
  const attribution = readString(r, MAX_ATTRIBUTION_BYTES, 'attribution');
  if (r.remaining !== 0) {
    throw new NcaFormatError('chunk-size', `META has ${r.remaining} bytes after its last field`);
  }
  return {
    name,
    task,
    startKind,
    targetWidth,
    targetHeight,
    gridWidth,
    gridHeight,
    training: { iterations, finalLoss },
    attribution,
  };
}

function readStart(file: Uint8Array, start: number, end: number): StartState {
  const r = new ByteReader(file, start, end, CHUNK_STRT, 'chunk-size');
  const width = r.u16('width');
  const height = r.u16('height');
  checkRange(width, 1, MAX_IMAGE_SIDE, 'STRT.width');
  checkRange(height, 1, MAX_IMAGE_SIDE, 'STRT.height');
  checkChunkLength(CHUNK_STRT, end - start, STRT_FIXED_SIZE + width * height * 4, `${width}x${height} RGBA pixels`);
  // A copy, never a view of the file: a Node Buffer's slice() is a view, Uint8Array.from is not.
  const rgba = Uint8Array.from(r.bytesView(width * height * 4, 'pixels'));
  for (let i = 0; i < rgba.length; i += 4) {
    const alpha = rgba[i + 3] as number;
    if ((rgba[i] as number) > alpha || (rgba[i + 1] as number) > alpha || (rgba[i + 2] as number) > alpha) {
      const pixel = i / 4;
      throw new NcaFormatError(
        'bad-value',
        `STRT pixel (${pixel % width}, ${Math.floor(pixel / width)}) has a colour above its alpha ` +
          `(rgba ${rgba[i]}, ${rgba[i + 1]}, ${rgba[i + 2]}, ${alpha}): pixels must be premultiplied`,
      );
    }
  }
  return { kind: 'image', width, height, rgba };
}
