import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { roundToF16 } from '../../runtime/format/float16.js';
import {
  createArchitecture,
  createModel,
  decodeModel,
  encodeModel,
  NcaFormatError,
  type DenseLayer,
  type NcaModel,
} from '../../runtime/format/index.js';
import { assertFormatError, editChunk, joinFile, sampleModel, splitFile } from './format-helpers.js';

function withLayers(model: NcaModel, edit: (layers: DenseLayer[]) => DenseLayer[]): NcaModel {
  return {
    ...model,
    architecture: { ...model.architecture, layers: edit([...model.architecture.layers]) },
  };
}

describe('round trip', () => {
  test('f32 is exact: the decoded model deep-equals the original', () => {
    const model = sampleModel();
    assert.deepStrictEqual(decodeModel(encodeModel(model)), model);
  });

  test('essay rule with an image start round-trips exactly', () => {
    const model = sampleModel({ rule: 'essay', image: true, seed: 7 });
    assert.equal(model.metadata.start.kind, 'image');
    assert.deepStrictEqual(decodeModel(encodeModel(model)), model);
  });

  test('same model and options give the same bytes', () => {
    const model = sampleModel();
    assert.deepStrictEqual(encodeModel(model, { precision: 'int8' }), encodeModel(model, { precision: 'int8' }));
  });

  test('f16: every value is the nearest half, so |error| <= |w| * 2^-11 (normal) or 2^-25 (subnormal)', () => {
    const model = sampleModel({ seed: 3 });
    const decoded = decodeModel(encodeModel(model, { precision: 'f16', biasPrecision: 'f16' }));
    decoded.architecture.layers.forEach((layer, l) => {
      const original = model.architecture.layers[l] as DenseLayer;
      assert.equal(layer.weightDType, 'f16');
      assert.equal(layer.biasDType, 'f16');
      for (const [got, want] of [
        [layer.weights, original.weights],
        [layer.bias, original.bias],
      ] as const) {
        want.forEach((w, i) => {
          const v = got[i] as number;
          assert.equal(v, roundToF16(w));
          const bound = Math.abs(w) >= 2 ** -14 ? Math.abs(w) * 2 ** -11 : 2 ** -25;
          assert.ok(Math.abs(v - w) <= bound, `layer ${l} [${i}]: ${v} vs ${w}`);
        });
      }
    });
  });

  test('int8: per row, value = q * scale with |q| <= 127 and |error| <= scale / 2 (scale = f16(maxabs/127))', () => {
    const model = sampleModel({ seed: 4 });
    const decoded = decodeModel(encodeModel(model, { precision: 'int8', biasPrecision: 'int8' }));
    decoded.architecture.layers.forEach((layer, l) => {
      const original = model.architecture.layers[l] as DenseLayer;
      assert.equal(layer.weightDType, 'int8');
      assert.equal(layer.biasDType, 'int8');
      const check = (got: Float32Array, want: Float32Array, rows: number, columns: number): void => {
        for (let r = 0; r < rows; r++) {
          let maxAbs = 0;
          for (let c = 0; c < columns; c++) maxAbs = Math.max(maxAbs, Math.abs(want[r * columns + c] as number));
          const scale = roundToF16(maxAbs / 127);
          for (let c = 0; c < columns; c++) {
            const i = r * columns + c;
            const q = (got[i] as number) / scale;
            assert.ok(Number.isInteger(q) && Math.abs(q) <= 127, `layer ${l} [${i}] q=${q}`);
            const error = Math.abs((got[i] as number) - (want[i] as number));
            assert.ok(error <= scale / 2 + 1e-12, `layer ${l} [${i}] error ${error} > ${scale / 2}`);
          }
        }
      };
      check(layer.weights, original.weights, layer.outputs, layer.inputs);
      check(layer.bias, original.bias, 1, layer.outputs);
    });
  });

  test('int8: an all-zero row and a row too small for an f16 scale decode as zeros', () => {
    const model = withLayers(sampleModel(), (layers) => {
      const first = layers[0] as DenseLayer;
      const weights = first.weights.slice();
      weights.fill(0, 0, first.inputs);
      weights.fill(1e-9, first.inputs, 2 * first.inputs);
      layers[0] = { ...first, weights };
      return layers;
    });
    const layer = decodeModel(encodeModel(model, { precision: 'int8' })).architecture.layers[0] as DenseLayer;
    for (let i = 0; i < 2 * layer.inputs; i++) assert.equal(layer.weights[i], 0);
  });

  test('per-layer dtypes are kept and reported; options override them', () => {
    const base = sampleModel();
    const model = withLayers(base, (layers) => [
      { ...(layers[0] as DenseLayer), weightDType: 'int8', biasDType: 'f16' },
      { ...(layers[1] as DenseLayer), weightDType: 'f16', biasDType: 'f32' },
    ]);
    const kept = decodeModel(encodeModel(model)).architecture.layers;
    assert.deepEqual(
      kept.map((l) => [l.weightDType, l.biasDType]),
      [
        ['int8', 'f16'],
        ['f16', 'f32'],
      ],
    );
    const overridden = decodeModel(encodeModel(model, { precision: 'f32', biasPrecision: 'int8' })).architecture.layers;
    assert.deepEqual(
      overridden.map((l) => [l.weightDType, l.biasDType]),
      [
        ['f32', 'int8'],
        ['f32', 'int8'],
      ],
    );
  });

  test('ancillary chunks anywhere after ARCH are skipped', () => {
    const model = sampleModel({ image: true });
    const file = splitFile(encodeModel(model));
    const note = (text: string): { type: string; data: Uint8Array } => ({ type: 'tEXt', data: new TextEncoder().encode(text) });
    for (let at = 1; at <= file.chunks.length; at++) {
      const chunks = [...file.chunks];
      chunks.splice(at, 0, note(`note ${at}`), { type: 'zzzz', data: new Uint8Array(0) });
      assert.deepStrictEqual(decodeModel(joinFile({ ...file, chunks })), model);
    }
  });

  test('accepts an ArrayBuffer, a Node Buffer and a Uint8Array view with an offset', () => {
    const model = sampleModel();
    const bytes = encodeModel(model);
    assert.deepStrictEqual(decodeModel(bytes.slice().buffer), model);
    assert.deepStrictEqual(decodeModel(Buffer.from(bytes)), model);
    const padded = new Uint8Array(bytes.length + 13);
    padded.set(bytes, 7);
    assert.deepStrictEqual(decodeModel(padded.subarray(7, 7 + bytes.length)), model);
    assert.throws(() => decodeModel('not bytes' as unknown as Uint8Array), TypeError);
  });

  test('the decoded model shares no memory with the input bytes', () => {
    const model = sampleModel({ image: true });
    const bytes = encodeModel(model);
    const decoded = decodeModel(bytes);
    bytes.fill(0);
    assert.deepStrictEqual(decoded, model);
    // A Node Buffer too, whose slice() is a view: the start image once aliased the file this way.
    const file = Buffer.from(encodeModel(model));
    const fromBuffer = decodeModel(file);
    file.fill(0);
    assert.deepStrictEqual(fromBuffer, model);
  });
});

