/**
 * The element's engine, from request to release: the request key (a change of src, backend,
 * grid, seed or fire rate makes a new engine), fetch, decode and create with a one-model cache,
 * adopting the result, the start (seed, the model's image or a URL), context loss, and every
 * failure routed to `nca-error`. The element's status (idle, loading, running, error) is this
 * controller's.
 *
 * NOTE: a removed element keeps its engine for RELEASE_DELAY_MS, so a DOM move (remove, then
 * insert) keeps the running state instead of reloading; a removal during a load starts over.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { createEngine, decodeModel, type BackendRequest, type NcaEngine, type NcaModel } from '../runtime/index.js';
import { defaultBrush, type GridSize } from './attributes.js';
import type { NcaStatus } from './element-state.js';
import { EnginePlayer, type PreparedStart } from './engine-player.js';
import { NcaBackendEvent, NcaLoadEvent } from './events.js';
import { fetchLimited } from './fetch-limits.js';
import { LoadController, isAbort, stage } from './model-loader.js';
import type { Reporter } from './reporter.js';
import type { ElementSettings } from './settings.js';
import { loadStartImage, type RgbaImage } from './start-image.js';

/** How long a removed element keeps its engine, so a DOM move (remove + insert) keeps its state. */
export const RELEASE_DELAY_MS = 1000;

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

export interface EngineControllerOptions {
  readonly settings: ElementSettings;
  readonly reporter: Reporter;
  /** The visible canvas, once rendered. */
  readonly canvas: () => HTMLCanvasElement | null;
  /** The status changed (custom states follow it). */
  readonly statusChanged: (status: NcaStatus) => void;
  /** Something the animation gate reads changed: status, engine, context. */
  readonly changed: () => void;
}

