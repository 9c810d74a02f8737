/**
 * `--init-from FILE.nca`: a fresh run starts from the weights of a model already trained (fine
 * tuning), e.g. the essay's order of tasks, where healing builds on a model that persists. Only
 * the weights come from the file; the rule's constants (fire rate, alive threshold) are the run's.
 */
import type { Architecture, NcaModel } from '../../runtime/format/types.js';
import { TrainerError } from '../errors.js';

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
    throw new TrainerError('bad-option', `--init-from ${path}: its weights do not fit this run: ${problems.join('; ')} (match --rule, --channels and --hidden)`);
  }
  return {
    ...run,
    layers: run.layers.map((layer, i) => {
      const source = model.architecture.layers[i]!;
      return { ...layer, weights: Float32Array.from(source.weights), bias: Float32Array.from(source.bias) };
    }),
  };
}
