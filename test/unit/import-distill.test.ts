/**
 * `nca import distill`: the conversion of the Distill article's published models (fixture:
 * test/fixtures/distill/ex3_1f98e.json, the regenerating lizard, CC-BY 4.0, see NOTICE), its
 * typed errors, a run of the converted model with the reference step, and the command itself.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { decodeModel, encodeModel } from '../../runtime/format/index.js';
import { hasNonFinite, runSteps, seedState } from '../../runtime/reference/index.js';
import { TrainerError } from '../../trainer/errors.js';
import {
  DISTILL_CREDIT,
  dequantizeByte,
  importDistillModel,
  parseDistillFileName,
  parseDistillLayers,
} from '../../trainer/import/distill.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/distill/ex3_1f98e.json', import.meta.url));
const TEXT = readFileSync(FIXTURE, 'utf8');
const LAYERS = JSON.parse(TEXT) as Array<Record<string, unknown>>;

/** The fixture with one layer's fields changed (or the whole list replaced). */
function mutated(change: (layers: Array<Record<string, unknown>>) => unknown): string {
  return JSON.stringify(change(structuredClone(LAYERS)));
}

function assertCode(text: string, code: string, options = { fileName: 'ex3_1f98e.json' }): void {
  assert.throws(
    () => importDistillModel(text, options),
    (error: unknown) => error instanceof TrainerError && error.code === code,
    `expected TrainerError ${code}`,
  );
}

describe('importDistillModel: values', () => {
  const { model } = importDistillModel(TEXT, { fileName: 'ex3_1f98e.json' });
  const [hidden, output] = model.architecture.layers as [NonNullable<(typeof model.architecture.layers)[0]>, NonNullable<(typeof model.architecture.layers)[1]>];

  test('dequantises bytes as (b / 255 - 0.5) * scale, transposed to W[o][i], the last row the bias', () => {
    // Bytes read off the fixture by hand (base64 of layer 0 starts "lnun": 150, 123, 167); scales
    // from its JSON: layer 0 weight 1.1909914016723633, bias 0.37608829140663147; layer 1 weight
    // 1.082298755645752, bias 0.163871631026268. Values worked out as (b / 255 - 0.5) * scale.
    const cases: Array<[Float32Array, number, number]> = [
      // [tensor, index in W[o][i] or bias, expected]
      [hidden.weights, 0 * 48 + 0, 0.105087477], // M[0][0] = 150
      [hidden.weights, 1 * 48 + 0, -0.0210174953], // M[0][1] = 123
      [hidden.weights, 0 * 48 + 1, -0.226521894], // M[1][0] = 79
      [hidden.weights, 127 * 48 + 47, 0.184486903], // M[47][127] = 167
      [hidden.bias, 0, 0.0199105566], // M[48][0] = 141, bias scale
      [hidden.bias, 127, 0.0435082533], // M[48][127] = 157
      [output.weights, 0 * 128 + 0, 0.00212215442], // M[0][0] = 128: just above 0 (no byte is exactly 0)
      [output.weights, 1 * 128 + 0, 0.137940037], // M[0][1] = 160
      [output.weights, 0 * 128 + 1, -0.00212215442], // M[1][0] = 127
      [output.weights, 15 * 128 + 127, -0.0190993898], // M[127][15] = 123
      [output.bias, 0, -0.00417712001], // M[128][0] = 121
      [output.bias, 15, 0.0112460923], // M[128][15] = 145
    ];
    for (const [tensor, index, expected] of cases) assert.ok(Math.abs((tensor[index] as number) - expected) < 1e-8, `value ${index}: ${tensor[index]} vs ${expected}`);
    assert.equal(dequantizeByte(150, 1.1909914016723633), hidden.weights[0]);
  });

  test("the Distill rule: kernel-major, relu 128, residual, per-cell 0.5, max-pool 0.1, the article's geometry and credit", () => {
    const a = model.architecture;
    assert.equal(a.perceptionOrder, 'kernel-major');
    assert.deepEqual(a.kernels.map((k) => Array.from(k)), [
      [0, 0, 0, 0, 1, 0, 0, 0, 0],
      [-0.125, 0, 0.125, -0.25, 0, 0.25, -0.125, 0, 0.125],
      [-0.125, -0.25, -0.125, 0, 0, 0, 0.125, 0.25, 0.125],
    ]);
    assert.deepEqual(a.layers.map((l) => [l.inputs, l.outputs, l.activation, l.weightDType, l.biasDType]), [
      [48, 128, 'relu', 'int8', 'int8'],
      [128, 16, 'identity', 'int8', 'int8'],
    ]);
    assert.deepEqual([a.update, a.fireRate, a.fireGranularity, a.aliveMode, a.aliveThreshold], ['residual', 0.5, 'cell', 'max-pool', Math.fround(0.1)]);
    const m = model.metadata;
    assert.deepEqual([m.task, m.targetWidth, m.gridWidth, m.gridHeight, m.start.kind], ['healing', 40, 72, 72, 'seed']);
    assert.equal(m.name, '🦎 lizard (Distill, regenerating)');
    assert.ok(m.attribution.startsWith(DISTILL_CREDIT));
    assert.match(m.attribution, /Mordvintsev, Randazzo, Niklasson, Levin, "Growing Neural Cellular Automata", Distill 2020, CC-BY 4\.0/);
  });

  test('int8 keeps the size goal, and every value within half a step of its row (about the file\'s own step)', () => {
    const bytes = encodeModel(model);
    assert.ok(bytes.length <= 9000, `${bytes.length} bytes`);
    const stored = decodeModel(bytes);
    model.architecture.layers.forEach((layer, l) => {
      const storedLayer = stored.architecture.layers[l]!;
      for (let o = 0; o < layer.outputs; o++) {
        const row = layer.weights.subarray(o * layer.inputs, (o + 1) * layer.inputs);
        const halfStep = Math.max(...row.map(Math.abs)) / 254;
        for (let i = 0; i < layer.inputs; i++) {
          const diff = Math.abs(storedLayer.weights[o * layer.inputs + i]! - row[i]!);
          assert.ok(diff <= halfStep * 1.001, `layer ${l} W[${o}][${i}] moved ${diff} > ${halfStep}`);
        }
      }
    });
    const f32 = decodeModel(encodeModel(importDistillModel(TEXT, { fileName: 'ex3_1f98e.json', precision: 'f32' }).model));
    assert.deepEqual(f32.architecture.layers[0]!.weights, hidden.weights);
  });

  test('grows from one seed cell with the reference step: a green, bounded creature, no NaN', () => {
    // 48 x 48 keeps the test quick; the lizard (40 x 40 in training) still fits.
    const stored = decodeModel(encodeModel(model));
    const state = runSteps(stored.architecture, seedState(stored.architecture, 48, 48), { seed: 0, steps: 60 });
    assert.ok(!hasNonFinite(state));
    let alive = 0;
    let outerAlive = 0;
    const sum = [0, 0, 0];
    for (let y = 0; y < 48; y++) {
      for (let x = 0; x < 48; x++) {
        const cell = (y * 48 + x) * 16;
        if (state.data[cell + 3]! <= 0.1) continue;
        alive++;
        if (x < 2 || y < 2 || x > 45 || y > 45) outerAlive++;
        for (let c = 0; c < 3; c++) sum[c]! += state.data[cell + c]!;
      }
    }
    // A seed is 1 cell; the grown lizard covers a few hundred (about 500 at 72 x 72).
    assert.ok(alive > 200 && alive < 1200, `${alive} cells alive`);
    assert.equal(outerAlive, 0, 'life reached the border');
    const [r, g, b] = sum as [number, number, number];
    assert.ok(g > 1.5 * r && g > 1.5 * b, `mean colour r ${r / alive}, g ${g / alive}, b ${b / alive}: not green`);
  });
});

