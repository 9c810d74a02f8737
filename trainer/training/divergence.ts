/**
 * The divergence guard: after each iteration's rollout and before its update, the run stops if
 * the loss or the gradient is not finite (NaN, +Infinity or -Infinity) or the loss exceeds
 * `factor` x the reference (the larger of the first iteration's loss and an empty grid's loss),
 * so a blown-up step never reaches the weights, a checkpoint or the export.
 */

export interface GuardInput {
  readonly loss: number;
  readonly gradientNorm: number;
  /** max(first loss, empty-grid loss). */
  readonly reference: number;
  /** --diverge-factor. */
  readonly factor: number;
  /** The iteration being judged, counted from 1. */
  readonly iteration: number;
}

/** Why the run must stop, or null when the iteration may be applied. */
export function divergence({ loss, gradientNorm, reference, factor, iteration }: GuardInput): string | null {
  if (!Number.isFinite(loss) || !Number.isFinite(gradientNorm)) {
    return `loss ${loss} / gradient norm ${gradientNorm} at iteration ${iteration} is not finite`;
  }
  // NOTE: written as "not <=" so a NaN reference also stops the run.
  if (!(loss <= factor * reference)) {
    return `loss ${loss.toPrecision(4)} at iteration ${iteration} exceeds ${factor} x ${reference.toPrecision(4)}: diverging`;
  }
  return null;
}
