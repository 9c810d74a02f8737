/**
 * Checks a decoded-form model against the same rules the decoder enforces, so `encodeModel` never
 * writes a file `decodeModel` would reject. Wrong JS types (a plain array for weights, a missing
 * field) throw `TypeError`; everything the spec's error table covers throws `NcaFormatError` with
 * the matching code.
 */
import {
  ACTIVATIONS,
  ALIVE_MODES,
  DTYPES,
  FIRE_GRANULARITIES,
  KERNEL_SIZE,
  MAX_ATTRIBUTION_BYTES,
  MAX_CHANNELS,
  MAX_GRID_SIDE,
  MAX_IMAGE_SIDE,
  MAX_ITERATIONS,
  MAX_KERNELS,
  MAX_LAYERS,
  MAX_LAYER_WIDTH,
  MAX_NAME_BYTES,
  MAX_PARAMETERS,
  PERCEPTION_ORDERS,
  TASKS,
  UPDATE_MODES,
} from './constants.js';
import { NcaFormatError } from './errors.js';
import { countParameters } from './parameters.js';
import type { Architecture, DenseLayer, ModelMetadata, NcaModel, StartState } from './types.js';

function requireObject(value: unknown, where: string): void {
  if (typeof value !== 'object' || value === null) throw new TypeError(`${where} must be an object, got ${String(value)}`);
}

function requireNumber(value: unknown, where: string): asserts value is number {
  if (typeof value !== 'number') throw new TypeError(`${where} must be a number, got ${typeof value}`);
}

function checkInteger(value: unknown, min: number, max: number, where: string): asserts value is number {
  requireNumber(value, where);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new NcaFormatError('bad-dimension', `${where} is ${value}, must be an integer in ${min}..${max}`);
  }
}

function checkEnum(value: unknown, allowed: readonly string[], where: string): void {
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw new NcaFormatError('bad-enum', `${where} is ${JSON.stringify(value)}, not one of ${allowed.join(', ')}`);
  }
}

/** Finite as a double and still finite once stored as f32 (1e39 is not). */
function checkF32(value: unknown, where: string): asserts value is number {
  requireNumber(value, where);
  if (!Number.isFinite(Math.fround(value))) {
    throw new NcaFormatError('bad-value', `${where} is ${value}, not a finite float32`);
  }
}

function checkFloats(values: unknown, length: number, where: string): asserts values is Float32Array {
  if (!(values instanceof Float32Array)) {
    throw new TypeError(`${where} must be a Float32Array, got ${describeType(values)}`);
  }
  if (values.length !== length) {
    throw new NcaFormatError('shape-mismatch', `${where} has ${values.length} values, expected ${length}`);
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) throw new NcaFormatError('bad-value', `${where}[${i}] is ${v}`);
  }
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}

/** UTF-8 bytes of a string, refusing lone surrogates (TextEncoder would silently write U+FFFD). */
export function utf8Bytes(value: unknown, max: number, where: string): Uint8Array {
  if (typeof value !== 'string') throw new TypeError(`${where} must be a string, got ${typeof value}`);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      throw new NcaFormatError('bad-string', `${where} has a lone surrogate at index ${i}`);
    }
    if (c >= 0xdc00 && c <= 0xdfff) throw new NcaFormatError('bad-string', `${where} has a lone surrogate at index ${i}`);
  }
  const bytes = new TextEncoder().encode(value);
  if (bytes.length > max) {
    throw new NcaFormatError('bad-string', `${where} is ${bytes.length} UTF-8 bytes, over the cap of ${max}`);
  }
  return bytes;
}

export function validateArchitecture(arch: Architecture): void {
  requireObject(arch, 'architecture');
  checkInteger(arch.channels, 1, MAX_CHANNELS, 'architecture.channels');
  checkInteger(arch.alphaChannel, 0, MAX_CHANNELS - 1, 'architecture.alphaChannel');
  if (arch.alphaChannel >= arch.channels) {
    throw new NcaFormatError(
      'bad-dimension',
      `architecture.alphaChannel is ${arch.alphaChannel}, outside the ${arch.channels} state channels`,
    );
  }
  if (!Array.isArray(arch.kernels)) throw new TypeError('architecture.kernels must be an array');
  checkInteger(arch.kernels.length, 1, MAX_KERNELS, 'architecture.kernels.length');
  arch.kernels.forEach((kernel, k) => checkFloats(kernel, KERNEL_SIZE, `architecture.kernels[${k}]`));
  checkEnum(arch.perceptionOrder, PERCEPTION_ORDERS, 'architecture.perceptionOrder');
  checkEnum(arch.update, UPDATE_MODES, 'architecture.update');
  checkEnum(arch.fireGranularity, FIRE_GRANULARITIES, 'architecture.fireGranularity');
  checkEnum(arch.aliveMode, ALIVE_MODES, 'architecture.aliveMode');
  checkF32(arch.fireRate, 'architecture.fireRate');
  if (!(arch.fireRate >= 0 && arch.fireRate <= 1)) {
    throw new NcaFormatError('bad-value', `architecture.fireRate is ${arch.fireRate}, outside 0..1`);
  }
  checkF32(arch.aliveThreshold, 'architecture.aliveThreshold');
  validateLayers(arch.layers, arch.kernels.length * arch.channels, arch.channels);
}

