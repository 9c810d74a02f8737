/**
 * A run as frames: the state every K steps from step 0 to N, with optional bites at given steps,
 * so one animation can show a sprite growing and then healing.
 */
import type { Architecture } from '../../runtime/format/types.js';
import { toRgba } from '../../runtime/reference/index.js';
import { PROGRESS_CHUNK, type Stepper } from '../eval/stepper.js';

export interface Damage {
  /** Centre in cell coordinates (cell (x, y) covers [x, x+1) x [y, y+1)), radius in cells. */
  readonly x: number;
  readonly y: number;
  readonly radius: number;
  /** Applied to the state after this many steps (the frame of that step shows the bite). */
  readonly step: number;
}

export interface Frame {
  readonly step: number;
  readonly width: number;
  readonly height: number;
  /** Straight-alpha RGBA8 (`toRgba`), width*height*4 bytes. */
  readonly rgba: Uint8ClampedArray;
}

export interface FrameOptions {
  /** N: the last step shown. */
  readonly steps: number;
  /** K: a frame every K steps (and always at step 0 and step N). */
  readonly every: number;
  readonly damage?: readonly Damage[];
  readonly onProgress?: (done: number, total: number) => void;
}

/** Frame steps: 0, K, 2K, ... and N. */
export function frameSteps(steps: number, every: number): number[] {
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`steps must be an integer >= 0, got ${steps}`);
  if (!Number.isInteger(every) || every < 1) throw new RangeError(`every must be an integer >= 1, got ${every}`);
  const out: number[] = [];
  for (let s = 0; s < steps; s += every) out.push(s);
  out.push(steps);
  return out;
}

/** Runs `stepper` from its start and collects the frames. */
export async function renderFrames(stepper: Stepper, arch: Architecture, options: FrameOptions): Promise<Frame[]> {
  const { steps, every, damage = [] } = options;
  const shots = new Set(frameSteps(steps, every));
  for (const d of damage) {
    if (!Number.isInteger(d.step) || d.step < 0 || d.step > steps) {
      throw new RangeError(`a bite at step ${d.step} is outside the run (0..${steps})`);
    }
  }
  const events = [...new Set([...shots, ...damage.map((d) => d.step)])].sort((a, b) => a - b);
  await stepper.reset();
  const frames: Frame[] = [];
  let at = 0;
  for (const event of events) {
    while (at < event) {
      const n = Math.min(PROGRESS_CHUNK, event - at);
      await stepper.step(n);
      at += n;
      options.onProgress?.(at, steps);
    }
    for (const d of damage) if (d.step === event) await stepper.damage(d.x, d.y, d.radius);
    if (shots.has(event)) {
      const state = await stepper.readState();
      frames.push({ step: event, width: state.width, height: state.height, rgba: toRgba(state, arch) });
    }
  }
  return frames;
}
