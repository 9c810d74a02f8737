/**
 * Converts a model published with Distill's "Growing Neural Cellular Automata" (Mordvintsev,
 * Randazzo, Niklasson, Levin, 2020; CC-BY 4.0) into an `NcaModel`. Pure: text in, model out, no
 * I/O, so the same code runs in Node (`nca import distill`) and in a test page.
 *
 * The article's files (`public/webgl_models8/*.json` of its repository) are a JSON list of two
 * dense layers `{data_b64, in_ch, out_ch, weight_scale, bias_scale, type: "uint8"}`. The bytes
 * are a `(in_ch + 1) x out_ch` matrix, row-major, input-major (`M[i][o]`), whose last row is the
 * bias; a byte b stands for `(b / 255 - 0.5) * scale` (weight_scale for the weight rows,
 * bias_scale for the bias row), as the article's WebGL demo decodes it. Its perception is
 * kernel-major (the demo's "filter bands": 16 identity values, then 16 sobel_x / 8, then 16
 * sobel_y / 8), which is our Distill rule with `perceptionOrder: 'kernel-major'`; our layers are
 * output-major (`W[o][i]`), so the matrix is transposed.
 */
import { createArchitecture, createModel } from '../../runtime/format/index.js';
import type { DenseLayer, NcaModel, Task, TensorDType } from '../../runtime/format/types.js';
import { TrainerError } from '../errors.js';

/** The article, as every converted model credits it (CC-BY 4.0 asks for the credit and the licence). */
export const DISTILL_CREDIT =
  'Mordvintsev, Randazzo, Niklasson, Levin, "Growing Neural Cellular Automata", Distill 2020, CC-BY 4.0';

/** The architecture every published file has: 16 channels x 3 kernels -> 128 (relu) -> 16. */
export const DISTILL_CHANNELS = 16;
export const DISTILL_HIDDEN = 128;
const DISTILL_SHAPES = [
  { inputs: 3 * DISTILL_CHANNELS, outputs: DISTILL_HIDDEN },
  { inputs: DISTILL_HIDDEN, outputs: DISTILL_CHANNELS },
] as const;

/** Training geometry of the article: 40x40 emoji padded by 16 cells on every side. */
export const DISTILL_TARGET_SIZE = 40;
export const DISTILL_GRID_SIZE = 72;

/** The article's three experiments, from the file-name prefix ex1_ / ex2_ / ex3_. */
export const DISTILL_EXPERIMENTS = {
  1: { task: 'growth', label: 'growing' },
  2: { task: 'persistence', label: 'persistent' },
  3: { task: 'healing', label: 'regenerating' },
} as const satisfies Record<number, { task: Task; label: string }>;

/** The ten emoji of the published set (their code points name the files), for readable model names. */
export const DISTILL_EMOJI_NAMES: Readonly<Record<string, string>> = {
  '1f384': 'Christmas tree',
  '1f41e': 'lady beetle',
  '1f420': 'tropical fish',
  '1f441': 'eye',
  '1f4a5': 'collision',
  '1f578': 'spider web',
  '1f600': 'grinning face',
  '1f968': 'pretzel',
  '1f98b': 'butterfly',
  '1f98e': 'lizard',
};

/** One layer as the file stores it, after validation. */
export interface DistillLayer {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly weightScale: number;
  readonly biasScale: number;
  /** (inChannels + 1) x outChannels bytes, row-major, the last row the bias. */
  readonly bytes: Uint8Array;
}

/** What a file name says: `ex3_1f98e.json` is experiment 3 (regenerating) of the lizard 🦎. */
export interface DistillFileName {
  readonly experiment?: 1 | 2 | 3;
  /** The subject: hex code points (`1f98e`), an emoji itself (the repository's own names) or a word (`planarian`). */
  readonly subject: string;
  /** The emoji, when the subject is one (or hex code points of one). */
  readonly emoji?: string;
  /** A readable name of the subject: "lizard", "planarian". */
  readonly label: string;
}

const HEX_CODE_POINTS = /^[0-9a-f]{2,6}(?:[-_][0-9a-f]{2,6})*$/i;

