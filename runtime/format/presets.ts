/**
 * The two rule families of docs/format.md ("Running a model") as ready-made architectures, and a
 * model builder with sensible metadata. Scalars stored as f32 in the file (fire rate, alive
 * threshold) are `Math.fround`ed here so a model survives encode/decode unchanged.
 */
import { MAX_GRID_SIDE } from './constants.js';
import { NcaFormatError } from './errors.js';
import type {
  Activation,
  Architecture,
  DenseLayer,
  ModelMetadata,
  NcaModel,
  PerceptionOrder,
} from './types.js';
import { validateArchitecture, validateModel } from './validate.js';

export type NcaRule = 'essay' | 'distill';

/** Distill pads its 40x40 target by 16 cells on each side (a 72x72 grid). */
export const TARGET_PADDING = 16;
export const DEFAULT_TARGET_SIZE = 40;

const IDENTITY = [0, 0, 0, 0, 1, 0, 0, 0, 0];
/** Row-major [dy+1][dx+1]: d/dx, positive to the right. */
const SOBEL_X = [-1, 0, 1, -2, 0, 2, -1, 0, 1];
/** d/dy, positive downwards (y grows towards the bottom row). */
const SOBEL_Y = [-1, -2, -1, 0, 0, 0, 1, 2, 1];

function kernel(values: readonly number[], divisor = 1): Float32Array {
  return Float32Array.from(values, (v) => v / divisor);
}

/** The essay's kernels: identity, Moore mean (8 neighbours / 8), and true sobel_x + sobel_y. */
export function essayKernels(): Float32Array[] {
  return [
    kernel(IDENTITY),
    kernel([1, 1, 1, 1, 0, 1, 1, 1, 1], 8),
    kernel(SOBEL_X.map((v, i) => v + (SOBEL_Y[i] as number))),
  ];
}

/** Distill's "Growing NCA" kernels: identity, sobel_x / 8, sobel_y / 8. */
export function distillKernels(): Float32Array[] {
  return [kernel(IDENTITY), kernel(SOBEL_X, 8), kernel(SOBEL_Y, 8)];
}

export interface ArchitectureOptions {
  readonly rule: NcaRule;
  /** State channels; default 16. Must be at least 4 (RGBA come first, alpha is channel 3). */
  readonly channels?: number;
  /** Hidden units of the single hidden layer; default 64 (essay) or 128 (distill). */
  readonly hidden?: number;
  /** Default 0.5 for both rules. */
  readonly fireRate?: number;
  /** Default 0.1 (as float32). */
  readonly aliveThreshold?: number;
  /** Default channel-major, the order of TensorFlow's depthwise convolution used by both sources. */
  readonly perceptionOrder?: PerceptionOrder;
  /**
   * 'random': every layer's weights Glorot-uniform. 'zeros': the same, except the last layer's
   * weights are zero, as Distill does so that a residual model starts by changing nothing.
   * Biases are always zero. Default: 'zeros' for distill, 'random' for essay.
   */
  readonly init?: 'random' | 'zeros';
  /** Uniform [0, 1) source for the weights; default Math.random. Pass a seeded one to reproduce. */
  readonly random?: () => number;
}

/** y = act(Wx + b) with Glorot-uniform W (limit sqrt(6 / (in + out))) or zero W; zero b. */
function denseLayer(
  inputs: number,
  outputs: number,
  activation: Activation,
  init: 'glorot' | 'zeros',
  random: () => number,
): DenseLayer {
  const weights = new Float32Array(inputs * outputs);
  if (init === 'glorot') {
    const limit = Math.sqrt(6 / (inputs + outputs));
    for (let i = 0; i < weights.length; i++) weights[i] = (random() * 2 - 1) * limit;
  }
  return {
    inputs,
    outputs,
    activation,
    weights,
    bias: new Float32Array(outputs),
    weightDType: 'f32',
    biasDType: 'f32',
  };
}

/**
 * An architecture of one of the two rule families with one hidden layer:
 * essay: identity/mean/sobel kernels, atan hidden, sigmoid output, replace, per-element mask,
 * own-alpha; distill: identity/sobel/8 kernels, relu hidden, identity output, residual, per-cell
 * mask, max-pool alive. Throws `NcaFormatError` for sizes outside the format's caps.
 */
export function createArchitecture(options: ArchitectureOptions): Architecture {
  const { rule } = options;
  if (rule !== 'essay' && rule !== 'distill') {
    throw new NcaFormatError('bad-enum', `rule is ${JSON.stringify(rule)}, not one of essay, distill`);
  }
  const essay = rule === 'essay';
  const channels = options.channels ?? 16;
  const hidden = options.hidden ?? (essay ? 64 : 128);
  const random = options.random ?? Math.random;
  const init = options.init ?? (essay ? 'random' : 'zeros');
  const kernels = essay ? essayKernels() : distillKernels();
  const inputs = kernels.length * channels;
  const architecture: Architecture = {
    channels,
    alphaChannel: 3,
    kernels,
    perceptionOrder: options.perceptionOrder ?? 'channel-major',
    layers: [
      denseLayer(inputs, hidden, essay ? 'atan' : 'relu', 'glorot', random),
      denseLayer(hidden, channels, essay ? 'sigmoid' : 'identity', init === 'zeros' ? 'zeros' : 'glorot', random),
    ],
    update: essay ? 'replace' : 'residual',
    fireRate: Math.fround(options.fireRate ?? 0.5),
    fireGranularity: essay ? 'element' : 'cell',
    aliveThreshold: Math.fround(options.aliveThreshold ?? 0.1),
    aliveMode: essay ? 'own-alpha' : 'max-pool',
  };
  validateArchitecture(architecture);
  return architecture;
}

/**
 * A model from an architecture and any metadata fields; the rest default to: name "Untitled",
 * task growth, a 40x40 target, a grid of the target plus 16 cells on every side (capped at MAX_GRID_SIDE),
 * a seed-cell start, no training (0 iterations, loss 0) and no attribution. Validated.
 */
export function createModel(architecture: Architecture, metadata: Partial<ModelMetadata> = {}): NcaModel {
  const targetWidth = metadata.targetWidth ?? DEFAULT_TARGET_SIZE;
  const targetHeight = metadata.targetHeight ?? DEFAULT_TARGET_SIZE;
  const model: NcaModel = {
    architecture,
    metadata: {
      name: metadata.name ?? 'Untitled',
      task: metadata.task ?? 'growth',
      targetWidth,
      targetHeight,
      gridWidth: metadata.gridWidth ?? Math.min(MAX_GRID_SIDE, targetWidth + 2 * TARGET_PADDING),
      gridHeight: metadata.gridHeight ?? Math.min(MAX_GRID_SIDE, targetHeight + 2 * TARGET_PADDING),
      start: metadata.start ?? { kind: 'seed' },
      training: {
        iterations: metadata.training?.iterations ?? 0,
        finalLoss: Math.fround(metadata.training?.finalLoss ?? 0),
      },
      attribution: metadata.attribution ?? '',
    },
  };
  validateModel(model);
  return model;
}
