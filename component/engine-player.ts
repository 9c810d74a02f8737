/**
 * Runs one engine in time: turns frame timestamps into CA steps at a speed, holds the start for
 * some frames, watches for a dead or NaN state and loops. A plain class (no Lit, no DOM) so the
 * element stays a thin adapter and the timing is unit-tested in Node with a fake engine.
 *
 * Engine operations return Promises: on webgl2/webgl/cpu they have run when the call returns, on
 * webgpu/webasm they finish later. The player keeps at most one batch of steps in flight, so a
 * slow backend runs in slower motion instead of queueing work without bound.
 */
import type { NcaEngine } from '../runtime/index.js';
import { BASE_STEPS_PER_SECOND, type LoopSetting } from './attributes.js';

/** Longest frame gap counted; a longer one (a debugger pause, a throttled tab) is not caught up. */
export const MAX_FRAME_GAP_MS = 100;
/** Most steps run in one frame, so a high speed degrades to slower motion rather than jank. */
export const MAX_STEPS_PER_FRAME = 16;
/**
 * Steps between state checks once the run is under way. Reading the state back stalls a GPU
 * pipeline, so it is done about once a second at speed 1, never every frame.
 */
export const STATE_CHECK_INTERVAL = 64;
/** Until this many steps, check at 8, 16, 32: a model that dies at once is noticed quickly. */
const FIRST_STATE_CHECK = 8;

export type StateProblem = 'dead' | 'nan';

/** How a run starts, with any image already decoded to straight-alpha RGBA. */
export type PreparedStart =
  | { readonly kind: 'model' }
  | { readonly kind: 'seed' }
  | { readonly kind: 'rgba'; readonly rgba: Uint8Array | Uint8ClampedArray; readonly width: number; readonly height: number };

export interface PlayerSettings {
  readonly speed: number;
  readonly freezeFrames: number;
  readonly loop: LoopSetting;
}

export interface FrameReport {
  /** Steps run (finished) for this frame or call. */
  readonly steps: number;
  /** Set when a state check found the state dead or NaN. */
  readonly problem?: StateProblem;
  /** True when the run restarted (loop). */
  readonly restarted: boolean;
}

const NOTHING: FrameReport = { steps: 0, restarted: false };

/** What a state check found: `undefined` when the state is alive and finite. */
export function inspectState(state: Float32Array, channels: number, alphaChannel: number, aliveThreshold: number): StateProblem | undefined {
  let alive = false;
  for (let i = 0; i < state.length; i++) {
    const v = state[i]!;
    if (!Number.isFinite(v)) return 'nan';
    if (!alive && i % channels === alphaChannel && v > aliveThreshold) alive = true;
  }
  return alive ? undefined : 'dead';
}

export class EnginePlayer {
  settings: PlayerSettings = { speed: 1, freezeFrames: 0, loop: { enabled: false, afterSteps: undefined } };
  /** Why stepping stopped by itself (the state died or turned NaN without `loop`); cleared by restart. */
  halted: StateProblem | undefined;

  private start: PreparedStart = { kind: 'model' };
  private fraction = 0;
  private lastFrame: number | undefined;
  private freezeLeft = 0;
  private nextCheckAt = FIRST_STATE_CHECK;
  private inFlight = false;
  /** Settles when the batch in flight (if any) has finished. */
  private idle: Promise<void> = Promise.resolve();
  private rateWindowStart: number | undefined;
  private rateWindowSteps = 0;
  private measuredRate = 0;

  /**
   * @param engine the engine this player drives (the caller owns and disposes it)
   * @param draw renders the engine's latest finished state to the visible canvas
   */
  constructor(
    readonly engine: NcaEngine,
    private readonly draw: () => void,
  ) {}

  /** Steps per second over the last half second of frames. */
  get stepsPerSecond(): number {
    return this.measuredRate;
  }

  get stepCount(): number {
    return this.engine.stepCount;
  }

  /** True while a batch of steps from `frame` or `stepBy` has not finished. */
  get busy(): boolean {
    return this.inFlight;
  }

  /** Sets how the next `restart` starts; does not restart by itself. */
  setStart(start: PreparedStart): void {
    this.start = start;
  }

  /** Back to the start state (model start, seed or image), drawn; then held for `freezeFrames`. */
  async restart(): Promise<void> {
    const { engine } = this;
    this.halted = undefined;
    this.fraction = 0;
    this.freezeLeft = this.settings.freezeFrames;
    this.nextCheckAt = FIRST_STATE_CHECK;
    const start = this.start;
    const done: Promise<void>[] = [engine.reset()];
    if (start.kind === 'seed' && engine.model.metadata.start.kind === 'image') {
      // reset() loads the embedded image; clear it and plant the usual centre seed instead.
      done.push(engine.damage(engine.width / 2, engine.height / 2, Math.hypot(engine.width, engine.height)));
      done.push(engine.plant(Math.floor(engine.width / 2), Math.floor(engine.height / 2)));
    } else if (start.kind === 'rgba') {
      done.push(engine.setStateFromImage(start.rgba, start.width, start.height));
    }
    // Queued in call order by the engine; wait for all of them (and surface the first failure).
    await Promise.all(done);
    this.draw();
  }