/** Reads a published file's name (a path is allowed; only its last segment counts). */
export function parseDistillFileName(path: string): DistillFileName {
  const base = path.split(/[\\/]/).pop() ?? '';
  const stem = base.replace(/\.json$/i, '');
  const match = /^ex([123])_(.+)$/.exec(stem);
  const experiment = match ? (Number(match[1]) as 1 | 2 | 3) : undefined;
  const subject = match ? (match[2] as string) : stem;
  if (HEX_CODE_POINTS.test(subject)) {
    const codePoints = subject.toLowerCase().split(/[-_]/);
    const values = codePoints.map((hex) => Number.parseInt(hex, 16));
    const emoji = values.every((v) => v <= 0x10ffff) ? String.fromCodePoint(...values) : undefined;
    const label = DISTILL_EMOJI_NAMES[codePoints.join('-')] ?? `U+${codePoints.join(' U+').toUpperCase()}`;
    return emoji === undefined ? { experiment, subject, label } : { experiment, subject, emoji, label };
  }
  // The repository names its files with the emoji itself: ex3_🦎.json.
  const codePoints = [...subject].map((ch) => (ch.codePointAt(0) as number).toString(16));
  const known = DISTILL_EMOJI_NAMES[codePoints.join('-')];
  if (known !== undefined) return { experiment, subject, emoji: subject, label: known };
  return { experiment, subject, label: subject };
}

function fail(code: ConstructorParameters<typeof TrainerError>[0], message: string): never {
  throw new TrainerError(code, message);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 (no whitespace, padding required): a damaged file is rejected, not half read. */
function decodeBase64(text: string, where: string): Uint8Array {
  if (!BASE64.test(text)) fail('import-bad-base64', `${where}.data_b64 is not valid base64`);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

/**
 * Parses and checks a file's text: JSON, a list of exactly two layer objects, each with the
 * fields above, of shapes 48 -> 128 and 128 -> 16, type "uint8", finite non-negative scales,
 * strict base64 of exactly (in_ch + 1) x out_ch bytes.
 * @throws TrainerError import-not-json | import-not-model | import-bad-shape | import-bad-type |
 *   import-bad-scale | import-bad-base64 | import-bad-length
 */
export function parseDistillLayers(text: string): DistillLayer[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    fail('import-not-json', `not JSON (${(error as Error).message}); a Distill model is a JSON list of two layers`);
  }
  if (!Array.isArray(json) || json.length !== DISTILL_SHAPES.length || !json.every(isRecord)) {
    fail('import-not-model', `expected a JSON list of 2 layer objects (Distill's webgl_models8 format), got ${describe(json)}`);
  }
  return json.map((layer, index) => {
    const where = `layer ${index}`;
    for (const field of ['data_b64', 'in_ch', 'out_ch', 'weight_scale', 'bias_scale', 'type']) {
      if (!(field in layer)) fail('import-not-model', `${where} has no "${field}" field`);
    }
    const { data_b64: data, in_ch: inChannels, out_ch: outChannels, weight_scale: weightScale, bias_scale: biasScale, type } = layer;
    if (typeof data !== 'string') fail('import-not-model', `${where}.data_b64 is ${describe(data)}, not a string`);
    const expected = DISTILL_SHAPES[index] as (typeof DISTILL_SHAPES)[number];
    if (inChannels !== expected.inputs || outChannels !== expected.outputs) {
      fail(
        'import-bad-shape',
        `${where} is ${describe(inChannels)} -> ${describe(outChannels)}, expected ${expected.inputs} -> ${expected.outputs} ` +
          `(${DISTILL_CHANNELS} channels x 3 kernels -> ${DISTILL_HIDDEN} hidden -> ${DISTILL_CHANNELS})`,
      );
    }
    if (type !== 'uint8') fail('import-bad-type', `${where}.type is ${describe(type)}; only "uint8" layers are supported`);
    for (const [name, scale] of [['weight_scale', weightScale], ['bias_scale', biasScale]] as const) {
      if (typeof scale !== 'number' || !Number.isFinite(scale) || scale < 0) {
        fail('import-bad-scale', `${where}.${name} is ${describe(scale)}, not a finite number >= 0`);
      }
    }
    const bytes = decodeBase64(data, where);
    const length = (expected.inputs + 1) * expected.outputs;
    if (bytes.length !== length) {
      fail('import-bad-length', `${where} holds ${bytes.length} bytes, expected (${expected.inputs} + 1) x ${expected.outputs} = ${length}`);
    }
    return { inChannels: expected.inputs, outChannels: expected.outputs, weightScale: weightScale as number, biasScale: biasScale as number, bytes };
  });
}

/** The value a byte stands for, as float32: `(byte / 255 - 0.5) * scale` (computed in doubles). */
export function dequantizeByte(byte: number, scale: number): number {
  return Math.fround((byte / 255 - 0.5) * scale);
}

/**
 * One file layer as our dense layer's float32 values: `weights[o * in + i]` is the file's
 * `M[i][o]` (transposed), `bias[o]` its last row.
 */
export function dequantizeLayer(layer: DistillLayer): { weights: Float32Array; bias: Float32Array } {
  const { inChannels: n, outChannels: m, bytes, weightScale, biasScale } = layer;
  const weights = new Float32Array(n * m);
  const bias = new Float32Array(m);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < m; o++) weights[o * n + i] = dequantizeByte(bytes[i * m + o] as number, weightScale);
  }
  for (let o = 0; o < m; o++) bias[o] = dequantizeByte(bytes[n * m + o] as number, biasScale);
  return { weights, bias };
}

