import { LitElement, css, html, type PropertyValues } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { keyed } from 'lit/directives/keyed.js';
import { createEngine, decodeModel, type BackendRequest, type NcaEngine, type NcaModel } from '../runtime/index.js';
import {
  defaultBrush,
  parseBackend,
  parseBrush,
  parseFireRate,
  parseFreezeFrames,
  parseGrid,
  parseInteraction,
  parseLoop,
  parseSeed,
  parseSpeed,
  parseStart,
  type GridSize,
  type Interaction,
  type LoopSetting,
  type Parsed,
  type StartRequest,
} from './attributes.js';
import { EnginePlayer, type FrameReport, type PreparedStart } from './engine-player.js';
import { NcaBackendEvent, NcaErrorEvent, NcaLoadEvent, NcaStateError, NcaStepEvent, type NcaErrorType } from './events.js';
import { sharedFrameScheduler } from './frame-scheduler.js';
import { LoadController, LoadFailure, fetchBytes, isAbort, stage } from './model-loader.js';
import { clientToCell, type CellPoint, type ClientRect } from './pointer.js';
import { ReducedMotionController } from './reduced-motion.js';
import { loadStartImage, type RgbaImage } from './start-image.js';
import { VisibilityController } from './visibility.js';

/** How long a removed element keeps its engine, so a DOM move (remove + insert) keeps its state. */
export const RELEASE_DELAY_MS = 1000;

/** What the element is doing; also exposed as the custom states `:state(loading)` etc. */
export type NcaStatus = 'idle' | 'loading' | 'running' | 'error';

/** Attribute → number, keeping "not given" (null or blank) apart from junk (NaN, warned later). */
const numberAttribute = {
  fromAttribute: (value: string | null): number | undefined => (value === null || value.trim() === '' ? undefined : Number(value)),
  toAttribute: (value: number | undefined): string | null => (value === undefined ? null : String(value)),
};

/** `loop` is a boolean attribute or a step count. */
const loopAttribute = {
  fromAttribute: (value: string | null): boolean | number => {
    if (value === null) return false;
    const text = value.trim().toLowerCase();
    if (text === '' || text === 'true') return true;
    if (text === 'false') return false;
    return Number(text);
  },
  toAttribute: (value: boolean | number): string | null => (value === false ? null : value === true ? '' : String(value)),
};

/** Everything the engine is created with: a change of any of these creates a new engine. */
interface EngineRequest {
  readonly src: string;
  readonly backend: BackendRequest;
  readonly grid: GridSize | undefined;
  readonly seed: number;
  readonly fireRate: number | undefined;
}

interface Loaded {
  readonly src: string;
  readonly model: NcaModel;
  readonly engine: NcaEngine;
}

