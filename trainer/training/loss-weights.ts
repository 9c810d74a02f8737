/**
 * Per-value weights of the training loss (`--background-weight`). The plain loss (the essay's)
 * weighs every RGBA error alike, so a "ghost" cell outside the sprite with alpha just above the
 * alive threshold costs almost nothing (0.11^2), yet it is alive: it perceives, it spreads, and
 * past the training horizon the grid overgrows. Weighing the alpha error of the cells the target
 * leaves transparent by W makes such life cost W times more, where it starts.
 */

/**
 * Weights [plane * rgba] for a premultiplied RGBA target [plane * rgba]: `backgroundWeight` on
 * the alpha of transparent target cells, 1 elsewhere; undefined for weight 1 (the plain loss,
 * which both engines then compute exactly as before).
 */
export function lossWeights(target: Float32Array, rgba: number, backgroundWeight: number): Float32Array | undefined {
  if (backgroundWeight === 1) return undefined;
  const weights = new Float32Array(target.length).fill(1);
  const alpha = rgba - 1;
  for (let i = alpha; i < target.length; i += rgba) if (target[i] === 0) weights[i] = backgroundWeight;
  return weights;
}
