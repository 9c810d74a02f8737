import type { Activation, Architecture } from '../format/types.js';

const ACTIVATIONS: readonly Activation[] = ['identity', 'relu', 'sigmoid', 'tanh', 'atan'];

function fail(message: string): never {
  throw new RangeError(`architecture: ${message}`);
}

/**
 * Throws a RangeError unless `arch` can be run: sizes chain from K*C perception values to C
 * outputs, every tensor has the length its shape implies, enums are known, the fire rate is in
 * [0, 1] and the alive threshold finite as a float32. A decoded model always passes; this guards hand-built
 * architectures (tests, the trainer). The format's caps (C <= 64, K <= 8, ...) are not enforced.
 */
export function checkArchitecture(arch: Architecture): void {
  const { channels, alphaChannel, kernels, layers } = arch;
  if (!Number.isInteger(channels) || channels < 1) fail(`channels must be a positive integer, got ${channels}`);
  if (!Number.isInteger(alphaChannel) || alphaChannel < 0 || alphaChannel >= channels) {
    fail(`alpha channel ${alphaChannel} is outside 0..${channels - 1}`);
  }
  if (kernels.length < 1) fail('needs at least one perception kernel');
  kernels.forEach((kernel, k) => {
    if (kernel.length !== 9) fail(`kernel ${k} has ${kernel.length} values, expected 9`);
  });
  if (arch.perceptionOrder !== 'channel-major' && arch.perceptionOrder !== 'kernel-major') {
    fail(`unknown perception order ${String(arch.perceptionOrder)}`);
  }
  if (layers.length < 1) fail('needs at least one layer');
  let inputs = kernels.length * channels;
  layers.forEach((layer, l) => {
    if (layer.inputs !== inputs) fail(`layer ${l} takes ${layer.inputs} inputs, expected ${inputs}`);
    if (!Number.isInteger(layer.outputs) || layer.outputs < 1) fail(`layer ${l} has ${layer.outputs} outputs`);
    if (layer.weights.length !== layer.inputs * layer.outputs) {
      fail(`layer ${l} has ${layer.weights.length} weights, expected ${layer.inputs * layer.outputs}`);
    }
    if (layer.bias.length !== layer.outputs) {
      fail(`layer ${l} has ${layer.bias.length} biases, expected ${layer.outputs}`);
    }
    if (!ACTIVATIONS.includes(layer.activation)) fail(`layer ${l} has unknown activation ${String(layer.activation)}`);
    inputs = layer.outputs;
  });
  if (inputs !== channels) fail(`last layer has ${inputs} outputs, expected ${channels} (one per channel)`);
  if (arch.update !== 'replace' && arch.update !== 'residual') fail(`unknown update mode ${String(arch.update)}`);
  if (arch.fireGranularity !== 'cell' && arch.fireGranularity !== 'element') {
    fail(`unknown fire granularity ${String(arch.fireGranularity)}`);
  }
  if (arch.aliveMode !== 'own-alpha' && arch.aliveMode !== 'max-pool') fail(`unknown alive mode ${String(arch.aliveMode)}`);
  if (!(arch.fireRate >= 0 && arch.fireRate <= 1)) fail(`fire rate must be in [0, 1], got ${arch.fireRate}`);
  if (!Number.isFinite(Math.fround(arch.aliveThreshold))) {
    fail(`alive threshold must be a finite float32, got ${arch.aliveThreshold}`);
  }
}