interface StartImageRequest {
  readonly url: string;
  readonly fit: GridSize;
}

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
 * @fires {NcaErrorEvent} nca-error - Loading or running failed. Detail: `{ type: 'load' | 'format' | 'backend' | 'context-lost' | 'state', cause }`. Cancelable: `preventDefault()` silences the console warning.
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
  static override styles = css`
    :host {
      display: inline-block;
      position: relative;
      box-sizing: border-box;
      width: 256px;
      aspect-ratio: 1 / 1;
      overflow: hidden;
      vertical-align: middle;
      background: var(--nca-background, transparent);
      cursor: var(--nca-cursor, crosshair);
      touch-action: none;
      -webkit-tap-highlight-color: transparent;
    }
    :host([hidden]) {
      display: none;
    }
    :host([interaction='none']) {
      cursor: auto;
      touch-action: auto;
    }
    canvas {
      display: block;
      width: 100%;
      height: 100%;
      object-fit: contain;
      user-select: none;
    }
    canvas.hidden {
      visibility: hidden;
    }
    :host([pixelated]) canvas {
      image-rendering: pixelated;
    }
    .fallback {
      position: absolute;
      inset: 0;
      display: flex;
      align-items: center;
      justify-content: center;
      text-align: center;
      cursor: auto;
    }
    .fallback[hidden] {
      display: none;
    }
  `;

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

  /** Text alternative (the accessible name); default: the model's name. */
  @property() alt: string | undefined;

  @state() private _status: NcaStatus = 'idle';
  /** Bumped for every engine so its canvas is a fresh element (a canvas keeps its first context type). */
  @state() private _canvasGeneration = 0;
  @query('canvas') private _canvas!: HTMLCanvasElement | null;

  private _config = {
    backend: 'auto' as BackendRequest,
    grid: undefined as GridSize | undefined,
    speed: 1,
    seed: 0,
    fireRate: undefined as number | undefined,
    start: { kind: 'model' } as StartRequest,
    freezeFrames: 0,
    brush: undefined as number | undefined,
    interaction: 'damage' as Interaction,
    loop: { enabled: false, afterSteps: undefined } as LoopSetting,
  };

  private _engine: NcaEngine | undefined;
  private _model: NcaModel | undefined;
  private _player: EnginePlayer | undefined;
  /** Serialized `EngineRequest` of the engine we have, are loading, or failed to load. */
  private _engineKey: string | undefined;
  private _modelCache: { readonly src: string; readonly model: NcaModel } | undefined;
  private _loadedSrc = '';
  private _animating = false;
  private _contextLost = false;
  /** play() / Space overrides prefers-reduced-motion until the preference changes again. */
  private _motionRequested = false;
  private _lastStepEvent = 0;
  private _releaseTimer: ReturnType<typeof setTimeout> | undefined;
  private _drag: { readonly pointerId: number; last: CellPoint; rect: ClientRect } | undefined;
  private _ownAriaLabel: string | undefined;
  private _warnedState = new Set<string>();
  private readonly _internals: ElementInternals | undefined;
  private readonly _scheduler = sharedFrameScheduler();

  private readonly _loader = new LoadController<EngineRequest, Loaded>(this, {
    task: (request, signal) => this._load(request, signal),
    onComplete: (loaded) => void this._adopt(loaded),
    onError: (error) => this._fail(error),
    discard: (loaded) => safeDispose(loaded.engine),
  });

  private readonly _startLoader = new LoadController<StartImageRequest, RgbaImage>(this, {
    task: ({ url, fit }, signal) => loadStartImage(url, fit, signal),
    onComplete: (image) => void this._applyStart({ kind: 'rgba', rgba: image.rgba, width: image.width, height: image.height }),
    onError: (error) => {
      // A start image that cannot be used is reported, and the model's own start runs instead.
      this._report(error instanceof LoadFailure ? error.type : 'load', error instanceof LoadFailure ? error.cause : error);
      void this._applyStart({ kind: 'model' });
    },
  });

  private readonly _visibility = new VisibilityController(this, () => this._syncAnimation());

  private readonly _motion = new ReducedMotionController(this, () => {
    this._motionRequested = false;
    this._syncAnimation();
  });

  constructor() {
    super();
    try {
      this._internals = this.attachInternals();
    } catch {
      this._internals = undefined;
    }
    this.addEventListener('pointerdown', this._onPointerDown);
    this.addEventListener('pointermove', this._onPointerMove);
    this.addEventListener('pointerup', this._endDrag);
    this.addEventListener('pointercancel', this._endDrag);
    this.addEventListener('lostpointercapture', this._endDrag);
    this.addEventListener('dblclick', this._onDoubleClick);
    this.addEventListener('keydown', this._onKeyDown);
  }

  // ---- Read-only state ------------------------------------------------------------------------

  /** `idle` (no src), `loading`, `running` (a model is showing) or `error` (fallback showing). */
  get status(): NcaStatus {
    return this._status;
  }

  /** True while steps are running (not paused, visible, motion allowed, alive). */
  get playing(): boolean {
    return this._animating;
  }

  /** Steps since the last reset. */
  get stepCount(): number {
    return this._engine?.stepCount ?? 0;
  }

  /** The decoded model that is showing. */
  get model(): NcaModel | undefined {
    return this._model;
  }

  /** The engine that is running the model (for advanced use: `readState()`). Owned by the element. */
  get engine(): NcaEngine | undefined {
    return this._engine;
  }

  // ---- Methods --------------------------------------------------------------------------------

  /** Starts stepping (also under prefers-reduced-motion: this is the user's explicit choice). */
  play(): void {
    this._motionRequested = true;
    if (this._player?.halted !== undefined) void this.reset();
    this.paused = false;
    this._syncAnimation();
  }

  /** Stops stepping; the current state stays on screen. */
  pause(): void {
    this.paused = true;
    this._syncAnimation();
  }

  /**
   * Back to the start state (the model's, `start`'s image or a seed). Like the other methods that
   * change the state, the Promise settles once the change is drawn (at once on webgl and cpu, after
   * the step in flight on webgpu and webasm); it never rejects: failures are `nca-error` events.
   */
  async reset(): Promise<void> {
    const player = this._player;
    if (player === undefined) return;
    await this._settle(player, player.restart());
    this._syncAnimation();
  }

  /** Runs `n` steps now (default 1, at most 10,000), whether playing or not. */
  async step(n = 1): Promise<void> {
    const player = this._player;
    if (player === undefined || !(n > 0)) return;
    const report = await this._settle(player, player.stepBy(Math.min(n, 10_000)));
    if (report !== undefined) this._afterSteps(player, report);
  }

  /** Erases every cell whose centre is within `radius` cells (default: `brush`) of the cell point (x, y). */
  async damage(x: number, y: number, radius?: number): Promise<void> {
    const player = this._player;
    if (player === undefined) return;
    await this._settle(player, player.damage(x, y, radius ?? this._brushRadius()));
  }

  /** Plants a seed cell at cell (x, y). */
  async plant(x: number, y: number): Promise<void> {
    const player = this._player;
    if (player === undefined) return;
    await this._settle(player, player.plant(x, y));
    this._syncAnimation();
  }

  /** The current frame as RGBA pixels, one per cell; null until a model is showing. */
  snapshot(): ImageData | null {
    const canvas = this._canvas;
    if (this._player === undefined || canvas === null) return null;
    try {
      // Draw the latest finished state first, then copy it through a 2D canvas of our own.
      this._draw();
      const context = scratch2d(canvas.width, canvas.height);
      context.drawImage(canvas, 0, 0);
      return context.getImageData(0, 0, canvas.width, canvas.height);
    } catch (error) {
      this._engineFailed(this._engine, error);
      return null;
    }
  }

  /** The current frame as an image file (PNG by default); null until a model is showing. */
  async snapshotBlob(type = 'image/png'): Promise<Blob | null> {
    const image = this.snapshot();
    if (image === null) return null;
    if (typeof OffscreenCanvas === 'function') {
      const canvas = new OffscreenCanvas(image.width, image.height);
      canvas.getContext('2d')?.putImageData(image, 0, 0);
      return canvas.convertToBlob({ type });
    }
    const canvas = Object.assign(document.createElement('canvas'), { width: image.width, height: image.height });
    canvas.getContext('2d')?.putImageData(image, 0, 0);
    return new Promise((resolve) => canvas.toBlob(resolve, type));
  }

  // ---- Lifecycle ------------------------------------------------------------------------------

  override connectedCallback(): void {
    super.connectedCallback();
    if (this._releaseTimer !== undefined) {
      // NOTE: re-inserted within the delay (a DOM move): keep the engine and its state.
      clearTimeout(this._releaseTimer);
      this._releaseTimer = undefined;
    }
    if (!this.hasAttribute('tabindex')) this.tabIndex = 0;
    if (!this.hasAttribute('role')) this.setAttribute('role', 'img');
    this._updateLabel();
    // Reconcile in updated(): reloads if the engine was released or a load was cut off.
    this.requestUpdate();
  }

  override disconnectedCallback(): void {
    // Still loading (fetch, engine, start image or the first frame): start over on re-insertion.
    const wasLoading = this._status === 'loading';
    super.disconnectedCallback(); // controllers: loads aborted, observers disconnected
    this._endDrag();
    this._syncAnimation();
    if (wasLoading) {
      this._releaseEngine();
    } else {
      this._releaseTimer = setTimeout(() => {
        this._releaseTimer = undefined;
        this._releaseEngine();
      }, RELEASE_DELAY_MS);
    }
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const config = this._config;
    if (changed.has('backend')) config.backend = this._parsed('backend', this.backend, parseBackend);
    if (changed.has('grid')) config.grid = this._parsed('grid', this.grid, parseGrid);
    if (changed.has('speed')) config.speed = this._parsed('speed', this.speed, parseSpeed);
    if (changed.has('seed')) config.seed = this._parsed('seed', this.seed, parseSeed);
    if (changed.has('fireRate')) config.fireRate = this._parsed('fire-rate', this.fireRate, parseFireRate);
    if (changed.has('freezeFrames')) config.freezeFrames = this._parsed('freeze-frames', this.freezeFrames, parseFreezeFrames);
    if (changed.has('brush')) config.brush = this._parsed('brush', this.brush, parseBrush);
    if (changed.has('interaction')) config.interaction = this._parsed('interaction', this.interaction, parseInteraction);
    if (changed.has('loop')) config.loop = this._parsed('loop', this.loop, parseLoop);
    if (changed.has('start')) config.start = this._parsed('start', this.start, (raw) => parseStart(raw, document.baseURI));
    if (this._player !== undefined) this._player.settings = this._playerSettings();
  }

  protected override updated(changed: PropertyValues<this>): void {
    this._updateLabel();
    if (!this.isConnected) return;
    const request = this._engineRequest();
    const key = request === undefined ? undefined : JSON.stringify(request);
    if (key !== this._engineKey) {
      this._engineKey = key;
      this._releaseEngine(key);
      if (request !== undefined) {
        this._setStatus('loading');
        void this._loader.start(request);
      }
    } else if (changed.has('start') && this._player !== undefined) {
      this._beginStart();
    }
    if (changed.has('paused') || changed.has('speed')) this._syncAnimation();
  }

  protected override render() {
    const showing = this._status === 'running';
    const width = this._engine?.width ?? 1;
    const height = this._engine?.height ?? 1;
    return html`${keyed(
        this._canvasGeneration,
        html`<canvas part="canvas" class=${showing ? '' : 'hidden'} width=${width} height=${height} aria-hidden="true"></canvas>`,
      )}<div part="fallback" class="fallback" ?hidden=${showing}><slot name="fallback"></slot><slot></slot></div>`;
  }

  // ---- Loading --------------------------------------------------------------------------------

  private _engineRequest(): EngineRequest | undefined {
    const raw = this.src?.trim();
    if (!raw) return undefined;
    let src: string;
    try {
      src = new URL(raw, document.baseURI).href;
    } catch {
      src = raw; // fetch will reject it and report a load error
    }
    const { backend, grid, seed, fireRate } = this._config;
    return { src, backend, grid, seed, fireRate };
  }

  private async _load(request: EngineRequest, signal: AbortSignal): Promise<Loaded> {
    let model: NcaModel;
    const cached = this._modelCache;
    if (cached !== undefined && cached.src === request.src) {
      model = cached.model;
    } else {
      const bytes = await stage('load', () => fetchBytes(request.src, signal));
      model = await stage('format', () => decodeModel(bytes));
      this._modelCache = { src: request.src, model };
    }
    signal.throwIfAborted();
    const engine = await stage('backend', () =>
      createEngine(model, {
        backend: request.backend,
        seed: request.seed,
        ...(request.grid === undefined ? {} : { gridWidth: request.grid.width, gridHeight: request.grid.height }),
        ...(request.fireRate === undefined ? {} : { fireRate: request.fireRate }),
      }),
    );
    return { src: request.src, model, engine };
  }

  private async _adopt(loaded: Loaded): Promise<void> {
    const { engine, model } = loaded;
    this._engine = engine;
    this._model = model;
    this._loadedSrc = loaded.src;
    this._contextLost = false;
    engine.addEventListener('context-lost', this._onContextLost);
    engine.addEventListener('context-restored', this._onContextRestored);
    engine.addEventListener('error', this._onEngineError);
    this._player = new EnginePlayer(engine, () => this._draw());
    this._player.settings = this._playerSettings();
    this._canvasGeneration++;
    this._updateLabel();
    await this.updateComplete; // the fresh canvas is in the shadow root, sized to the grid
    if (this._engine !== engine || !this.isConnected) return;
    this._emit(new NcaBackendEvent(engine.selection));
    this._beginStart();
  }

  /** Prepares the start named by `start` (loading an image if needed), then restarts the run. */
  private _beginStart(): void {
    const engine = this._engine;
    if (engine === undefined) return;
    const start = this._config.start;
    this._startLoader.clear();
    switch (start.kind) {
      case 'url':
        void this._startLoader.start({ url: start.url, fit: { width: engine.width, height: engine.height } });
        return;
      case 'image':
        if (engine.model.metadata.start.kind !== 'image') {
          this._warnOnce('start-image', `<nca-canvas> start="image" but model "${engine.model.metadata.name}" embeds no start image; starting from a seed.`);
        }
        void this._applyStart({ kind: 'model' });
        return;
      default:
        void this._applyStart({ kind: start.kind });
    }
  }

  private async _applyStart(start: PreparedStart): Promise<void> {
    const player = this._player;
    const engine = this._engine;
    if (player === undefined || engine === undefined) return;
    player.setStart(start);
    try {
      await player.restart();
    } catch (error) {
      this._engineFailed(engine, error);
      return;
    }
    if (this._engine !== engine) return; // replaced or released meanwhile
    const first = this._status !== 'running';
    this._setStatus('running');
    if (first) {
      this._emit(
        new NcaLoadEvent({ src: this._loadedSrc, name: engine.model.metadata.name, backend: engine.backend, width: engine.width, height: engine.height }),
      );
    }
    this._syncAnimation();
  }

  private _fail(error: unknown): void {
    if (isAbort(error)) return;
    this._releaseEngine(this._engineKey);
    this._setStatus('error');
    this._report(error instanceof LoadFailure ? error.type : 'load', error instanceof LoadFailure ? error.cause : error);
  }

  /** Stops and disposes the engine; `keepKey` keeps the reconcile key (a failure is not retried). */
  private _releaseEngine(keepKey?: string): void {
    this._loader.abort();
    this._startLoader.clear();
    this._engineKey = keepKey;
    const engine = this._engine;
    this._engine = undefined;
    this._player = undefined;
    this._model = undefined;
    this._contextLost = false;
    this._syncAnimation();
    if (engine !== undefined) {
      engine.removeEventListener('context-lost', this._onContextLost);
      engine.removeEventListener('context-restored', this._onContextRestored);
      engine.removeEventListener('error', this._onEngineError);
      safeDispose(engine);
    }
    if (keepKey === undefined) this._setStatus('idle');
  }

  // ---- Animation ------------------------------------------------------------------------------

  private _syncAnimation(): void {
    const player = this._player;
    const motionAllowed = !this._motion.reduce || this._motionRequested;
    const should =
      this.isConnected &&
      player !== undefined &&
      this._status === 'running' &&
      !this.paused &&
      this._config.speed > 0 &&
      motionAllowed &&
      this._visibility.visible &&
      !this._contextLost &&
      player.halted === undefined;
    if (should && !this._animating) {
      player!.resume();
      this._scheduler.add(this._onFrame);
    } else if (!should && this._animating) {
      this._scheduler.remove(this._onFrame);
    }
    this._animating = should;
    this._setCustomState('playing', should);
  }

  private readonly _onFrame = (now: number): void => {
    const player = this._player;
    if (player === undefined) return;
    void this._settle(player, player.frame(now)).then((report) => {
      if (report !== undefined) this._afterSteps(player, report);
    });
  };

  /** Reports what a batch of steps found and throttles `nca-step`. */
  private _afterSteps(player: EnginePlayer, report: FrameReport): void {
    if (this._player !== player) return;
    if (report.problem !== undefined) {
      const key = `state-${report.problem}`;
      const cause = new NcaStateError(report.problem, player.stepCount);
      this._report('state', cause, this._warnedState.has(key));
      this._warnedState.add(key);
      this._syncAnimation();
    }
    // Throttle on the dispatch clock, not the frame timestamp: steps settle asynchronously, so
    // frame times and the moments listeners see can drift apart by tens of ms under load.
    const dispatchAt = performance.now();
    if (report.steps > 0 && dispatchAt - this._lastStepEvent >= NcaStepEvent.interval) {
      this._lastStepEvent = dispatchAt;
      this._emit(new NcaStepEvent({ stepCount: player.stepCount, stepsPerSecond: player.stepsPerSecond }));
    }
  }

  /**
   * Waits for engine work; a failure becomes an `nca-error` (never a rejection), unless the
   * player has been replaced meanwhile (its engine was disposed on purpose) or the context is
   * lost (the `context-lost` event reports that).
   */
  private async _settle<T>(player: EnginePlayer, work: Promise<T>): Promise<T | undefined> {
    try {
      return await work;
    } catch (error) {
      if (this._player === player) this._engineFailed(player.engine, error);
      return undefined;
    }
  }

  /** The current engine threw: release it, show the fallback, report a backend error. */
  private _engineFailed(engine: NcaEngine | undefined, error: unknown): void {
    if (engine === undefined || engine !== this._engine || engine.paused || this._contextLost) return;
    this._releaseEngine(this._engineKey);
    this._setStatus('error');
    this._report('backend', error);
  }

  private _draw(): void {
    const canvas = this._canvas;
    const engine = this._engine;
    if (engine === undefined || canvas === null) return;
    try {
      engine.render(canvas);
    } catch (error) {
      this._engineFailed(engine, error);
    }
  }

  private _playerSettings() {
    const { speed, freezeFrames, loop } = this._config;
    return { speed, freezeFrames, loop };
  }

  private readonly _onContextLost = (event: Event): void => {
    this._contextLost = true;
    this._syncAnimation();
    this._report('context-lost', (event as CustomEvent<unknown>).detail ?? event);
  };

  private readonly _onContextRestored = (): void => {
    this._contextLost = false;
    // The engine restarts its state from reset(); reapply our start on top of it.
    void this.reset();
  };

  /** The engine could not rebuild after a restored context: it cannot run any more. */
  private readonly _onEngineError = (event: Event): void => {
    const engine = this._engine;
    this._contextLost = false;
    this._engineFailed(engine, (event as CustomEvent<{ error?: unknown }>).detail?.error ?? event);
  };

  // ---- Input ----------------------------------------------------------------------------------

  private _brushRadius(): number {
    const engine = this._engine;
    return this._config.brush ?? (engine === undefined ? 1 : defaultBrush({ width: engine.width, height: engine.height }));
  }

  /** The canvas content box in client pixels (its border and padding removed). */
  private _canvasRect(): ClientRect | undefined {
    const canvas = this._canvas;
    if (canvas === null) return undefined;
    const box = canvas.getBoundingClientRect();
    const style = getComputedStyle(canvas);
    const px = (v: string) => parseFloat(v) || 0;
    const left = px(style.borderLeftWidth) + px(style.paddingLeft);
    const top = px(style.borderTopWidth) + px(style.paddingTop);
    const right = px(style.borderRightWidth) + px(style.paddingRight);
    const bottom = px(style.borderBottomWidth) + px(style.paddingBottom);
    return { left: box.left + left, top: box.top + top, width: box.width - left - right, height: box.height - top - bottom };
  }

  private _cellAt(event: { clientX: number; clientY: number }, rect: ClientRect): CellPoint | null {
    const engine = this._engine;
    if (engine === undefined) return null;
    const fit = getComputedStyle(this._canvas!).objectFit === 'fill' ? 'fill' : 'contain';
    return clientToCell(event.clientX, event.clientY, rect, { width: engine.width, height: engine.height }, fit);
  }

  private readonly _onPointerDown = (event: PointerEvent): void => {
    if (this._config.interaction === 'none' || this._player === undefined || this._status !== 'running') return;
    if (event.pointerType === 'mouse' && event.button !== 0) return;
    const rect = this._canvasRect();
    if (rect === undefined) return;
    const point = this._cellAt(event, rect);
    if (point === null) return;
    if (this._config.interaction === 'seed' || event.shiftKey) {
      void this.plant(point.x, point.y);
      return;
    }
    try {
      this.setPointerCapture(event.pointerId);
    } catch {
      // A synthetic event has no active pointer to capture; dragging still works without it.
    }
    this._drag = { pointerId: event.pointerId, last: point, rect };
    void this.damage(point.x, point.y);
  };

  private readonly _onPointerMove = (event: PointerEvent): void => {
    const drag = this._drag;
    if (drag === undefined || event.pointerId !== drag.pointerId) return;
    const point = this._cellAt(event, drag.rect);
    if (point === null) return;
    // A fast drag moves many cells between events: erase along the segment, not only its ends.
    const radius = this._brushRadius();
    const distance = Math.hypot(point.x - drag.last.x, point.y - drag.last.y);
    const count = Math.min(64, Math.ceil(distance / Math.max(0.5, radius / 2)));
    for (let i = 1; i <= count; i++) {
      const t = i / count;
      void this.damage(drag.last.x + (point.x - drag.last.x) * t, drag.last.y + (point.y - drag.last.y) * t, radius);
    }
    drag.last = point;
  };

  private readonly _endDrag = (): void => {
    const drag = this._drag;
    this._drag = undefined;
    if (drag !== undefined && this.hasPointerCapture(drag.pointerId)) this.releasePointerCapture(drag.pointerId);
  };

  private readonly _onDoubleClick = (event: MouseEvent): void => {
    if (this._config.interaction === 'none') return;
    const rect = this._canvasRect();
    const point = rect === undefined ? null : this._cellAt(event, rect);
    if (point !== null) void this.plant(point.x, point.y);
  };

  private readonly _onKeyDown = (event: KeyboardEvent): void => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.target !== this) return;
    if (event.key === ' ' || event.key === 'Spacebar') {
      event.preventDefault(); // no page scroll
      if (this._animating) this.pause();
      else this.play();
    } else if (event.key === 'r' || event.key === 'R') {
      event.preventDefault();
      void this.reset();
    } else if (event.key === 'ArrowRight' && !this._animating && this._player !== undefined) {
      event.preventDefault();
      void this.step(event.shiftKey ? 10 : 1);
    }
  };

  // ---- Helpers --------------------------------------------------------------------------------

  /** Parses a property through its attribute parser and prints the parser's warning, if any. */
  private _parsed<T>(attribute: string, value: unknown, parse: (raw: unknown) => Parsed<T>): T {
    // Quote the attribute text (not NaN) when the value came from the attribute.
    const text = this.getAttribute(attribute);
    const raw = text !== null && typeof value === 'number' && Number.isNaN(value) ? text : value;
    const parsed = parse(raw);
    if (parsed.warning !== undefined) console.warn(parsed.warning, this);
    return parsed.value;
  }

  private _report(type: NcaErrorType, cause: unknown, quiet = false): void {
    const event = new NcaErrorEvent({ type, cause });
    const delivered = this._emit(event);
    if (delivered && !event.defaultPrevented && !quiet) {
      console.warn(`<nca-canvas> ${type} error:`, cause, this);
    }
  }

  /** Dispatches unless removed from the document: a removed element fires nothing. */
  private _emit(event: Event): boolean {
    if (!this.isConnected) return false;
    this.dispatchEvent(event);
    return true;
  }

  private _warnOnce(key: string, message: string): void {
    if (this._warnedState.has(key)) return;
    this._warnedState.add(key);
    console.warn(message, this);
  }

  private _setStatus(status: NcaStatus): void {
    if (this._status === status) return;
    this._status = status;
    for (const s of ['idle', 'loading', 'running', 'error'] as const) this._setCustomState(s, s === status);
    this._syncAnimation();
  }

  private _setCustomState(name: string, on: boolean): void {
    const states = this._internals?.states;
    if (states === undefined) return;
    try {
      if (on) states.add(name);
      else states.delete(name);
    } catch {
      // Older engines only accept the legacy `--name` form; custom states are a nicety there.
    }
  }

  /** aria-label from `alt`, else the model's name; an author's own aria-label is left alone. */
  private _updateLabel(): void {
    const label = this.alt?.trim() || this._model?.metadata.name || 'Neural cellular automaton';
    const current = this.getAttribute('aria-label');
    if (current !== null && current !== this._ownAriaLabel) return;
    if (current !== label) this.setAttribute('aria-label', label);
    this._ownAriaLabel = label;
  }
}

function safeDispose(engine: NcaEngine): void {
  try {
    engine.dispose();
  } catch (error) {
    console.warn('<nca-canvas> engine.dispose() threw:', error);
  }
}

function scratch2d(width: number, height: number): OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D {
  const canvas: OffscreenCanvas | HTMLCanvasElement =
    typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(width, height) : Object.assign(document.createElement('canvas'), { width, height });
  const context = canvas.getContext('2d', { willReadFrequently: true }) as OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
  if (context === null) throw new Error('no 2D canvas context for a snapshot');
  return context;
}