describe('encodeModel refuses invalid models', () => {
  const model = sampleModel();

  test('NaN weight: bad-value naming the layer and index', () => {
    const bad = withLayers(model, (layers) => {
      const weights = (layers[1] as DenseLayer).weights.slice();
      weights[37] = NaN;
      layers[1] = { ...(layers[1] as DenseLayer), weights };
      return layers;
    });
    assertFormatError(() => encodeModel(bad), 'bad-value', /layers\[1\]\.weights\[37\] is NaN/);
  });

  test('a weight beyond f16 range stored as f16, or beyond an f16 int8 scale', () => {
    const big = (value: number): NcaModel =>
      withLayers(model, (layers) => {
        const weights = (layers[0] as DenseLayer).weights.slice();
        weights[5] = value;
        layers[0] = { ...(layers[0] as DenseLayer), weights };
        return layers;
      });
    assertFormatError(() => encodeModel(big(70000), { precision: 'f16' }), 'bad-value', /layers\[0\]\.weights\[5\].*f16/);
    assert.doesNotThrow(() => encodeModel(big(65504), { precision: 'f16' }));
    assertFormatError(() => encodeModel(big(1e7), { precision: 'int8' }), 'bad-value', /layers\[0\]\.weights row 0/);
  });

  test('shape, size, enum, string and type errors', () => {
    assertFormatError(
      () => encodeModel(withLayers(model, (l) => [{ ...(l[0] as DenseLayer), weights: new Float32Array(3) }, l[1] as DenseLayer])),
      'shape-mismatch',
    );
    assertFormatError(() => encodeModel(withLayers(model, (l) => [l[1] as DenseLayer])), 'shape-mismatch');
    assertFormatError(() => encodeModel(withLayers(model, () => [])), 'bad-dimension');
    assert.throws(
      () => encodeModel(withLayers(model, (l) => [{ ...(l[0] as DenseLayer), bias: [0] as unknown as Float32Array }, l[1] as DenseLayer])),
      TypeError,
    );
    assertFormatError(
      () => encodeModel(withLayers(model, (l) => [{ ...(l[0] as DenseLayer), activation: 'gelu' as 'relu' }, l[1] as DenseLayer])),
      'bad-enum',
    );
    assertFormatError(() => encodeModel(model, { precision: 'int4' as 'int8' }), 'bad-enum', /options\.precision/);
    assertFormatError(() => encodeModel({ ...model, metadata: { ...model.metadata, name: 'x'.repeat(257) } }), 'bad-string');
    assertFormatError(() => encodeModel({ ...model, metadata: { ...model.metadata, attribution: 'a\ud800b' } }), 'bad-string', /surrogate/);
    assertFormatError(
      () => encodeModel({ ...model, architecture: { ...model.architecture, fireRate: 1.5 } }),
      'bad-value',
      /fireRate/,
    );
    assertFormatError(
      () => encodeModel({ ...model, architecture: { ...model.architecture, alphaChannel: 16 } }),
      'bad-dimension',
    );
    assertFormatError(() => encodeModel({ ...model, metadata: { ...model.metadata, gridWidth: 1025 } }), 'bad-dimension');
    assertFormatError(
      () => encodeModel({ ...model, metadata: { ...model.metadata, training: { iterations: -1, finalLoss: 0 } } }),
      'bad-value',
    );
    assertFormatError(
      () => encodeModel({ ...model, metadata: { ...model.metadata, training: { iterations: 1, finalLoss: 1e39 } } }),
      'bad-value',
    );
  });

  test('a parameter total over the cap is refused before the tensors are read', () => {
    const wide = (inputs: number, outputs: number): DenseLayer => ({
      inputs,
      outputs,
      activation: 'relu',
      weights: new Float32Array(0),
      bias: new Float32Array(0),
      weightDType: 'f32',
      biasDType: 'f32',
    });
    const layers = [wide(48, 1024), wide(1024, 1024), wide(1024, 1024), wide(1024, 1024), wide(1024, 1024), wide(1024, 16)];
    assertFormatError(() => encodeModel(withLayers(model, () => layers)), 'too-large');
  });

  test('an encoded STRT with colour above alpha is refused', () => {
    const rgba = new Uint8Array([10, 0, 0, 5]);
    const arch = createArchitecture({ rule: 'distill', channels: 4, hidden: 4, random: () => 0.5 });
    assertFormatError(() => createModel(arch, { start: { kind: 'image', width: 1, height: 1, rgba } }), 'bad-value', /premultiplied/);
  });

  test('the encoder and decoder agree: editing a valid file into an invalid one is caught by decode', () => {
    const bytes = encodeModel(model);
    const broken = editChunk(bytes, 'ARCH', (_data, view) => view.setFloat32(10, 2, true));
    assert.throws(() => decodeModel(broken), NcaFormatError);
  });
});
