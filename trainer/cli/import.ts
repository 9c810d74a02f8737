/**
 * `nca import distill <file.json> --out model.nca`: converts a model published with Distill's
 * "Growing Neural Cellular Automata" into a `.nca` file (trainer/import/distill.ts). Exit code 0
 * when written, 2 for a usage or input error (bad flag, unreadable file, not such a model).
 */
import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { decodeModel, encodeModel, isNcaFormatError } from '../../runtime/format/index.js';
import type { NcaModel, Task, TensorDType } from '../../runtime/format/types.js';
import { writeFileAtomic } from '../io/atomic.js';
import { TrainerError } from '../errors.js';
import { DISTILL_GRID_SIZE, DISTILL_TARGET_SIZE, importDistillModel } from '../import/distill.js';
import { describeFsError } from '../io/fs-errors.js';

const USAGE = `usage: nca import distill <file.json> --out model.nca [--name TEXT]
                         [--task growth|persistence|healing] [--precision int8|f16|f32] [--quiet]

Converts a model published with Distill's "Growing Neural Cellular Automata" (Mordvintsev,
Randazzo, Niklasson, Levin, 2020, CC-BY 4.0; the JSON files of its webgl_models8 folder) into a
.nca model of the Distill rule (kernel-major perception, ${DISTILL_TARGET_SIZE}x${DISTILL_TARGET_SIZE} target on a ${DISTILL_GRID_SIZE}x${DISTILL_GRID_SIZE} grid,
one seed cell to start). The article's credit and licence are written into the model's
attribution.

options:
  --out PATH        the .nca file to write (required)
  --name TEXT       model name (default from the file name: ex3_1f98e.json is
                    "🦎 lizard (Distill, regenerating)")
  --task T          growth, persistence or healing (default from the file name's prefix:
                    ex1_ growth, ex2_ persistence, ex3_ healing; required without one)
  --precision P     int8 (default), f16 or f32 weights and biases
  --quiet           no summary on stderr
  -h, --help        show this help

exit code: 0 written, 2 usage or input error`;

const FORMATS = ['distill'] as const;
/** The published files are about 11 KB; anything this large is not one. */
const MAX_FILE_BYTES = 1024 * 1024;

function usageError(message: string): number {
  console.error(`nca import: ${message}\n\n${USAGE}`);
  return 2;
}

/** Largest |stored - exact| over each layer's weights and biases, and over all. */
export function storageError(exact: NcaModel, stored: NcaModel): { layers: number[]; max: number } {
  const layers = exact.architecture.layers.map((layer, l) => {
    const other = stored.architecture.layers[l]!;
    let max = 0;
    layer.weights.forEach((w, i) => (max = Math.max(max, Math.abs(w - other.weights[i]!))));
    layer.bias.forEach((b, i) => (max = Math.max(max, Math.abs(b - other.bias[i]!))));
    return max;
  });
  return { layers, max: Math.max(...layers) };
}

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        out: { type: 'string', short: 'o' },
        name: { type: 'string' },
        task: { type: 'string' },
        precision: { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    return usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [format, path, ...extra] = positionals;
  if (format === undefined) return usageError('name the format to import (distill)');
  if (!(FORMATS as readonly string[]).includes(format)) return usageError(`unknown format '${format}' (known: ${FORMATS.join(', ')})`);
  if (path === undefined || extra.length > 0) return usageError(`expected one model file, got ${positionals.length - 1}`);
  if (values.out === undefined) return usageError('--out is required');
  if (values.task !== undefined && !['growth', 'persistence', 'healing'].includes(values.task)) {
    return usageError(`--task must be growth, persistence or healing, got '${values.task}'`);
  }
  if (values.precision !== undefined && !['int8', 'f16', 'f32'].includes(values.precision)) {
    return usageError(`--precision must be int8, f16 or f32, got '${values.precision}'`);
  }

  let text: string;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (info.size > MAX_FILE_BYTES) {
      console.error(`nca import: error [import-not-model]: '${path}' is ${info.size} bytes, far larger than a Distill model (about 11 KB)`);
      return 2;
    }
    text = await readFile(path, 'utf8');
  } catch (error) {
    console.error(`nca import: cannot read '${path}': ${describeFsError(error)}`);
    return 2;
  }

  let bytes: Uint8Array;
  let exact: NcaModel;
  try {
    ({ model: exact } = importDistillModel(text, {
      fileName: path,
      name: values.name,
      task: values.task as Task | undefined,
      precision: values.precision as TensorDType | undefined,
    }));
    bytes = encodeModel(exact);
  } catch (error) {
    if (error instanceof TrainerError || isNcaFormatError(error)) {
      console.error(`nca import: error [${error.code}]: '${path}': ${error.message}`);
      return 2;
    }
    throw error;
  }
  try {
    await writeFileAtomic(values.out, bytes);
  } catch (error) {
    console.error(`nca import: cannot write '${values.out}': ${describeFsError(error)}`);
    return 2;
  }
  if (!values.quiet) {
    const { metadata: m, architecture: a } = exact;
    const error = storageError(exact, decodeModel(bytes));
    console.error(
      [
        `wrote ${values.out} (${bytes.length.toLocaleString('en-US')} bytes): "${m.name}", ${m.task}, ${a.layers[0]!.weightDType} weights`,
        `  largest change from the file's values: ${error.layers.map((e, l) => `layer ${l} ${e.toExponential(2)}`).join(', ')}`,
        `  attribution: ${m.attribution}`,
      ].join('\n'),
    );
  }
  return 0;
}