function validateLayers(layers: readonly DenseLayer[], firstInputs: number, channels: number): void {
  if (!Array.isArray(layers)) throw new TypeError('architecture.layers must be an array');
  checkInteger(layers.length, 1, MAX_LAYERS, 'architecture.layers.length');
  let expectedInputs = firstInputs;
  layers.forEach((layer: DenseLayer, i) => {
    const where = `layers[${i}]`;
    requireObject(layer, where);
    checkInteger(layer.inputs, 1, MAX_LAYER_WIDTH, `${where}.inputs`);
    checkInteger(layer.outputs, 1, MAX_LAYER_WIDTH, `${where}.outputs`);
    if (layer.inputs !== expectedInputs) {
      const from = i === 0 ? 'kernels x channels' : `layers[${i - 1}].outputs`;
      throw new NcaFormatError('shape-mismatch', `${where}.inputs is ${layer.inputs} but ${from} is ${expectedInputs}`);
    }
    if (i === layers.length - 1 && layer.outputs !== channels) {
      throw new NcaFormatError(
        'shape-mismatch',
        `${where} is the last layer and has ${layer.outputs} outputs, but the state has ${channels} channels`,
      );
    }
    checkEnum(layer.activation, ACTIVATIONS, `${where}.activation`);
    checkEnum(layer.weightDType, DTYPES, `${where}.weightDType`);
    checkEnum(layer.biasDType, DTYPES, `${where}.biasDType`);
    expectedInputs = layer.outputs;
  });
  // Before touching the (possibly huge) tensors.
  const parameters = countParameters(layers);
  if (parameters > MAX_PARAMETERS) {
    throw new NcaFormatError('too-large', `the layers hold ${parameters} parameters, over the cap of ${MAX_PARAMETERS}`);
  }
  layers.forEach((layer, i) => {
    checkFloats(layer.weights, layer.inputs * layer.outputs, `layers[${i}].weights`);
    checkFloats(layer.bias, layer.outputs, `layers[${i}].bias`);
  });
}

function validateStart(start: StartState): void {
  requireObject(start, 'metadata.start');
  checkEnum(start.kind, ['seed', 'image'], 'metadata.start.kind');
  if (start.kind !== 'image') return;
  checkInteger(start.width, 1, MAX_IMAGE_SIDE, 'metadata.start.width');
  checkInteger(start.height, 1, MAX_IMAGE_SIDE, 'metadata.start.height');
  const rgba: unknown = start.rgba;
  if (!(rgba instanceof Uint8Array) && !(rgba instanceof Uint8ClampedArray)) {
    throw new TypeError(`metadata.start.rgba must be a Uint8Array, got ${describeType(rgba)}`);
  }
  const expected = start.width * start.height * 4;
  if (rgba.length !== expected) {
    throw new NcaFormatError('shape-mismatch', `metadata.start.rgba has ${rgba.length} bytes, expected ${expected}`);
  }
  for (let i = 0; i < rgba.length; i += 4) {
    const a = rgba[i + 3] as number;
    if ((rgba[i] as number) > a || (rgba[i + 1] as number) > a || (rgba[i + 2] as number) > a) {
      const pixel = i / 4;
      throw new NcaFormatError(
        'bad-value',
        `metadata.start.rgba pixel (${pixel % start.width}, ${Math.floor(pixel / start.width)}) has a colour ` +
          'above its alpha: pixels must be premultiplied',
      );
    }
  }
}

export function validateMetadata(metadata: ModelMetadata): void {
  requireObject(metadata, 'metadata');
  utf8Bytes(metadata.name, MAX_NAME_BYTES, 'metadata.name');
  utf8Bytes(metadata.attribution, MAX_ATTRIBUTION_BYTES, 'metadata.attribution');
  checkEnum(metadata.task, TASKS, 'metadata.task');
  checkInteger(metadata.targetWidth, 1, MAX_IMAGE_SIDE, 'metadata.targetWidth');
  checkInteger(metadata.targetHeight, 1, MAX_IMAGE_SIDE, 'metadata.targetHeight');
  checkInteger(metadata.gridWidth, 1, MAX_GRID_SIDE, 'metadata.gridWidth');
  checkInteger(metadata.gridHeight, 1, MAX_GRID_SIDE, 'metadata.gridHeight');
  requireObject(metadata.training, 'metadata.training');
  const { iterations, finalLoss } = metadata.training;
  requireNumber(iterations, 'metadata.training.iterations');
  if (!Number.isInteger(iterations) || iterations < 0 || iterations > MAX_ITERATIONS) {
    throw new NcaFormatError('bad-value', `metadata.training.iterations is ${iterations}, must be an integer in 0..2^32-1`);
  }
  checkF32(finalLoss, 'metadata.training.finalLoss');
  validateStart(metadata.start);
}

/**
 * Throws unless `model` can be written as a `.nca` file (and so would decode again). Values stored
 * as f32 scalars (fire rate, alive threshold, final loss) decode as `Math.fround` of what was given.
 */
export function validateModel(model: NcaModel): void {
  requireObject(model, 'model');
  validateArchitecture(model.architecture);
  validateMetadata(model.metadata);
}
