/**
 * The trainable form of an architecture's layers: one tf.Variable per weight matrix and bias.
 *
 * Weights are held transposed against the file ([inputs, outputs], so the forward pass is a plain
 * `matMul(x, W)` that keeps the wasm backend on its fast path) and layer 0's rows are always in
 * channel-major perception order (what `depthwiseConv2d` produces); a kernel-major architecture
 * only permutes rows on the way in and out.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation, Architecture, DenseLayer } from '../../runtime/format/types.js';
import { fileInputIndex, trainerLayout } from './layout.js';

export interface TrainableLayer {
  readonly activation: Activation;
  readonly inputs: number;
  readonly outputs: number;
  /** [inputs, outputs]. */
  readonly weights: tf.Variable<tf.Rank.R2>;
  /** [outputs]. */
  readonly bias: tf.Variable<tf.Rank.R1>;
}

export class TrainableNetwork {
  readonly layers: readonly TrainableLayer[];

  private constructor(layers: TrainableLayer[]) {
    this.layers = layers;
  }

  /** Variables initialised from the architecture's (float32) weights. */
  static fromArchitecture(arch: Architecture): TrainableNetwork {
    const values = trainerLayout(arch);
    const layers = arch.layers.map((layer, l) => ({
      activation: layer.activation,
      inputs: layer.inputs,
      outputs: layer.outputs,
      weights: tf.tidy(() => tf.variable(tf.tensor2d(values[2 * l]!, [layer.inputs, layer.outputs]))),
      bias: tf.tidy(() => tf.variable(tf.tensor1d(values[2 * l + 1]!))),
    }));
    return new TrainableNetwork(layers);
  }

  /** Weights and biases interleaved: [W0, b0, W1, b1, ...] (the order of every gradient list). */
  get variables(): tf.Variable[] {
    return this.layers.flatMap((layer) => [layer.weights, layer.bias]);
  }

  /** Current values, in `variables` order. */
  read(): Float32Array[] {
    return this.variables.map((v) => v.dataSync() as Float32Array).map((a) => Float32Array.from(a));
  }

  /** Overwrites every variable (from `read()` or a checkpoint), shapes checked. */
  assign(values: readonly Float32Array[]): void {
    const variables = this.variables;
    if (values.length !== variables.length) throw new RangeError(`expected ${variables.length} tensors, got ${values.length}`);
    variables.forEach((v, i) => {
      const value = values[i]!;
      if (value.length !== v.size) throw new RangeError(`${v.name}: expected ${v.size} values, got ${value.length}`);
      const tensor = tf.tensor(value, v.shape);
      v.assign(tensor);
      tensor.dispose();
    });
  }

  /** The architecture with these weights, float32, in the file's layout and order. */
  toArchitecture(arch: Architecture): Architecture {
    const values = this.read();
    const layers: DenseLayer[] = this.layers.map((layer, l) => {
      const transposed = values[2 * l]!;
      const weights = new Float32Array(layer.inputs * layer.outputs);
      for (let row = 0; row < layer.inputs; row++) {
        const i = fileInputIndex(arch, l, row);
        for (let o = 0; o < layer.outputs; o++) weights[o * layer.inputs + i] = transposed[row * layer.outputs + o]!;
      }
      return {
        inputs: layer.inputs,
        outputs: layer.outputs,
        activation: layer.activation,
        weights,
        bias: values[2 * l + 1]!,
        weightDType: 'f32',
        biasDType: 'f32',
      };
    });
    return { ...arch, layers };
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
