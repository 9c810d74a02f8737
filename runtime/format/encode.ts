/** `NcaModel` -> `.nca` bytes (docs/format.md). */
import {
  ACTIVATIONS,
  ALIVE_MODES,
  ARCH_FIXED_SIZE,
  CHUNK_ARCH,
  CHUNK_HEADER_SIZE,
  CHUNK_LAYR,
  CHUNK_META,
  CHUNK_STRT,
  CRC_START,
  DTYPES,
  FIRE_GRANULARITIES,
  FORMAT_VERSION,
  HEADER_SIZE,
  KERNEL_BYTES,
  LAYR_FIXED_SIZE,
  MAGIC,
  MAX_ATTRIBUTION_BYTES,
  MAX_NAME_BYTES,
  META_FIXED_SIZE,
  PERCEPTION_ORDERS,
  START_KINDS,
  STRT_FIXED_SIZE,
  TASKS,
  UPDATE_MODES,
  tensorByteLength,
} from './constants.js';
import { crc32 } from './crc32.js';
import { NcaFormatError } from './errors.js';
import { F16_MAX, numberToF16Bits } from './float16.js';
import { quantizeRow } from './quantize.js';
import type { DenseLayer, NcaModel, TensorDType } from './types.js';
import { utf8Bytes, validateModel } from './validate.js';
import { ByteWriter } from './writer.js';

export interface EncodeOptions {
  /** Store every layer's weights in this precision instead of each layer's own `weightDType`. */
  readonly precision?: TensorDType;
  /**
   * Store every layer's bias in this precision instead of each layer's own `biasDType`. Defaults to
   * `precision` when only that is given, so `{ precision: 'int8' }` means a whole int8 model.
   */
  readonly biasPrecision?: TensorDType;
}

interface LayerPlan {
  readonly layer: DenseLayer;
  readonly weightDType: TensorDType;
  readonly biasDType: TensorDType;
  readonly dataLength: number;
}

function code<T>(table: readonly T[], value: T): number {
  // The model was validated, so every enum value is in its table.
  return table.indexOf(value);
}

function checkOption(value: unknown, where: string): void {
  if (value !== undefined && !(DTYPES as readonly unknown[]).includes(value)) {
    throw new NcaFormatError('bad-enum', `${where} is ${JSON.stringify(value)}, not one of ${DTYPES.join(', ')}`);
  }
}

/**
 * Encodes a model as a `.nca` file. The model is validated first (see `validateModel`), so an
 * invalid model throws (`NcaFormatError`, or `TypeError` for wrong JS types) and is never written.
 * Lossy precisions: f16 rounds to nearest even (a value beyond +-65504 throws `bad-value`); int8
 * stores one f16 scale per row (per output for weights, one for the bias) and `q` in -127..127.
 * The same model and options always give the same bytes.
 */
