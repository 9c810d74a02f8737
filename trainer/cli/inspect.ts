/**
 * `nca inspect <model.nca> [--json]`: what a model file contains, for people (a summary) or for
 * scripts (`--json`). A file the decoder rejects prints `error [code]: message` and exits 1.
 */
import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  countParameters,
  decodeModel,
  distillKernels,
  essayKernels,
  isNcaFormatError,
  type NcaModel,
} from '../../runtime/format/index.js';
import { MAX_MODEL_BYTES } from '../eval/inputs.js';
import { describeFsError } from '../io/fs-errors.js';
import { escapeUnsafe, safeJson } from '../io/safe-text.js';

const USAGE = `usage: nca inspect <model.nca> [--json]

Prints a model's name, task, architecture (kernels, layers, update and alive rules), parameter
count, file size, target and grid size, start state, training summary and attribution.

options:
  --json      print the same as one JSON object (with "params" and "bytes")
  -h, --help  show this help`;

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    console.error(`nca inspect: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    console.error(`nca inspect: expected one model file, got ${parsed.positionals.length}\n\n${USAGE}`);
    return 2;
  }
  const path = parsed.positionals[0] as string;

  let bytes: Uint8Array;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (info.size > MAX_MODEL_BYTES) {
      console.error(`error: '${path}' is ${info.size} bytes, larger than any .nca model`);
      return 1;
    }
    bytes = await readFile(path);
  } catch (error) {
    console.error(`error: cannot read '${path}': ${describeFsError(error)}`);
    return 1;
  }

  let model: NcaModel;
  try {
    model = decodeModel(bytes);
  } catch (error) {
    if (!isNcaFormatError(error)) throw error;
    console.error(`error [${error.code}]: ${error.message}`);
    return 1;
  }
  const summary = summarize(model, path, bytes.length);
  console.log(parsed.values.json ? safeJson(summary) : formatText(summary));
  return 0;
}

/** The shortest decimal that reads back as the same float32 (0.1, not 0.10000000149011612). */
export function shortestF32(value: number): number {
  const target = Math.fround(value);
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(target.toPrecision(digits));
    if (Math.fround(candidate) === target) return candidate;
  }
  return target;
}

const KNOWN_KERNELS: readonly (readonly [string, Float32Array])[] = [
  ['identity', essayKernels()[0] as Float32Array],
  ['Moore mean', essayKernels()[1] as Float32Array],
  ['sobel_x + sobel_y', essayKernels()[2] as Float32Array],
  ['sobel_x / 8', distillKernels()[1] as Float32Array],
  ['sobel_y / 8', distillKernels()[2] as Float32Array],
];

function kernelName(kernel: Float32Array): string | undefined {
  return KNOWN_KERNELS.find(([, known]) => known.every((v, i) => v === kernel[i]))?.[0];
}

interface LayerSummary {
  readonly inputs: number;
  readonly outputs: number;
  readonly activation: string;
  readonly weightDType: string;
  readonly biasDType: string;
  readonly params: number;
}

interface Summary {
  readonly file: string;
  readonly bytes: number;
  readonly params: number;
  readonly name: string;
  readonly task: string;
  readonly architecture: {
    readonly channels: number;
    readonly alphaChannel: number;
    readonly kernels: { readonly name: string | null; readonly values: number[][] }[];
    readonly perceptionOrder: string;
    readonly layers: LayerSummary[];
    readonly update: string;
    readonly fireRate: number;
    readonly fireGranularity: string;
    readonly aliveMode: string;
    readonly aliveThreshold: number;
  };
  readonly target: { readonly width: number; readonly height: number };
  readonly grid: { readonly width: number; readonly height: number };
  readonly start: { readonly kind: 'seed' } | { readonly kind: 'image'; readonly width: number; readonly height: number };
  readonly training: { readonly iterations: number; readonly finalLoss: number };
  readonly attribution: string;
}

function summarize(model: NcaModel, file: string, bytes: number): Summary {
  const { architecture: a, metadata: m } = model;
  return {
    file,
    bytes,
    params: countParameters(a.layers),
    name: m.name,
    task: m.task,
    architecture: {
      channels: a.channels,
      alphaChannel: a.alphaChannel,
      kernels: a.kernels.map((k) => ({
        name: kernelName(k) ?? null,
        values: [0, 1, 2].map((row) => Array.from(k.subarray(row * 3, row * 3 + 3), shortestF32)),
      })),
      perceptionOrder: a.perceptionOrder,
      layers: a.layers.map((l) => ({
        inputs: l.inputs,
        outputs: l.outputs,
        activation: l.activation,
        weightDType: l.weightDType,
        biasDType: l.biasDType,
        params: l.inputs * l.outputs + l.outputs,
      })),
      update: a.update,
      fireRate: shortestF32(a.fireRate),
      fireGranularity: a.fireGranularity,
      aliveMode: a.aliveMode,
      aliveThreshold: shortestF32(a.aliveThreshold),
    },
    target: { width: m.targetWidth, height: m.targetHeight },
    grid: { width: m.gridWidth, height: m.gridHeight },
    start: m.start.kind === 'image' ? { kind: 'image', width: m.start.width, height: m.start.height } : { kind: 'seed' },
    training: { iterations: m.training.iterations, finalLoss: shortestF32(m.training.finalLoss) },
    attribution: m.attribution,
  };
}

const thousands = (n: number): string => n.toLocaleString('en-US');

function kernelBlock(kernels: Summary['architecture']['kernels']): string[] {
  const blocks = kernels.map((kernel, k) => {
    const cells = kernel.values.map((row) => row.map(String));
    const width = Math.max(...cells.flat().map((c) => c.length));
    const rows = cells.map((row) => row.map((c) => c.padStart(width)).join(' '));
    const title = `k${k}${kernel.name ? ` ${kernel.name}` : ''}`;
    const blockWidth = Math.max(title.length, ...rows.map((r) => r.length));
    return [title, ...rows].map((line) => line.padEnd(blockWidth));
  });
  return [0, 1, 2, 3].map((line) => blocks.map((b) => b[line]).join('    ').trimEnd());
}

function layerTable(layers: LayerSummary[]): string[] {
  const rows = [
    ['#', 'in -> out', 'activation', 'weights', 'bias', 'params'],
    ...layers.map((l, i) => [String(i), `${l.inputs} -> ${l.outputs}`, l.activation, l.weightDType, l.biasDType, thousands(l.params)]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] as string).length)));
  return rows.map((r) => r.map((cell, c) => (c === 5 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd());
}

function formatText(s: Summary): string {
  const a = s.architecture;
  const indent = ' '.repeat(16);
  const field = (label: string, value: string): string => `  ${label.padEnd(14)}${value}`;
  const block = (label: string, lines: string[]): string[] => [
    field(label, lines[0] ?? ''),
    ...lines.slice(1).map((line) => `  ${indent.slice(2)}${line}`),
  ];
  const order = a.perceptionOrder === 'channel-major' ? 'p[c*K + k]' : 'p[k*C + c]';
  const update = a.update === 'residual' ? "s' = s + m * o" : "s' = m ? o : s";
  const alive =
    a.aliveMode === 'max-pool'
      ? `a cell lives iff the 3x3 max of alpha > ${a.aliveThreshold} before and after the update`
      : `a cell lives iff its alpha > ${a.aliveThreshold} after the update`;
  const start =
    s.start.kind === 'image' ? `image ${s.start.width} x ${s.start.height} (premultiplied RGBA)` : 'one seed cell in the grid centre';
  const attribution = s.attribution === '' ? ['(none)'] : s.attribution.split('\n').map((line) => escapeUnsafe(line));
  return [
    escapeUnsafe(s.name) || '(unnamed)',
    field('file', `${escapeUnsafe(s.file)} (${thousands(s.bytes)} bytes)`),
    field('task', s.task),
    field('parameters', thousands(s.params)),
    field('state', `${a.channels} channels, alpha is channel ${a.alphaChannel}`),
    ...block('perception', [`${a.kernels.length} kernels, ${a.perceptionOrder} (${order})`, ...kernelBlock(a.kernels)]),
    ...block('layers', layerTable(a.layers)),
    field('update', `${a.update} (${update})`),
    field('fire mask', `rate ${a.fireRate}, per ${a.fireGranularity}`),
    field('alive', `${a.aliveMode}: ${alive}`),
    field('target', `${s.target.width} x ${s.target.height}`),
    field('grid', `${s.grid.width} x ${s.grid.height}`),
    field('start', start),
    field('training', `${thousands(s.training.iterations)} iterations, final loss ${s.training.finalLoss}`),
    ...block('attribution', attribution),
  ].join('\n');
}
