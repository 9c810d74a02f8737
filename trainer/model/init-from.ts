/**
 * `--init-from FILE.nca`: a fresh run starts from the weights of a model already trained (fine
 * tuning), e.g. the essay's order of tasks, where healing builds on a model that persists. Only
 * the weights come from the file; the rule's constants (fire rate, alive threshold) are the run's.
 *
 * A run with a wider hidden layer than the model's (`--hidden` above the file's) starts from the
 * model widened: its hidden units come first with their weights, the extra units keep the run's
 * fresh input weights and get zero output weights, so the widened network computes exactly the
 * model's step, and training gains capacity from there (Net2Net's idea: grow a network without
 * changing its function). A narrower run is refused: dropping units would change the model.
 */
import type { Architecture, DenseLayer, NcaModel } from '../../runtime/format/types.js';
import { TrainerError } from '../errors.js';

/**
 * Whether `model`'s two-layer network fits inside `run`'s as its first hidden units: the same
 * inputs, outputs and activations, and a hidden layer at least as wide.
 */
function canWiden(run: Architecture, model: Architecture): boolean {
  if (run.layers.length !== 2 || model.layers.length !== 2) return false;
  const [runHidden, runOutput] = run.layers as [DenseLayer, DenseLayer];
  const [hidden, output] = model.layers as [DenseLayer, DenseLayer];
  return (
    runHidden.inputs === hidden.inputs &&
    runHidden.activation === hidden.activation &&
    runHidden.outputs >= hidden.outputs &&
    runOutput.outputs === output.outputs &&
    runOutput.activation === output.activation
  );
}

/** What differs between the run's architecture and the model's, empty when the weights fit. */
export function weightMismatches(run: Architecture, model: Architecture): string[] {
  const problems: string[] = [];
  if (run.channels !== model.channels) problems.push(`${model.channels} channels, the run has ${run.channels}`);
  if (run.update !== model.update) problems.push(`a ${model.update} update, the run's rule has ${run.update}`);
  if (run.aliveMode !== model.aliveMode) problems.push(`alive mode ${model.aliveMode}, the run's rule has ${run.aliveMode}`);
  if (run.perceptionOrder !== model.perceptionOrder) problems.push(`perception order ${model.perceptionOrder}, the run's is ${run.perceptionOrder}`);
  const sameKernels =
    run.kernels.length === model.kernels.length && run.kernels.every((kernel, k) => kernel.every((v, i) => Math.abs(v - model.kernels[k]![i]!) < 1e-6));
  if (!sameKernels) problems.push('other perception kernels than the run\'s rule');
  if (canWiden(run, model)) return problems;
  if (run.layers.length !== model.layers.length) problems.push(`${model.layers.length} layers, the run has ${run.layers.length}`);
  else {
    run.layers.forEach((layer, i) => {
      const other = model.layers[i]!;
      if (layer.inputs !== other.inputs || layer.outputs !== other.outputs || layer.activation !== other.activation) {
        problems.push(`layer ${i} is ${other.inputs}->${other.outputs} ${other.activation}, the run's is ${layer.inputs}->${layer.outputs} ${layer.activation}`);
      }
    });
  }
  return problems;
}

/** `run` with the model's weights and biases (float32 copies); throws when they do not fit. */
export function weightsFrom(run: Architecture, model: NcaModel, path: string): Architecture {
  const problems = weightMismatches(run, model.architecture);
  if (problems.length > 0) {
    throw new TrainerError('bad-option', `--init-from ${path}: its weights do not fit this run: ${problems.join('; ')} (match --rule, --channels and --hidden, or a wider --hidden)`);
  }
  if (run.layers[0]!.outputs > model.architecture.layers[0]!.outputs) return widened(run, model.architecture);
  return {
    ...run,
    layers: run.layers.map((layer, i) => {
      const source = model.architecture.layers[i]!;
      return { ...layer, weights: Float32Array.from(source.weights), bias: Float32Array.from(source.bias) };
    }),
  };
}

/** `run` with `model`'s hidden units first and output weights of zero on the extra ones (see above). */
function widened(run: Architecture, model: Architecture): Architecture {
  const [runHidden, runOutput] = run.layers as [DenseLayer, DenseLayer];
  const [hidden, output] = model.layers as [DenseLayer, DenseLayer];
  // Hidden weights are [unit][input]: the model's units are its first rows.
  const w0 = Float32Array.from(runHidden.weights);
  w0.set(hidden.weights);
  const b0 = Float32Array.from(runHidden.bias);
  b0.set(hidden.bias);
  // Output weights are [output][unit]: each row holds the model's units, then zeros.
  const w1 = new Float32Array(runOutput.weights.length);
  for (let o = 0; o < output.outputs; o++) w1.set(output.weights.subarray(o * output.inputs, (o + 1) * output.inputs), o * runOutput.inputs);
  return {
    ...run,
    layers: [
      { ...runHidden, weights: w0, bias: b0 },
      { ...runOutput, weights: w1, bias: Float32Array.from(output.bias) },
    ],
  };
}
