/**
 * The reference CA step: plain, exact TypeScript (no DOM, no Node) that defines what every other
 * backend (gpu.js kernels, the TensorFlow.js trainer) must compute. See docs/format.md,
 * "Running a model".
 */
export { aliveMask, aliveThreshold32, isAllDead, neighbourhoodMaxAlpha } from './alive.js';
export { checkArchitecture } from './architecture.js';
export { damageDisc } from './damage.js';
export { FIRE_HASH_PRIME, MAX_SEED, fireHash, fireKey, fires, fireThreshold } from './fire-hash.js';
export { stateFromImage, toRgba, type ImageImportOptions } from './image.js';
export { gradientPairs, perceptionKernels } from './kernels.js';
export { ACTIVATION_FUNCTIONS, applyLayers, denseForward, layerBuffers } from './network.js';
export { perceive } from './perceive.js';
export { plantSeed, seedState } from './seed.js';
export { startState } from './start.js';
export { checkState, cloneState, createState, hasNonFinite, type CaState } from './state.js';
export {
  hashFireMask,
  runSteps,
  stepOnce,
  stepWithKernels,
  type FireMask,
  type RunOptions,
  type StepOptions,
} from './step.js';
