/**
 * `--grid-search`: the parameter combinations of a sweep. Either inline, one flag per key
 * (`--grid-search lr=0.001,0.002 --grid-search seed=1,2`), or a JSON file holding an object of
 * arrays (`{"lr": [0.001, 0.002], "seed": [1, 2]}`). Keys are `nca train` flags without the
 * dashes; values stay strings so they go through the trainer's own flag parsing.
 */
import { readFile } from 'node:fs/promises';
import { describeFsError } from '../io/fs-errors.js';
import { SweepError } from './errors.js';

/** One combination: flag name -> value as typed on a command line. */
export type Combination = Readonly<Record<string, string>>;

/** `nca train` flags a grid may vary: per-job paths and names are the sweep's to choose. */
export function gridKeyProblem(key: string, trainFlags: Readonly<Record<string, { readonly type: string }>>): string | undefined {
  if (['target', 'out', 'name', 'run-dir', 'resume', 'json', 'help'].includes(key)) return `--${key} is set by the sweep for each job`;
  const flag = Object.hasOwn(trainFlags, key) ? trainFlags[key] : undefined;
  if (!flag) return `${JSON.stringify(key)} is not an nca train flag`;
  if (flag.type !== 'string') return `--${key} is a switch, not a value to search over`;
  return undefined;
}

function bad(message: string): SweepError {
  return new SweepError('bad-grid-search', `--grid-search: ${message}`);
}

async function axesFromFile(path: string): Promise<[string, string[]][]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw bad(`${JSON.stringify(path)} is not key=v1,v2 and cannot be read as a JSON file: ${describeFsError(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw bad(`${path} is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad(`${path} must hold an object of arrays, like {"lr": [0.001, 0.002]}`);
  return Object.entries(parsed).map(([key, values]) => {
    if (!Array.isArray(values) || values.length === 0) throw bad(`${path}: ${JSON.stringify(key)} must be a non-empty array`);
    return [key, values.map((value) => {
      if (typeof value !== 'number' && typeof value !== 'string') throw bad(`${path}: ${JSON.stringify(key)} holds ${JSON.stringify(value)}; use numbers or strings`);
      return String(value);
    })];
  });
}

function axisFromText(text: string): [string, string[]] {
  const at = text.indexOf('=');
  const key = text.slice(0, at).trim().replace(/^--/, '');
  const values = text.slice(at + 1).split(',').map((v) => v.trim());
  if (key === '' || values.some((v) => v === '')) throw bad(`${JSON.stringify(text)} must look like key=v1,v2`);
  return [key, values];
}

/**
 * Every combination of the given axes (their cartesian product, first axis slowest); one empty
 * combination when there is no grid. Throws `SweepError('bad-grid-search')` naming the problem.
 */
export async function parseGridSearch(
  specs: readonly string[],
  trainFlags: Readonly<Record<string, { readonly type: string }>>,
): Promise<Combination[]> {
  const axes: [string, string[]][] = [];
  for (const spec of specs) axes.push(...(spec.includes('=') ? [axisFromText(spec)] : await axesFromFile(spec)));
  const seen = new Set<string>();
  for (const [key, values] of axes) {
    const problem = gridKeyProblem(key, trainFlags);
    if (problem) throw bad(problem);
    if (seen.has(key)) throw bad(`${key} is given twice`);
    seen.add(key);
    if (new Set(values).size !== values.length) throw bad(`${key} repeats a value (${values.join(',')})`);
  }
  let combinations: Record<string, string>[] = [{}];
  for (const [key, values] of axes) combinations = combinations.flatMap((c) => values.map((value) => ({ ...c, [key]: value })));
  return combinations;
}
