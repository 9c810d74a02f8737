/** Scoring a model without a browser (`nca eval`); see docs/cli.md. */
export { InputError, loadGridImage, readModel, type GridImage, type InputErrorCode } from './inputs.js';
export {
  DEFAULT_HEAL_STEPS,
  DEFAULT_LONG_STEPS,
  LONG_RUN_INTERVAL,
  THRESHOLDS,
  defaultSteps,
  evaluateModel,
  longRunCheckpoints,
  requiredCriteria,
  standardBites,
  startImageTarget,
  targetFromState,
  type Bite,
  type BiteResult,
  type Criterion,
  type EvalOptions,
  type EvalProgress,
  type EvalResult,
  type EvalTarget,
  type GrowthResult,
  type HealingResult,
  type PersistenceResult,
  type Snapshot,
  type Verdict,
} from './evaluate.js';
export {
  PSNR_CAP_DB,
  aliveOutside,
  alphaBoundingBox,
  dilateBox,
  healthOf,
  overgrowthMargin,
  premultipliedRgba,
  psnr,
  type Box,
  type Health,
} from './metrics.js';
export { formatJson, formatPsnr, formatReport, reportJson, type EvalReport } from './report.js';
export { ReferenceStepper, referenceStepper, type Stepper, type StepperFactory } from './stepper.js';