export interface DistillImportOptions {
  /** The file's name or path: gives the task (ex1_/ex2_/ex3_) and a default model name. */
  readonly fileName?: string;
  /** Model name; default e.g. "🦎 lizard (Distill, regenerating)". */
  readonly name?: string;
  /** Overrides the task the file name gives; required when the name gives none. */
  readonly task?: Task;
  /**
   * Storage precision of weights and biases when the model is encoded (default int8, the
   * format's size goal). The decoded model's values are the file's exact float32 values either
   * way; `encodeModel` rounds them to this precision.
   */
  readonly precision?: TensorDType;
}

export interface DistillImport {
  readonly model: NcaModel;
  readonly source: DistillFileName;
  readonly layers: readonly DistillLayer[];
}

const TASKS: readonly Task[] = ['growth', 'persistence', 'healing'];
const PRECISIONS: readonly TensorDType[] = ['int8', 'f16', 'f32'];

/**
 * A Distill file's text -> an `NcaModel` of our Distill rule (kernel-major perception, relu
 * hidden, residual update, per-cell fire rate 0.5, 3x3 max-pool alive mask at 0.1), a 40x40
 * target on a 72x72 grid, starting from one seed cell (as the article's demo does), with the
 * article's credit as attribution.
 * @throws TrainerError (the codes of `parseDistillLayers`, or bad-option for the task, name or precision)
 */
export function importDistillModel(text: string, options: DistillImportOptions = {}): DistillImport {
  const source = parseDistillFileName(options.fileName ?? '');
  const precision = options.precision ?? 'int8';
  if (!PRECISIONS.includes(precision)) fail('bad-option', `precision ${JSON.stringify(precision)} is not one of ${PRECISIONS.join(', ')}`);
  if (options.task !== undefined && !TASKS.includes(options.task)) {
    fail('bad-option', `task ${JSON.stringify(options.task)} is not one of ${TASKS.join(', ')}`);
  }
  const experiment = source.experiment === undefined ? undefined : DISTILL_EXPERIMENTS[source.experiment];
  const task = options.task ?? experiment?.task;
  if (task === undefined) {
    fail('bad-option', `the file name '${options.fileName ?? ''}' does not start with ex1_, ex2_ or ex3_: give the task (growth, persistence, healing)`);
  }
  const layers = parseDistillLayers(text);

  const architecture = createArchitecture({ rule: 'distill', channels: DISTILL_CHANNELS, hidden: DISTILL_HIDDEN, perceptionOrder: 'kernel-major' });
  const converted: DenseLayer[] = architecture.layers.map((layer, index) => {
    const { weights, bias } = dequantizeLayer(layers[index] as DistillLayer);
    return { ...layer, weights, bias, weightDType: precision, biasDType: precision };
  });
  const subject = `${source.emoji === undefined ? '' : `${source.emoji} `}${source.label}`;
  const name = options.name ?? `${subject} (Distill${experiment ? `, ${experiment.label}` : ''})`;
  const model = createModel(
    { ...architecture, layers: converted },
    {
      name,
      task,
      targetWidth: DISTILL_TARGET_SIZE,
      targetHeight: DISTILL_TARGET_SIZE,
      gridWidth: DISTILL_GRID_SIZE,
      gridHeight: DISTILL_GRID_SIZE,
      start: { kind: 'seed' },
      attribution: `${DISTILL_CREDIT}; converted`,
    },
  );
  return { model, source, layers };
}