  /** Forget the previous frame time, so time spent paused or hidden is not stepped through. */
  resume(): void {
    this.lastFrame = undefined;
    this.rateWindowStart = undefined;
    this.rateWindowSteps = 0;
  }

  /**
   * Called once per animation frame while the element animates. Starts this frame's steps and
   * settles when they (and any state check) have finished.
   */
  frame(now: number): Promise<FrameReport> {
    const gap = this.lastFrame === undefined ? 0 : Math.min(MAX_FRAME_GAP_MS, Math.max(0, now - this.lastFrame));
    this.lastFrame = now;
    this.measure(now);
    if (this.halted !== undefined) return Promise.resolve(NOTHING);
    if (this.freezeLeft > 0) {
      this.freezeLeft--;
      return Promise.resolve(NOTHING);
    }
    // Fractional speeds accumulate here: at speed 0.1 a step runs every tenth 60 Hz frame. The
    // epsilon absorbs rounding in 1000/60-ms gaps, which would otherwise drop a step now and then.
    const due = Math.min(MAX_STEPS_PER_FRAME, this.fraction + (gap / 1000) * BASE_STEPS_PER_SECOND * this.settings.speed);
    if (this.inFlight) {
      // The backend is behind (webgpu/webasm steps finish later): bank the time, up to one frame's cap.
      this.fraction = due;
      return Promise.resolve(NOTHING);
    }
    const steps = Math.floor(due + 1e-6);
    this.fraction = Math.max(0, due - steps);
    if (steps === 0) return Promise.resolve(NOTHING);
    return this.exclusive(() => this.advance(steps));
  }

  /** Runs n steps now (paused or not), as `step(n)` on the element; waits for a batch in flight. */
  async stepBy(n: number): Promise<FrameReport> {
    const steps = Math.max(0, Math.floor(n));
    this.halted = undefined;
    this.freezeLeft = 0;
    return this.exclusive(() => this.advance(steps));
  }

  /** Erase a disc (continuous cell coordinates) and show it. */
  async damage(x: number, y: number, radius: number): Promise<void> {
    await this.engine.damage(x, y, radius);
    this.draw();
  }

  /** Plant a seed cell and show it; a state that had died can grow again. */
  async plant(x: number, y: number): Promise<void> {
    if (this.halted === 'dead') this.halted = undefined;
    this.nextCheckAt = this.engine.stepCount + FIRST_STATE_CHECK;
    await this.engine.plant(x, y);
    this.draw();
  }

  /** Reads the state back and classifies it. */
  async check(): Promise<StateProblem | undefined> {
    const { engine } = this;
    const arch = engine.model.architecture;
    return inspectState(await engine.readState(), arch.channels, arch.alphaChannel, arch.aliveThreshold);
  }

  private async exclusive(work: () => Promise<FrameReport>): Promise<FrameReport> {
    while (this.inFlight) await this.idle;
    this.inFlight = true;
    let finish!: () => void;
    this.idle = new Promise((resolve) => (finish = resolve));
    try {
      return await work();
    } finally {
      this.inFlight = false;
      finish();
    }
  }

  private async advance(steps: number): Promise<FrameReport> {
    const { engine } = this;
    const { afterSteps, enabled: loops } = this.settings.loop;
    let remaining = steps;
    let ran = 0;
    let problem: StateProblem | undefined;
    let restarted = false;
    while (remaining > 0) {
      // Never run past a step count where something is due: a loop restart or a state check.
      let chunk = Math.min(remaining, Math.max(1, this.nextCheckAt - engine.stepCount));
      if (afterSteps !== undefined) chunk = Math.min(chunk, Math.max(1, afterSteps - engine.stepCount));
      await engine.step(chunk);
      ran += chunk;
      remaining -= chunk;
      this.rateWindowSteps += chunk;
      if (afterSteps !== undefined && engine.stepCount >= afterSteps) {
        await this.restart();
        restarted = true;
        break;
      }
      if (engine.stepCount >= this.nextCheckAt) {
        this.nextCheckAt = nextCheck(engine.stepCount);
        problem = await this.check();
        if (problem !== undefined) {
          if (loops) {
            await this.restart();
            restarted = true;
          } else {
            this.halted = problem;
          }
          break;
        }
      }
    }
    if (ran > 0 && !restarted) this.draw();
    return problem === undefined ? { steps: ran, restarted } : { steps: ran, problem, restarted };
  }

  private measure(now: number): void {
    if (this.rateWindowStart === undefined) {
      this.rateWindowStart = now;
      this.rateWindowSteps = 0;
      return;
    }
    const elapsed = now - this.rateWindowStart;
    if (elapsed >= 500) {
      this.measuredRate = (this.rateWindowSteps * 1000) / elapsed;
      this.rateWindowStart = now;
      this.rateWindowSteps = 0;
    }
  }
}

function nextCheck(stepCount: number): number {
  if (stepCount < STATE_CHECK_INTERVAL) {
    let next = FIRST_STATE_CHECK;
    while (next <= stepCount) next *= 2;
    return Math.min(next, STATE_CHECK_INTERVAL);
  }
  return (Math.floor(stepCount / STATE_CHECK_INTERVAL) + 1) * STATE_CHECK_INTERVAL;
}
