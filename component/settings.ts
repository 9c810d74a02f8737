/**
 * What `<nca-canvas>` runs with: its properties parsed by attributes.ts, kept as one object the
 * controllers read. A bad value is replaced and its warning printed, naming the attribute.
 */
import type { BackendRequest } from '../runtime/index.js';
import {
  parseBackend,
  parseBrush,
  parseFireRate,
  parseFreezeFrames,
  parseGrid,
  parseInteraction,
  parseLoadTimeout,
  parseLoop,
  parseMaxBytes,
  parseSeed,
  parseSpeed,
  parseStart,
  type GridSize,
  type Interaction,
  type LoopSetting,
  type Parsed,
  type StartRequest,
} from './attributes.js';
import type { PlayerSettings } from './engine-player.js';
import { DEFAULT_LOAD_TIMEOUT_MS, DEFAULT_MAX_BYTES, type FetchLimits } from './fetch-limits.js';

/** The element's raw property values, as set from attributes or script. */
export interface RawSettings {
  readonly backend: unknown;
  readonly grid: unknown;
  readonly speed: unknown;
  readonly seed: unknown;
  readonly fireRate: unknown;
  readonly start: unknown;
  readonly freezeFrames: unknown;
  readonly brush: unknown;
  readonly interaction: unknown;
  readonly loop: unknown;
  readonly maxBytes: unknown;
  readonly loadTimeout: unknown;
  getAttribute(name: string): string | null;
}

export class ElementSettings {
  backend: BackendRequest = 'auto';
  grid: GridSize | undefined = undefined;
  speed = 1;
  seed = 0;
  fireRate: number | undefined = undefined;
  start: StartRequest = { kind: 'model' };
  freezeFrames = 0;
  brush: number | undefined = undefined;
  interaction: Interaction = 'damage';
  loop: LoopSetting = { enabled: false, afterSteps: undefined };
  /** Limits of the next download (model or start image); a change does not reload. */
  limits: FetchLimits = { maxBytes: DEFAULT_MAX_BYTES, timeoutMs: DEFAULT_LOAD_TIMEOUT_MS };

  /** Parses the properties named in `changed` (Lit's changed-properties map). */
  update(raw: RawSettings, changed: { has(key: string): boolean }, baseURI: string): void {
    const parse = <T>(attribute: string, value: unknown, parser: (raw: unknown) => Parsed<T>): T => {
      // Quote the attribute text (not NaN) when the value came from the attribute.
      const text = raw.getAttribute(attribute);
      const parsed = parser(text !== null && typeof value === 'number' && Number.isNaN(value) ? text : value);
      if (parsed.warning !== undefined) console.warn(parsed.warning, raw);
      return parsed.value;
    };
    if (changed.has('backend')) this.backend = parse('backend', raw.backend, parseBackend);
    if (changed.has('grid')) this.grid = parse('grid', raw.grid, parseGrid);
    if (changed.has('speed')) this.speed = parse('speed', raw.speed, parseSpeed);
    if (changed.has('seed')) this.seed = parse('seed', raw.seed, parseSeed);
    if (changed.has('fireRate')) this.fireRate = parse('fire-rate', raw.fireRate, parseFireRate);
    if (changed.has('freezeFrames')) this.freezeFrames = parse('freeze-frames', raw.freezeFrames, parseFreezeFrames);
    if (changed.has('brush')) this.brush = parse('brush', raw.brush, parseBrush);
    if (changed.has('interaction')) this.interaction = parse('interaction', raw.interaction, parseInteraction);
    if (changed.has('loop')) this.loop = parse('loop', raw.loop, parseLoop);
    if (changed.has('maxBytes')) this.limits = { ...this.limits, maxBytes: parse('max-bytes', raw.maxBytes, (v) => parseMaxBytes(v, DEFAULT_MAX_BYTES)) };
    if (changed.has('loadTimeout')) this.limits = { ...this.limits, timeoutMs: parse('load-timeout', raw.loadTimeout, (v) => parseLoadTimeout(v, DEFAULT_LOAD_TIMEOUT_MS)) };
    if (changed.has('start')) this.start = parse('start', raw.start, (value) => parseStart(value, baseURI));
  }

  /** What the engine player needs of these. */
  get player(): PlayerSettings {
    return { speed: this.speed, freezeFrames: this.freezeFrames, loop: this.loop };
  }
}