export class EngineController implements ReactiveController {
  private _status: NcaStatus = 'idle';
  private _engine: NcaEngine | undefined;
  private _player: EnginePlayer | undefined;
  /** Bumped for every engine so its canvas is a fresh element (a canvas keeps its first context type). */
  private _canvasGeneration = 0;
  private _contextLost = false;
  /** Serialized `EngineRequest` of the engine we have, are loading, or failed to load. */
  private key: string | undefined;
  private modelCache: { readonly src: string; readonly model: NcaModel } | undefined;
  private loadedSrc = '';
  private releaseTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly loader: LoadController<EngineRequest, Loaded>;
  private readonly startLoader: LoadController<StartImageRequest, RgbaImage>;

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly options: EngineControllerOptions,
  ) {
    host.addController(this);
    this.loader = new LoadController(host, {
      task: (request, signal) => this.load(request, signal),
      onComplete: (loaded) => void this.adopt(loaded),
      onError: (error) => this.fail(error),
      discard: (loaded) => safeDispose(loaded.engine),
    });
    this.startLoader = new LoadController(host, {
      task: ({ url, fit }, signal) => loadStartImage(url, fit, signal, this.options.settings.limits),
      onComplete: (image) => void this.applyStart({ kind: 'rgba', rgba: image.rgba, width: image.width, height: image.height }),
      onError: (error) => {
        // A start image that cannot be used is reported, and the model's own start runs instead.
        this.options.reporter.reportFailure(error);
        void this.applyStart({ kind: 'model' });
      },
    });
  }

  get status(): NcaStatus {
    return this._status;
  }

  get engine(): NcaEngine | undefined {
    return this._engine;
  }

  get model(): NcaModel | undefined {
    return this._engine?.model;
  }

  get player(): EnginePlayer | undefined {
    return this._player;
  }

  get canvasGeneration(): number {
    return this._canvasGeneration;
  }

  get contextLost(): boolean {
    return this._contextLost;
  }

  /** The damage radius: `brush`, else an eighth of the shorter grid side. */
  brushRadius(): number {
    const engine = this._engine;
    return this.options.settings.brush ?? (engine === undefined ? 1 : defaultBrush({ width: engine.width, height: engine.height }));
  }

  /** Settings changed: the player runs with the new ones from its next frame. */
  applySettings(): void {
    if (this._player !== undefined) this._player.settings = this.options.settings.player;
  }

  hostConnected(): void {
    if (this.releaseTimer !== undefined) {
      // NOTE: re-inserted within the delay (a DOM move): keep the engine and its state.
      clearTimeout(this.releaseTimer);
      this.releaseTimer = undefined;
    }
    // Reconcile after the update: reloads if the engine was released or a load was cut off.
    this.host.requestUpdate();
  }

  hostDisconnected(): void {
    // Still loading (fetch, engine, start image or the first frame): start over on re-insertion.
    if (this._status === 'loading') {
      this.release();
      return;
    }
    this.releaseTimer = setTimeout(() => {
      this.releaseTimer = undefined;
      this.release();
    }, RELEASE_DELAY_MS);
  }

  /** After an update: a new request makes a new engine; a changed `start` restarts the run. */
  reconcile(src: string | undefined, startChanged: boolean): void {
    if (!this.host.isConnected) return;
    const request = this.request(src);
    const key = request === undefined ? undefined : JSON.stringify(request);
    if (key !== this.key) {
      this.key = key;
      this.release(key);
      if (request !== undefined) {
        this.setStatus('loading');
        void this.loader.start(request);
      }
    } else if (startChanged && this._player !== undefined) {
      this.beginStart();
    }
  }

  /** Back to the start state, drawn; failures become `nca-error`. */
  async restart(): Promise<void> {
    const player = this._player;
    if (player === undefined) return;
    await this.settle(player, player.restart());
    this.options.changed();
  }

  /**
   * Waits for engine work; a failure becomes an `nca-error` (never a rejection), unless the
   * player has been replaced meanwhile (its engine was disposed on purpose) or the context is
   * lost (the `context-lost` event reports that).
   */
  async settle<T>(player: EnginePlayer, work: Promise<T>): Promise<T | undefined> {
    try {
      return await work;
    } catch (error) {
      if (this._player === player) this.failed(player.engine, error);
      return undefined;
    }
  }

  /** The current engine threw: release it, show the fallback, report a backend error. */
  failed(engine: NcaEngine | undefined, error: unknown): void {
    if (engine === undefined || engine !== this._engine || engine.paused || this._contextLost) return;
    this.fault(error);
  }

  private fault(error: unknown): void {
    this.release(this.key);
    this.setStatus('error');
    this.options.reporter.report('backend', error);
  }

  /** Draws the engine's latest finished state to the visible canvas. */
  draw(): void {
    const canvas = this.options.canvas();
    const engine = this._engine;
    if (engine === undefined || canvas === null) return;
    try {
      engine.render(canvas);
    } catch (error) {
      this.failed(engine, error);
    }
  }

  private request(src: string | undefined): EngineRequest | undefined {
    const raw = src?.trim();
    if (!raw) return undefined;
    let url: string;
    try {
      url = new URL(raw, document.baseURI).href;
    } catch {
      url = raw; // fetch will reject it and report a load error
    }
    const { backend, grid, seed, fireRate } = this.options.settings;
    return { src: url, backend, grid, seed, fireRate };
  }

  private async load(request: EngineRequest, signal: AbortSignal): Promise<Loaded> {
    let model: NcaModel;
    const cached = this.modelCache;
    if (cached !== undefined && cached.src === request.src) {
      model = cached.model;
    } else {
      const bytes = await stage('load', () => fetchLimited(request.src, signal, this.options.settings.limits));
      model = await stage('format', () => decodeModel(bytes));
      this.modelCache = { src: request.src, model };
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

  private async adopt(loaded: Loaded): Promise<void> {
    const { engine } = loaded;
    this._engine = engine;
    this.loadedSrc = loaded.src;
    this._contextLost = false;
    engine.addEventListener('context-lost', this.onContextLost);
    engine.addEventListener('context-restored', this.onContextRestored);
    engine.addEventListener('error', this.onEngineError);
    this._player = new EnginePlayer(engine, () => this.draw());
    this._player.settings = this.options.settings.player;
    this._canvasGeneration++;
    this.host.requestUpdate();
    await this.host.updateComplete; // the fresh canvas is in the shadow root, sized to the grid
    if (this._engine !== engine || !this.host.isConnected) return;
    this.options.reporter.emit(new NcaBackendEvent(engine.selection));
    this.beginStart();
  }

  /** Prepares the start named by `start` (loading an image if needed), then restarts the run. */
  private beginStart(): void {
    const engine = this._engine;
    if (engine === undefined) return;
    const start = this.options.settings.start;
    this.startLoader.abort();
    switch (start.kind) {
      case 'url':
        void this.startLoader.start({ url: start.url, fit: { width: engine.width, height: engine.height } });
        return;
      case 'image':
        if (engine.model.metadata.start.kind !== 'image') {
          this.options.reporter.warnOnce('start-image', `<nca-canvas> start="image" but model "${engine.model.metadata.name}" embeds no start image; starting from a seed.`);
        }
        void this.applyStart({ kind: 'model' });
        return;
      default:
        void this.applyStart({ kind: start.kind });
    }
  }

  private async applyStart(start: PreparedStart): Promise<void> {
    const player = this._player;
    const engine = this._engine;
    if (player === undefined || engine === undefined) return;
    player.setStart(start);
    try {
      await player.restart();
    } catch (error) {
      this.failed(engine, error);
      return;
    }
    if (this._engine !== engine) return; // replaced or released meanwhile
    const first = this._status !== 'running';
    this.setStatus('running');
    if (first) {
      const { name } = engine.model.metadata;
      this.options.reporter.emit(new NcaLoadEvent({ src: this.loadedSrc, name, backend: engine.backend, width: engine.width, height: engine.height }));
    }
    this.options.changed();
  }

  private fail(error: unknown): void {
    if (isAbort(error)) return;
    this.release(this.key);
    this.setStatus('error');
    this.options.reporter.reportFailure(error);
  }

  /** Stops and disposes the engine; `keepKey` keeps the reconcile key (a failure is not retried). */
  private release(keepKey?: string): void {
    this.loader.abort();
    this.startLoader.abort();
    this.key = keepKey;
    const engine = this._engine;
    this._engine = undefined;
    this._player = undefined;
    this._contextLost = false;
    this.options.changed();
    if (engine !== undefined) {
      engine.removeEventListener('context-lost', this.onContextLost);
      engine.removeEventListener('context-restored', this.onContextRestored);
      engine.removeEventListener('error', this.onEngineError);
      safeDispose(engine);
    }
    if (keepKey === undefined) this.setStatus('idle');
  }

  private setStatus(status: NcaStatus): void {
    if (this._status === status) return;
    this._status = status;
    this.options.statusChanged(status);
    this.host.requestUpdate();
    this.options.changed();
  }

  private readonly onContextLost = (event: Event): void => {
    this._contextLost = true;
    this.options.changed();
    this.options.reporter.report('context-lost', (event as CustomEvent<unknown>).detail ?? event);
  };

  private readonly onContextRestored = (): void => {
    this._contextLost = false;
    // The engine restarts its state from reset(); reapply our start on top of it.
    void this.restart();
  };

  /**
   * The engine could not rebuild after a restored context (or its WebGPU device keeps being
   * lost): it cannot run any more. NOTE: it is still paused, which `failed` would take for a
   * loss in progress, so this goes to `fault` directly.
   */
  private readonly onEngineError = (event: Event): void => {
    if (event.target !== this._engine) return;
    this._contextLost = false;
    this.fault((event as CustomEvent<{ error?: unknown }>).detail?.error ?? event);
  };
}

function safeDispose(engine: NcaEngine): void {
  try {
    engine.dispose();
  } catch (error) {
    console.warn('<nca-canvas> engine.dispose() threw:', error);
  }
}