describe('importDistillModel: file names', () => {
  test('prefix gives the task, the hex code points the emoji', () => {
    assert.deepEqual(parseDistillFileName('x/ex3_1f98e.json'), { experiment: 3, subject: '1f98e', emoji: '🦎', label: 'lizard' });
    assert.deepEqual(parseDistillFileName('ex1_🦋.json'), { experiment: 1, subject: '🦋', emoji: '🦋', label: 'butterfly' });
    assert.deepEqual(parseDistillFileName('ex3_planarian.json'), { experiment: 3, subject: 'planarian', label: 'planarian' });
    assert.equal(importDistillModel(TEXT, { fileName: 'ex1_1f98e.json' }).model.metadata.task, 'growth');
    assert.equal(importDistillModel(TEXT, { fileName: 'ex2_1f98e.json' }).model.metadata.task, 'persistence');
    assert.equal(importDistillModel(TEXT, { fileName: 'lizard.json', task: 'healing', name: 'Mine' }).model.metadata.name, 'Mine');
    assert.equal(importDistillModel(TEXT, { fileName: 'ex3_1f98e.json', task: 'growth' }).model.metadata.task, 'growth');
  });
});

describe('importDistillModel: typed errors', () => {
  test('not JSON', () => {
    assertCode('<!DOCTYPE html><p>404', 'import-not-json');
    assertCode('', 'import-not-json');
  });
  test('not a list of 2 layer objects, or a field missing', () => {
    assertCode('{}', 'import-not-model');
    assertCode('[]', 'import-not-model');
    assertCode(mutated((l) => [l[0]]), 'import-not-model');
    assertCode(mutated((l) => [...l, l[1]]), 'import-not-model');
    assertCode(mutated((l) => [l[0], 7]), 'import-not-model');
    assertCode(mutated((l) => (delete l[1]!['bias_scale'], l)), 'import-not-model');
    assertCode(mutated((l) => ((l[0]!['data_b64'] = 12), l)), 'import-not-model');
  });
  test('wrong shapes (48 -> 128, then 128 -> 16)', () => {
    assertCode(mutated((l) => ((l[0]!['in_ch'] = 64), l)), 'import-bad-shape');
    assertCode(mutated((l) => ((l[0]!['out_ch'] = 96), l)), 'import-bad-shape');
    assertCode(mutated((l) => ((l[1]!['out_ch'] = 12), l)), 'import-bad-shape');
    assertCode(mutated((l) => ((l[1]!['in_ch'] = '128'), l)), 'import-bad-shape');
    assertCode(mutated((l) => [l[1], l[0]]), 'import-bad-shape');
  });
  test('type other than uint8', () => {
    assertCode(mutated((l) => ((l[0]!['type'] = 'float32'), l)), 'import-bad-type');
    assertCode(mutated((l) => ((l[1]!['type'] = 'float16'), l)), 'import-bad-type');
  });
  test('non-finite, negative or missing scales', () => {
    assertCode(TEXT.replace(/"weight_scale": ?[\d.e-]+/, '"weight_scale": 1e999'), 'import-bad-scale'); // JSON.parse gives Infinity
    assertCode(mutated((l) => ((l[0]!['bias_scale'] = null), l)), 'import-bad-scale');
    assertCode(mutated((l) => ((l[1]!['weight_scale'] = 'NaN'), l)), 'import-bad-scale');
    assertCode(mutated((l) => ((l[1]!['bias_scale'] = -0.1), l)), 'import-bad-scale');
  });
  test('bad base64', () => {
    const data = LAYERS[0]!['data_b64'] as string;
    assertCode(mutated((l) => ((l[0]!['data_b64'] = `${data.slice(0, 8)}!${data.slice(9)}`), l)), 'import-bad-base64');
    assertCode(mutated((l) => ((l[0]!['data_b64'] = `${data.slice(0, 8)}\n${data.slice(8)}`), l)), 'import-bad-base64');
    assertCode(mutated((l) => ((l[0]!['data_b64'] = data.slice(0, -1)), l)), 'import-bad-base64');
  });
  test('wrong byte count', () => {
    const data = LAYERS[1]!['data_b64'] as string;
    assertCode(mutated((l) => ((l[1]!['data_b64'] = data.slice(0, -4)), l)), 'import-bad-length');
    assertCode(mutated((l) => ((l[1]!['data_b64'] = `${data}AAAA`), l)), 'import-bad-length');
    assertCode(mutated((l) => ((l[0]!['data_b64'] = ''), l)), 'import-bad-length');
  });
  test('no task: the file name has no ex1_/ex2_/ex3_ prefix and none is given', () => {
    assertCode(TEXT, 'bad-option', { fileName: 'lizard.json' });
  });
  test('any text: a model or a TrainerError, nothing else (property)', () => {
    const chars = [...'[]{}",:0123456789.-eE+/=ABCDabcd_ ntrufl'];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: TEXT.length - 1 }), fc.array(fc.constantFrom(...chars), { maxLength: 12 }), fc.nat(20), (at, insert, cut) => {
        const text = TEXT.slice(0, at) + insert.join('') + TEXT.slice(at + cut);
        try {
          parseDistillLayers(text);
        } catch (error) {
          assert.ok(error instanceof TrainerError, String(error));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('nca import distill (the command)', { concurrency: true }, () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nca-import-'));
    await writeFile(join(dir, 'ex3_1f98e.json'), mutated((l) => ((l[0]!['type'] = 'float32'), l)));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function nca(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'trainer/cli/main.ts', ...args], { cwd: root, timeout: 60_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      });
    });
  }

  test('writes a model that decodes to the import, and says what it wrote', async () => {
    const out = join(dir, 'lizard.nca');
    const { code, stderr } = await nca('import', 'distill', FIXTURE, '--out', out);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /wrote .*lizard\.nca \(8,9\d\d bytes\): "🦎 lizard \(Distill, regenerating\)", healing, int8 weights/);
    const model = decodeModel(await readFile(out));
    assert.equal(model.metadata.task, 'healing');
    assert.ok(model.metadata.attribution.startsWith(DISTILL_CREDIT));
  });

  test('--task and --name override the file name; --precision f32 stores the exact values', async () => {
    const out = join(dir, 'grow.nca');
    const { code, stderr } = await nca('import', 'distill', FIXTURE, '--out', out, '--task', 'growth', '--name', 'Grow', '--precision', 'f32', '--quiet');
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
    const model = decodeModel(await readFile(out));
    assert.deepEqual([model.metadata.task, model.metadata.name, model.architecture.layers[1]!.weightDType], ['growth', 'Grow', 'f32']);
  });

  test('input and usage errors exit 2 with the code', async () => {
    const bad = await nca('import', 'distill', join(dir, 'ex3_1f98e.json'), '--out', join(dir, 'x.nca'));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /error \[import-bad-type\]: .*layer 0\.type is string "float32"/);
    const missing = await nca('import', 'distill', join(dir, 'nope.json'), '--out', join(dir, 'x.nca'));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*nope\.json': no such file/);
    for (const args of [
      ['import', 'distill', FIXTURE],
      ['import', 'onnx', FIXTURE, '--out', 'x.nca'],
      ['import', 'distill', FIXTURE, '--out', 'x.nca', '--task', 'dance'],
    ]) {
      const result = await nca(...args);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, /usage: nca import distill/);
    }
  });
});
