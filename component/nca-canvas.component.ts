import { LitElement, html, type PropertyValues } from 'lit';
import { property, query } from 'lit/decorators.js';
import { keyed } from 'lit/directives/keyed.js';
import type { BackendRequest, NcaEngine, NcaModel } from '../runtime/index.js';
import { loopAttribute, numberAttribute, type Interaction } from './attributes.js';
import { ElementStateController, type NcaStatus } from './element-state.js';
import { EngineController } from './engine-controller.js';
import { InputController } from './input-controller.js';
import { ncaCanvasStyles } from './nca-canvas.styles.js';
import { PlaybackController } from './playback-controller.js';
import { Reporter } from './reporter.js';
import { ElementSettings } from './settings.js';
import { copyPixels, encodeImage } from './snapshot.js';

/**
 * A neural cellular automaton in a canvas: `<nca-canvas src="lizard.nca"></nca-canvas>` loads a
 * `.nca` model, picks a backend, grows it from its start state and lets the reader damage it
 * with the pointer. It is a thin adapter: the engine (from `nca-canvas/runtime`) does the work,
 * the element forwards changed attributes and input to it.
 *
 * Light-DOM children are fallback content: shown while loading and whenever the model cannot
 * run (bad file, no backend), hidden while it runs.
 *
 * Keyboard (the element is focusable): Space plays/pauses, `r` resets, → steps once while not
 * playing (Shift+→: ten steps).
 *
 * @summary Living, self-repairing pixel art: a neural cellular automaton in one tag.
 *
 * @fires {NcaLoadEvent} nca-load - The first frame of a (re)loaded model is drawn. Detail: `{ src, name, backend, width, height }`.
 * @fires {NcaErrorEvent} nca-error - Loading or running failed. Detail: `{ type: 'load' | 'format' | 'too-large' | 'timeout' | 'backend' | 'context-lost' | 'state', cause }`. Cancelable: `preventDefault()` silences the console warning.
 * @fires {NcaBackendEvent} nca-backend - The engine picked a backend. Detail: `{ chosen, skipped: [{ backend, reason }], renderer? }`.
 * @fires {NcaStepEvent} nca-step - Progress while stepping, at most 4 per second. Detail: `{ stepCount, stepsPerSecond }`.
 *
 * @slot - Fallback content, shown while loading and when nothing can run.
 * @slot fallback - Fallback content as well, for markup that wants to say so explicitly.
 *
 * @csspart canvas - The `<canvas>`: one pixel per cell, scaled to the element with CSS.
 * @csspart fallback - The box holding the fallback content, laid over the canvas.
 *
 * @cssprop [--nca-background=transparent] - Background behind the cells (and the letterbox bars).
 * @cssprop [--nca-cursor=crosshair] - Pointer cursor while interaction is not `none`.
 *
 * @cssstate idle - No `src`.
 * @cssstate loading - The model is being fetched, decoded or compiled.
 * @cssstate running - A model is showing (playing or paused).
 * @cssstate error - Nothing can run; the fallback is showing.
 * @cssstate playing - Steps are running right now.
 */
export class NcaCanvas extends LitElement {
  static override styles = ncaCanvasStyles;

  /** URL of the `.nca` model (relative to the document). */
  @property() src: string | undefined;

  /** Backend to run on: `auto` (try webgpu, webgl2, webgl, webasm, cpu in order) or one name. */
  @property() backend: BackendRequest = 'auto';

  /** Grid size in cells, `"N"` or `"WxH"`; default: the model's suggested grid. */
  @property() grid: string | number | undefined;

  /** Speed multiplier: 1 runs 60 steps per second, 0.25 is slow motion, 0 holds still. */
  @property({ converter: numberAttribute }) speed = 1;

  /** Stops stepping; the state stays on screen and still takes damage. */
  @property({ type: Boolean, reflect: true }) paused = false;

  /** Seed of the fire mask (an integer); the same seed replays the same run. */
  @property({ converter: numberAttribute }) seed: number | undefined;

  /** Overrides the model's fire rate (0..1). */
  @property({ attribute: 'fire-rate', converter: numberAttribute }) fireRate: number | undefined;

  /** Where a run starts: `seed`, `image` (the model's embedded image) or the URL of an image. */
  @property() start: string | undefined;

  /** Frames to hold the start state before the rule runs. */
  @property({ attribute: 'freeze-frames', converter: numberAttribute }) freezeFrames = 0;

  /** Damage radius in cells; default an eighth of the shorter grid side. */
  @property({ converter: numberAttribute }) brush: number | undefined;

  /** What a press does: `damage` (erase a disc; Shift or double-click plants), `seed` (plant), `none`. */
  @property({ reflect: true }) interaction: Interaction = 'damage';

  /** Scale cells up as hard-edged squares (`image-rendering: pixelated`). */
  @property({ type: Boolean, reflect: true }) pixelated = false;

  /** Reset when the state dies out or turns NaN; a number also resets every that many steps. */
  @property({ converter: loopAttribute }) loop: boolean | number = false;

  /** Largest model or start-image download in bytes (default 16 MB); over it: `nca-error` type `too-large`. */
  @property({ attribute: 'max-bytes', converter: numberAttribute }) maxBytes: number | undefined;

  /** Milliseconds a download of `src` or `start` may take, request to last byte (default 30000); then `nca-error` type `timeout`. */
  @property({ attribute: 'load-timeout', converter: numberAttribute }) loadTimeout: number | undefined;

