/**
 * The decoded form of a `.nca` model. Everything the runtime, the reference step and the trainer
 * need to run a model lives here; the byte layout is in docs/format.md.
 */

/** Per-layer activation. Codes in the file: identity 0, relu 1, sigmoid 2, tanh 3, atan 4. */
export type Activation = 'identity' | 'relu' | 'sigmoid' | 'tanh' | 'atan';

/** How the last layer's output changes the state. replace: s' = o; residual: s' = s + o. */
export type UpdateMode = 'replace' | 'residual';

/** Fire-mask granularity: one draw per cell (all channels together) or one per channel. */
export type FireGranularity = 'cell' | 'element';

/**
 * own-alpha: after the update a cell lives iff its new alpha > threshold (the essay).
 * max-pool: a cell lives iff the 3x3 max of alpha > threshold both before and after the update
 * (Distill's "Growing NCA").
 */
export type AliveMode = 'own-alpha' | 'max-pool';

/** Order of the K*C perception values: channel-major p[c*K + k] or kernel-major p[k*C + c]. */
export type PerceptionOrder = 'channel-major' | 'kernel-major';

export type Task = 'growth' | 'persistence' | 'healing';

/** Storage precision of one tensor in the file. The decoded values are always float32. */
export type TensorDType = 'f32' | 'f16' | 'int8';

export interface DenseLayer {
  readonly inputs: number;
  readonly outputs: number;
  readonly activation: Activation;
  /** Row-major [outputs][inputs]: y[o] = act(sum_i weights[o*inputs + i] * x[i] + bias[o]). */
  readonly weights: Float32Array;
  readonly bias: Float32Array;
  readonly weightDType: TensorDType;
  readonly biasDType: TensorDType;
}

export interface Architecture {
  /** State channels per cell (16 in both rule families). */
  readonly channels: number;
  /** Which channel is alpha (3: RGBA come first). */
  readonly alphaChannel: number;
  /**
   * K perception kernels, each 9 floats row-major [dy+1][dx+1], applied as a correlation
   * (p(x,y) = sum K[dy+1][dx+1] * s(x+dx, y+dy)) depthwise to every channel, zero padding.
   */
  readonly kernels: readonly Float32Array[];
  readonly perceptionOrder: PerceptionOrder;
  /** layers[0].inputs === kernels.length * channels; last layer's outputs === channels. */
  readonly layers: readonly DenseLayer[];
  readonly update: UpdateMode;
  /** Probability that a cell (or element) updates in a step, in [0, 1]. */
  readonly fireRate: number;
  readonly fireGranularity: FireGranularity;
  readonly aliveThreshold: number;
  readonly aliveMode: AliveMode;
}

/** How a run starts: one seed cell in the grid's centre, or an embedded RGBA image. */
export type StartState =
  | { readonly kind: 'seed' }
  | {
      readonly kind: 'image';
      readonly width: number;
      readonly height: number;
      /** RGBA, 8 bits per channel, premultiplied by alpha, row-major, length width*height*4. */
      readonly rgba: Uint8Array;
    };

export interface TrainingSummary {
  readonly iterations: number;
  readonly finalLoss: number;
}

export interface ModelMetadata {
  readonly name: string;
  readonly task: Task;
  readonly targetWidth: number;
  readonly targetHeight: number;
  readonly gridWidth: number;
  readonly gridHeight: number;
  readonly start: StartState;
  readonly training: TrainingSummary;
  readonly attribution: string;
}

export interface NcaModel {
  readonly architecture: Architecture;
  readonly metadata: ModelMetadata;
}
