/** The CA state: a W x H grid of C float32 channels per cell. */

/** A CA state in HWC order: channel c of cell (x, y) is `data[(y * width + x) * channels + c]`. */
export interface CaState {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly data: Float32Array;
}

function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
}

/**
 * An all-zero (all-dead) state.
 * @throws RangeError if a size is not a positive integer.
 */
export function createState(width: number, height: number, channels: number): CaState {
  assertPositiveInteger('width', width);
  assertPositiveInteger('height', height);
  assertPositiveInteger('channels', channels);
  return { width, height, channels, data: new Float32Array(width * height * channels) };
}

/** A copy of `state` that shares nothing with it. */
export function cloneState(state: CaState): CaState {
  return { width: state.width, height: state.height, channels: state.channels, data: state.data.slice() };
}

/**
 * Throws a RangeError unless `state` is a well-formed state of `channels` channels (positive
 * integer sizes and `data.length === width * height * channels`).
 */
export function checkState(state: CaState, channels: number): void {
  assertPositiveInteger('state width', state.width);
  assertPositiveInteger('state height', state.height);
  if (state.channels !== channels) {
    throw new RangeError(`state has ${state.channels} channels, the architecture ${channels}`);
  }
  const expected = state.width * state.height * state.channels;
  if (state.data.length !== expected) {
    throw new RangeError(`state data has ${state.data.length} values, expected ${expected}`);
  }
}

/** True if any value of the state is NaN or infinite (a diverged model). */
export function hasNonFinite(state: CaState): boolean {
  for (const v of state.data) {
    if (!Number.isFinite(v)) return true;
  }
  return false;
}
