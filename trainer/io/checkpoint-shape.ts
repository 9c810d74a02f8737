/**
 * Whether a checkpoint's header and arrays have the shape its run needs. The SHA-256 only proves
 * the bytes are the ones written; a file from another version of the trainer, or one written by
 * a bug, can carry a valid hash and still lack a field or hold arrays of the wrong size. Those are
 * found here and reported as a damaged checkpoint (so the previous one is tried), never left to
 * surface as a TypeError or RangeError halfway through a resume.
 */
import { createArchitecture } from '../../runtime/format/index.js';
import type { Checkpoint } from './checkpoint.js';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isNumberList = (value: unknown): value is number[] => Array.isArray(value) && value.every((v) => typeof v === 'number');

function isBlobRef(value: unknown): boolean {
  return isObject(value) && isCount(value['offset']) && isCount(value['length']);
}

/** The first problem with a decoded header's fields and blob table, or null when it is well formed. */
export function headerProblem(header: unknown): string | null {
  if (!isObject(header)) return 'the header is not an object';
  const identity = header['identity'];
  if (!isObject(identity)) return 'the header lacks the run identity';
  for (const key of ['channels', 'hidden', 'gridWidth', 'gridHeight', 'targetWidth', 'targetHeight', 'batch', 'poolSize'] as const) {
    if (!isCount(identity[key])) return `identity.${key} is not a count (${JSON.stringify(identity[key])})`;
  }
  if (typeof identity['rule'] !== 'string' || typeof identity['task'] !== 'string') return 'identity lacks its rule or task';
  if (!isObject(header['options'])) return 'the header lacks the options';
  if (!isCount(header['iteration']) || !isCount(header['adamStep'])) return 'iteration or Adam step is not a count';
  const rng = header['rng'];
  if (!(Array.isArray(rng) && rng.length === 4 && rng.every(isCount))) return 'the RNG state is not four integers';
  const curriculum = header['curriculum'];
  if (!isObject(curriculum) || !isCount(curriculum['level']) || !isCount(curriculum['iterationsAtLevel'])) return 'the curriculum state is malformed';
  if (!isNumberList(header['losses']) || !isNumberList(header['levels'])) return 'the loss or level history is not a list of numbers';
  if (header['firstLoss'] !== null && typeof header['firstLoss'] !== 'number') return 'firstLoss is neither a number nor null';
  if (typeof header['seconds'] !== 'number') return 'seconds is not a number';
  if (header['recoveries'] !== undefined && !isCount(header['recoveries'])) return 'recoveries is not a count';
  if (header['budgetDecayAt'] !== undefined && !isCount(header['budgetDecayAt'])) return 'budgetDecayAt is not a count';
  const scale = header['learningRateScale'];
  if (scale !== undefined && !(typeof scale === 'number' && scale > 0 && scale <= 1)) return 'learningRateScale is not a number in (0, 1]';
  const blobs = header['blobs'];
  if (!isObject(blobs)) return 'the header lacks its blob table';
  for (const key of ['weights', 'adamM', 'adamV'] as const) {
    const list = blobs[key];
    if (!(Array.isArray(list) && list.every(isBlobRef))) return `the blob table's ${key} is not a list of blobs`;
  }
  const pool = blobs['pool'];
  if (!(Array.isArray(pool) && pool.every((slot) => slot === null || isBlobRef(slot)))) return "the blob table's pool is not a list of blobs or nulls";
  const target = blobs['target'];
  if (!(isBlobRef(target) && isObject(target) && isCount(target['width']) && isCount(target['height']))) return "the blob table's target is malformed";
  return null;
}

/** Value counts of the network's variables, in `TrainableNetwork.variables` order: [W0, b0, W1, b1, ...]. */
function variableSizes(identity: Checkpoint['identity']): number[] {
  const arch = createArchitecture({ rule: identity.rule, channels: identity.channels, hidden: identity.hidden, random: () => 0 });
  return arch.layers.flatMap((layer) => [layer.inputs * layer.outputs, layer.outputs]);
}

/**
 * The first way `checkpoint`'s arrays disagree with its own run identity (weights and Adam
 * moments for its architecture, pool states for its grid, target pixels for its size), or null.
 */
export function shapeProblem(checkpoint: Checkpoint): string | null {
  const { identity } = checkpoint;
  let sizes: number[];
  try {
    sizes = variableSizes(identity);
  } catch (error) {
    return `its identity names no buildable architecture (${(error as Error).message})`;
  }
  const listed = (name: string, arrays: readonly Float32Array[], optional: boolean): string | null => {
    if (optional && arrays.length === 0) return null;
    if (arrays.length !== sizes.length) return `${arrays.length} ${name} arrays, the ${identity.rule} architecture has ${sizes.length}`;
    const at = arrays.findIndex((array, i) => array.length !== sizes[i]);
    return at < 0 ? null : `${name}[${at}] holds ${arrays[at]!.length} values, the architecture needs ${sizes[at]}`;
  };
  // NOTE: Adam's moments are empty before its first step.
  const problem = listed('weight', checkpoint.weights, false) ?? listed('adamM', checkpoint.adamM, true) ?? listed('adamV', checkpoint.adamV, true);
  if (problem !== null) return problem;
  const cellValues = identity.gridWidth * identity.gridHeight * identity.channels;
  const slot = checkpoint.pool.findIndex((state) => state !== null && state.length !== cellValues);
  if (slot >= 0) return `pool slot ${slot} holds ${checkpoint.pool[slot]!.length} values, a ${identity.gridWidth}x${identity.gridHeight} grid of ${identity.channels} channels needs ${cellValues}`;
  const { target } = checkpoint;
  if (target.width !== identity.targetWidth || target.height !== identity.targetHeight || target.rgba.length !== target.width * target.height * 4) {
    return `the target is ${target.width}x${target.height} with ${target.rgba.length} bytes, the identity says ${identity.targetWidth}x${identity.targetHeight}`;
  }
  if (checkpoint.losses.length !== checkpoint.levels.length) return `${checkpoint.losses.length} losses but ${checkpoint.levels.length} levels`;
  return null;
}