  /** Text alternative (the accessible name); default: the model's name. */
  @property() alt: string | undefined;

  @query('canvas') private _canvas!: HTMLCanvasElement | null;

  // NOTE: the controllers below do the work; the element parses its properties, forwards what
  // changed and renders. Each is a Lit reactive controller (hostConnected/hostDisconnected).
  private readonly _settings = new ElementSettings();
  private readonly _reporter = new Reporter(this);
  private readonly _state = new ElementStateController(this, () => this.alt?.trim() || this._engine.model?.metadata.name || 'Neural cellular automaton');
  private readonly _engine: EngineController = new EngineController(this, {
    settings: this._settings,
    reporter: this._reporter,
    canvas: () => this._canvas,
    statusChanged: (status) => this._state.showStatus(status),
    changed: () => this._playback.sync(),
  });
  private readonly _playback: PlaybackController = new PlaybackController(this, {
    engine: this._engine,
    settings: this._settings,
    reporter: this._reporter,
    paused: () => this.paused,
    playingChanged: (playing) => this._state.showPlaying(playing),
  });

  constructor() {
    super();
    new InputController(this, this._engine, this._settings, () => this._canvas);
  }

  // ---- Read-only state ------------------------------------------------------------------------

  /** `idle` (no src), `loading`, `running` (a model is showing) or `error` (fallback showing). */
  get status(): NcaStatus {
    return this._engine.status;
  }

  /** True while steps are running (not paused, visible, motion allowed, alive). */
  get playing(): boolean {
    return this._playback.playing;
  }

  /** Steps since the last reset. */
  get stepCount(): number {
    return this._engine.engine?.stepCount ?? 0;
  }

  /** The decoded model that is showing. */
  get model(): NcaModel | undefined {
    return this._engine.model;
  }

  /** The engine that is running the model (for advanced use: `readState()`). Owned by the element. */
  get engine(): NcaEngine | undefined {
    return this._engine.engine;
  }

  // ---- Methods --------------------------------------------------------------------------------

  /** Starts stepping (also under prefers-reduced-motion: this is the user's explicit choice). */
  play(): void {
    this._playback.requestMotion();
    if (this._engine.player?.halted !== undefined) void this.reset();
    this.paused = false;
    this._playback.sync();
  }

  /** Stops stepping; the current state stays on screen. */
  pause(): void {
    this.paused = true;
    this._playback.sync();
  }

  /**
   * Back to the start state (the model's, `start`'s image or a seed). Like the other methods that
   * change the state, the Promise settles once the change is drawn (at once on webgl and cpu, after
   * the step in flight on webgpu and webasm); it never rejects: failures are `nca-error` events.
   */
  reset(): Promise<void> {
    return this._engine.restart();
  }

  /** Runs `n` steps now (default 1, at most 10,000), whether playing or not. */
  async step(n = 1): Promise<void> {
    const player = this._engine.player;
    if (player === undefined || !(n > 0)) return;
    const report = await this._engine.settle(player, player.stepBy(Math.min(n, 10_000)));
    if (report !== undefined) this._playback.afterSteps(player, report);
  }

  /** Erases every cell whose centre is within `radius` cells (default: `brush`) of the cell point (x, y). */
  async damage(x: number, y: number, radius?: number): Promise<void> {
    const player = this._engine.player;
    if (player === undefined) return;
    await this._engine.settle(player, player.damage(x, y, radius ?? this._engine.brushRadius()));
  }

  /** Plants a seed cell at cell (x, y). */
  async plant(x: number, y: number): Promise<void> {
    const player = this._engine.player;
    if (player === undefined) return;
    await this._engine.settle(player, player.plant(x, y));
    this._playback.sync();
  }

  /** The current frame as RGBA pixels, one per cell; null until a model is showing. */
  snapshot(): ImageData | null {
    const canvas = this._canvas;
    if (this._engine.player === undefined || canvas === null) return null;
    try {
      this._engine.draw(); // the latest finished state first
      return copyPixels(canvas);
    } catch (error) {
      this._engine.failed(this._engine.engine, error);
      return null;
    }
  }

  /** The current frame as an image file (PNG by default); null until a model is showing. */
  async snapshotBlob(type = 'image/png'): Promise<Blob | null> {
    const image = this.snapshot();
    return image === null ? null : encodeImage(image, type);
  }

  // ---- Lifecycle ------------------------------------------------------------------------------

  protected override willUpdate(changed: PropertyValues<this>): void {
    this._settings.update(this, changed, document.baseURI);
    this._engine.applySettings();
  }

  protected override updated(changed: PropertyValues<this>): void {
    this._engine.reconcile(this.src, changed.has('start'));
    if (changed.has('paused') || changed.has('speed')) this._playback.sync();
  }

  protected override render() {
    const showing = this._engine.status === 'running';
    const width = this._engine.engine?.width ?? 1;
    const height = this._engine.engine?.height ?? 1;
    return html`${keyed(
        this._engine.canvasGeneration,
        html`<canvas part="canvas" class=${showing ? '' : 'hidden'} width=${width} height=${height} aria-hidden="true"></canvas>`,
      )}<div part="fallback" class="fallback" ?hidden=${showing}><slot name="fallback"></slot><slot></slot></div>`;
  }
}
