/**
 * A finished job's `nca eval`: the same API and defaults as the command, against the job's
 * sprite (so a growth model, which embeds no image, is scored too).
 */
import { DEFAULT_HEAL_STEPS, DEFAULT_LONG_STEPS, defaultSteps, evaluateModel, loadGridImage, readModel, targetFromState, type EvalProgress, type EvalReport } from '../eval/index.js';
import type { EvalSettings } from './plan.js';

export async function scoreModel(modelPath: string, targetPath: string, settings: EvalSettings, onProgress?: (progress: EvalProgress) => void): Promise<EvalReport> {
  const model = await readModel(modelPath);
  const steps = settings.steps ?? defaultSteps(model.metadata.task);
  const image = await loadGridImage(targetPath, model);
  const result = await evaluateModel(model, targetFromState(image.state, model), {
    steps,
    healSteps: settings.healSteps ?? DEFAULT_HEAL_STEPS,
    longSteps: settings.longSteps ?? Math.max(DEFAULT_LONG_STEPS, steps),
    ...(onProgress ? { onProgress } : {}),
  });
  const { metadata } = model;
  return {
    file: modelPath,
    name: metadata.name,
    gridWidth: metadata.gridWidth,
    gridHeight: metadata.gridHeight,
    target: { source: 'file', path: targetPath, width: image.width, height: image.height },
    result,
  };
}
