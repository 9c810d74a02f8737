/**
 * Export: the trained weights as a `.nca` file (through `encodeModel`, int8 weights by default),
 * written atomically, with a measured quantization error: the exported model and the float32
 * weights are both run by the reference step from the model's own start, and the largest
 * difference of any state value along the way is reported.
 */
import { decodeModel, encodeModel } from '../../runtime/format/index.js';
import type { NcaModel, TensorDType } from '../../runtime/format/types.js';
import { runSteps, startState } from '../../runtime/reference/index.js';
import { writeFileAtomic } from './atomic.js';

export interface QuantizationReport {
  /** Steps both models were run for (seed 0). */
  readonly steps: number;
  /** Largest |exported - float32| over every channel of the final state. */
  readonly maxAbsState: number;
  /** Largest |exported - float32| over RGBA of the final state. */
  readonly maxAbsRgba: number;
  /** Mean |exported - float32| over RGBA of the final state (a flipped cell or two barely move it). */
  readonly meanAbsRgba: number;
  /** Largest |exported - float32| over all weights and biases. */
  readonly maxAbsWeight: number;
}

export interface ExportReport {
  readonly path: string;
  readonly bytes: number;
  readonly precision: TensorDType;
  readonly quantization: QuantizationReport;
}

function maxAbsDifference(a: Float32Array, b: Float32Array, stride = 1, count = stride): number {
  let max = 0;
  for (let base = 0; base < a.length; base += stride) {
    for (let c = 0; c < count; c++) {
      const d = Math.abs(a[base + c]! - b[base + c]!);
      // NaN (a diverged copy) must show as a failure, not vanish in Math.max.
      if (!(d <= max)) max = Number.isNaN(d) ? Infinity : d;
    }
  }
  return max;
}

/** Runs both models by the reference step and compares (see `QuantizationReport`). */
export function quantizationError(reference: NcaModel, exported: NcaModel, steps: number): QuantizationReport {
  const start = startState(reference);
  const a = runSteps(reference.architecture, start, { seed: 0, steps });
  const b = runSteps(exported.architecture, start, { seed: 0, steps });
  let maxAbsWeight = 0;
  reference.architecture.layers.forEach((layer, l) => {
    const other = exported.architecture.layers[l]!;
    maxAbsWeight = Math.max(maxAbsWeight, maxAbsDifference(layer.weights, other.weights), maxAbsDifference(layer.bias, other.bias));
  });
  const channels = start.channels;
  const rgba = reference.architecture.alphaChannel + 1;
  let sum = 0;
  for (let base = 0; base < a.data.length; base += channels) {
    for (let c = 0; c < rgba; c++) sum += Math.abs(a.data[base + c]! - b.data[base + c]!);
  }
  return {
    steps,
    maxAbsState: maxAbsDifference(a.data, b.data),
    maxAbsRgba: maxAbsDifference(a.data, b.data, channels, rgba),
    meanAbsRgba: sum / ((a.data.length / channels) * rgba),
    maxAbsWeight,
  };
}

/**
 * Encodes `model` at `precision` (weights and biases), decodes it back (so what is measured is
 * what a page will load), measures the quantization error over `steps` steps and writes the file
 * atomically. Returns the report and the decoded model.
 */
export async function exportModel(
  model: NcaModel,
  path: string,
  precision: TensorDType,
  steps: number,
): Promise<{ report: ExportReport; decoded: NcaModel }> {
  const bytes = encodeModel(model, { precision, biasPrecision: precision });
  const decoded = decodeModel(bytes);
  const quantization = quantizationError(model, decoded, steps);
  await writeFileAtomic(path, bytes);
  return { report: { path, bytes: bytes.byteLength, precision, quantization }, decoded };
}
