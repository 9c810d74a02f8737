/** How the tfjs engine keeps a rollout's activations for the backward pass when --memory is auto. */
import type { Architecture } from '../../runtime/format/types.js';
import type { ActivationMemory, AliveGradient } from '../model/step.js';

/** Memory a run may use for its backward records before it switches to recomputing. */
const MEMORY_BUDGET: Readonly<Record<string, number>> = { tensorflow: 8e9, wasm: 2.5e9, cpu: 2e9 };

/** 'save' when the hardest rollout's records fit the backend's budget, else 'recompute'. */
export function chooseMemory(arch: Architecture, cells: number, steps: number, tfBackend: string, aliveGradient: AliveGradient = 'constant'): ActivationMemory {
  const fireDepth = arch.fireGranularity === 'cell' ? 1 : arch.channels;
  // The input, fire mask, alive mask, the updated state for the ramp surrogate and (saved) the perception.
  const updated = aliveGradient === 'ramp' && arch.aliveMode === 'own-alpha' ? arch.channels : 0;
  let perCell = arch.channels + fireDepth + 1 + updated + arch.kernels.length * arch.channels;
  arch.layers.forEach((layer, l) => {
    const last = l === arch.layers.length - 1;
    if (!last || layer.activation === 'relu' || layer.activation === 'sigmoid' || layer.activation === 'tanh') perCell += layer.outputs;
    if (layer.activation === 'atan') perCell += layer.outputs;
  });
  const bytes = cells * perCell * 4 * steps;
  return bytes <= (MEMORY_BUDGET[tfBackend] ?? 1.5e9) ? 'save' : 'recompute';
}
