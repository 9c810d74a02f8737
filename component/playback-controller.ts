/**
 * When the element steps, and what it says about it: the animation gate (connected, running,
 * not paused, speed above 0, motion allowed, visible, context not lost, state not halted), the
 * frame loop on the page's shared scheduler, state problems reported, and `nca-step` throttled.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { EngineController } from './engine-controller.js';
import type { EnginePlayer, FrameReport } from './engine-player.js';
import { NcaStateError, NcaStepEvent } from './events.js';
import { sharedFrameScheduler } from './frame-scheduler.js';
import { ReducedMotionController } from './reduced-motion.js';
import type { Reporter } from './reporter.js';
import type { ElementSettings } from './settings.js';
import { VisibilityController } from './visibility.js';

export interface PlaybackOptions {
  readonly engine: EngineController;
  readonly settings: ElementSettings;
  readonly reporter: Reporter;
  /** The element's `paused` property. */
  readonly paused: () => boolean;
  /** Called on every gate check with whether steps run now (custom state `playing`). */
  readonly playingChanged: (playing: boolean) => void;
}

export class PlaybackController implements ReactiveController {
  private _playing = false;
  /** play() / Space overrides prefers-reduced-motion until the preference changes again. */
  private motionRequested = false;
  private lastStepEvent = 0;
  private readonly scheduler = sharedFrameScheduler();
  private readonly visibility: VisibilityController;
  private readonly motion: ReducedMotionController;

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly options: PlaybackOptions,
  ) {
    host.addController(this);
    this.visibility = new VisibilityController(host, () => this.sync());
    this.motion = new ReducedMotionController(host, () => {
      this.motionRequested = false;
      this.sync();
    });
  }

  /** True while steps are running. */
  get playing(): boolean {
    return this._playing;
  }

  /** The reader asked for motion (play, Space): it overrides prefers-reduced-motion. */
  requestMotion(): void {
    this.motionRequested = true;
  }

  hostDisconnected(): void {
    this.sync();
  }

  /** Starts or stops the frame loop to match everything the gate reads. */
  sync(): void {
    const { engine, settings } = this.options;
    const player = engine.player;
    const motionAllowed = !this.motion.reduce || this.motionRequested;
    const should =
      this.host.isConnected &&
      player !== undefined &&
      engine.status === 'running' &&
      !this.options.paused() &&
      settings.speed > 0 &&
      motionAllowed &&
      this.visibility.visible &&
      !engine.contextLost &&
      player.halted === undefined;
    if (should && !this._playing) {
      player!.resume();
      this.scheduler.add(this.onFrame);
    } else if (!should && this._playing) {
      this.scheduler.remove(this.onFrame);
    }
    this._playing = should;
    this.options.playingChanged(should);
  }

  /** Reports what a batch of steps found and throttles `nca-step`. */
  afterSteps(player: EnginePlayer, report: FrameReport): void {
    if (this.options.engine.player !== player) return;
    if (report.problem !== undefined) {
      const cause = new NcaStateError(report.problem, player.stepCount);
      this.options.reporter.report('state', cause, `state-${report.problem}`);
      this.sync();
    }
    // Throttle on the dispatch clock, not the frame timestamp: steps settle asynchronously, so
    // frame times and the moments listeners see can drift apart by tens of ms under load.
    const dispatchAt = performance.now();
    if (report.steps > 0 && dispatchAt - this.lastStepEvent >= NcaStepEvent.interval) {
      this.lastStepEvent = dispatchAt;
      this.options.reporter.emit(new NcaStepEvent({ stepCount: player.stepCount, stepsPerSecond: player.stepsPerSecond }));
    }
  }

  private readonly onFrame = (now: number): void => {
    const player = this.options.engine.player;
    if (player === undefined) return;
    void this.options.engine.settle(player, player.frame(now)).then((report) => {
      if (report !== undefined) this.afterSteps(player, report);
    });
  };
}