export function encodeModel(model: NcaModel, options: EncodeOptions = {}): Uint8Array {
  validateModel(model);
  checkOption(options.precision, 'options.precision');
  checkOption(options.biasPrecision, 'options.biasPrecision');
  const { architecture: arch, metadata } = model;

  const plans: LayerPlan[] = arch.layers.map((layer) => {
    const weightDType = options.precision ?? layer.weightDType;
    const biasDType = options.biasPrecision ?? options.precision ?? layer.biasDType;
    const dataLength =
      LAYR_FIXED_SIZE +
      tensorByteLength(weightDType, layer.outputs, layer.inputs * layer.outputs) +
      tensorByteLength(biasDType, 1, layer.outputs);
    return { layer, weightDType, biasDType, dataLength };
  });
  const name = utf8Bytes(metadata.name, MAX_NAME_BYTES, 'metadata.name');
  const attribution = utf8Bytes(metadata.attribution, MAX_ATTRIBUTION_BYTES, 'metadata.attribution');
  const archLength = ARCH_FIXED_SIZE + KERNEL_BYTES * arch.kernels.length;
  const metaLength = META_FIXED_SIZE + name.length + attribution.length;
  const start = metadata.start;
  const startLength = start.kind === 'image' ? STRT_FIXED_SIZE + start.rgba.length : 0;

  let total = HEADER_SIZE + CHUNK_HEADER_SIZE + archLength + CHUNK_HEADER_SIZE + metaLength;
  for (const plan of plans) total += CHUNK_HEADER_SIZE + plan.dataLength;
  if (start.kind === 'image') total += CHUNK_HEADER_SIZE + startLength;

  const w = new ByteWriter(total);
  w.bytesFrom(MAGIC);
  w.u16(FORMAT_VERSION);
  w.u16(0); // flags
  w.u32(total);
  w.u32(0); // CRC, patched below

  w.fourCC(CHUNK_ARCH);
  w.u32(archLength);
  w.u16(arch.channels);
  w.u8(arch.alphaChannel);
  w.u8(arch.kernels.length);
  w.u8(code(PERCEPTION_ORDERS, arch.perceptionOrder));
  w.u8(arch.layers.length);
  w.u8(code(UPDATE_MODES, arch.update));
  w.u8(code(FIRE_GRANULARITIES, arch.fireGranularity));
  w.u8(code(ALIVE_MODES, arch.aliveMode));
  w.u8(0); // reserved
  w.f32(arch.fireRate);
  w.f32(arch.aliveThreshold);
  for (const kernel of arch.kernels) for (const v of kernel) w.f32(v);

  plans.forEach((plan, i) => {
    const { layer } = plan;
    w.fourCC(CHUNK_LAYR);
    w.u32(plan.dataLength);
    w.u16(layer.inputs);
    w.u16(layer.outputs);
    w.u8(code(ACTIVATIONS, layer.activation));
    w.u8(code(DTYPES, plan.weightDType));
    w.u8(code(DTYPES, plan.biasDType));
    w.u8(0); // reserved
    writeTensor(w, plan.weightDType, layer.weights, layer.outputs, layer.inputs, `layers[${i}].weights`);
    writeTensor(w, plan.biasDType, layer.bias, 1, layer.outputs, `layers[${i}].bias`);
  });

  w.fourCC(CHUNK_META);
  w.u32(metaLength);
  w.u8(code(TASKS, metadata.task));
  w.u8(code(START_KINDS, start.kind));
  w.u16(metadata.targetWidth);
  w.u16(metadata.targetHeight);
  w.u16(metadata.gridWidth);
  w.u16(metadata.gridHeight);
  w.u32(metadata.training.iterations);
  w.f32(metadata.training.finalLoss);
  w.u16(name.length);
  w.bytesFrom(name);
  w.u16(attribution.length);
  w.bytesFrom(attribution);

  if (start.kind === 'image') {
    w.fourCC(CHUNK_STRT);
    w.u32(startLength);
    w.u16(start.width);
    w.u16(start.height);
    w.bytesFrom(start.rgba);
  }

  if (w.offset !== total) throw new Error(`encodeModel wrote ${w.offset} bytes, planned ${total}`);
  w.patchU32(16, crc32(w.bytes, CRC_START, total));
  return w.bytes;
}

function writeTensor(
  w: ByteWriter,
  dtype: TensorDType,
  values: Float32Array,
  rows: number,
  columns: number,
  where: string,
): void {
  if (dtype === 'f32') {
    for (const v of values) w.f32(v);
    return;
  }
  if (dtype === 'f16') {
    values.forEach((v, i) => {
      const bits = numberToF16Bits(v);
      if ((bits & 0x7c00) === 0x7c00) {
        throw new NcaFormatError('bad-value', `${where}[${i}] is ${v}, which does not fit in f16 (max ${F16_MAX})`);
      }
      w.u16(bits);
    });
    return;
  }
  const quantized = [];
  for (let row = 0; row < rows; row++) {
    const q = quantizeRow(values, row * columns, (row + 1) * columns);
    if (!q) {
      throw new NcaFormatError(
        'bad-value',
        `${where} row ${row} is too large for an f16 int8 scale (max |value| about ${F16_MAX * 127})`,
      );
    }
    quantized.push(q);
  }
  for (const q of quantized) w.u16(numberToF16Bits(q.scale));
  for (const q of quantized) w.bytesFrom(new Uint8Array(q.q.buffer, q.q.byteOffset, q.q.length));
}
