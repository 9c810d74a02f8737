/**
 * Attribute and property values of `<nca-canvas>`, parsed into what the element runs with.
 *
 * Pure functions (no DOM, no console) so every bad value is unit-tested in Node. A bad value never
 * throws: it is clamped to the nearest allowed value or replaced by the default, and the result
 * carries a warning naming the attribute that the element prints with `console.warn`.
 */
import { MAX_GRID_SIDE } from '../runtime/format/index.js';
import type { BackendRequest } from '../runtime/index.js';
import { MAX_SEED } from '../runtime/reference/index.js';

export const BACKEND_REQUESTS: readonly BackendRequest[] = ['auto', 'webgpu', 'webgl2', 'webgl', 'webasm', 'cpu'];

export type Interaction = 'damage' | 'seed' | 'none';
export const INTERACTIONS: readonly Interaction[] = ['damage', 'seed', 'none'];

/** Speed 1 runs this many CA steps per second. */
export const BASE_STEPS_PER_SECOND = 60;
export const MAX_SPEED = 16;
export const MAX_FREEZE_FRAMES = 3600;
export const MAX_BRUSH = MAX_GRID_SIDE;

/** A parsed value, plus a message for the console when the input was not usable as given. */
export interface Parsed<T> {
  readonly value: T;
  readonly warning?: string;
}

export interface GridSize {
  readonly width: number;
  readonly height: number;
}

/**
 * Where a run starts. `model`: the model's own start (the attribute is absent); `seed`: one seed
 * cell in the centre even if the model embeds an image; `image`: the model's embedded image;
 * `url`: an image file loaded by the element.
 */
export type StartRequest =
  | { readonly kind: 'model' }
  | { readonly kind: 'seed' }
  | { readonly kind: 'image' }
  | { readonly kind: 'url'; readonly url: string };

export interface LoopSetting {
  /** Reset when the state dies out or turns NaN. */
  readonly enabled: boolean;
  /** Also reset after this many steps; undefined: never by count. */
  readonly afterSteps: number | undefined;
}

/** `null`/`undefined`/blank mean "not given"; numbers pass; strings are parsed; anything else is NaN. */
function toNumber(raw: unknown): number | undefined {
  if (raw === null || raw === undefined) return undefined;
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string') return raw.trim() === '' ? undefined : Number(raw);
  return Number.NaN;
}

/** Names a bad value in a warning; never throws, even for objects without a usable toString. */
function show(raw: unknown): string {
  if (typeof raw === 'string') return JSON.stringify(raw);
  if (raw === null || typeof raw !== 'object') return String(raw);
  try {
    return String(raw);
  } catch {
    return Object.prototype.toString.call(raw);
  }
}

function warn(attribute: string, raw: unknown, problem: string, outcome: string): string {
  return `<nca-canvas> ${attribute}=${show(raw)} ${problem}; ${outcome}.`;
}

export function parseBackend(raw: unknown): Parsed<BackendRequest> {
  if (raw === null || raw === undefined) return { value: 'auto' };
  const name = typeof raw === 'string' ? raw.trim().toLowerCase() : raw;
  if (name === '') return { value: 'auto' };
  const match = BACKEND_REQUESTS.find((b) => b === name);
  if (match !== undefined) return { value: match };
  return { value: 'auto', warning: warn('backend', raw, `is not one of ${BACKEND_REQUESTS.join(', ')}`, 'using "auto"') };
}

export function parseInteraction(raw: unknown): Parsed<Interaction> {
  if (raw === null || raw === undefined) return { value: 'damage' };
  const name = typeof raw === 'string' ? raw.trim().toLowerCase() : raw;
  if (name === '') return { value: 'damage' };
  const match = INTERACTIONS.find((i) => i === name);
  if (match !== undefined) return { value: match };
  return { value: 'damage', warning: warn('interaction', raw, `is not one of ${INTERACTIONS.join(', ')}`, 'using "damage"') };
}

/**
 * `grid`: "64" (square) or "64x48" / "64 48" / "64,48" (width, height), or a number. Absent: the
 * model's suggested grid. Zero, negative or non-numeric: rejected (model's grid). Above 1024:
 * clamped. Fractions: rounded.
 */
export function parseGrid(raw: unknown): Parsed<GridSize | undefined> {
  if (raw === null || raw === undefined) return { value: undefined };
  let parts: number[];
  if (typeof raw === 'number') {
    parts = [raw];
  } else if (typeof raw === 'string') {
    const text = raw.trim();
    if (text === '') return { value: undefined };
    parts = text.split(/\s*[x×,\s]\s*/i).map((p) => (p === '' ? Number.NaN : Number(p)));
  } else {
    parts = [Number.NaN];
  }
  if (parts.length > 2 || !parts.every((p) => Number.isFinite(p))) {
    return { value: undefined, warning: warn('grid', raw, 'is not "N" or "WxH"', "using the model's grid") };
  }
  if (!parts.every((p) => p >= 1)) {
    return { value: undefined, warning: warn('grid', raw, 'must be at least 1', "using the model's grid") };
  }
  const clamped = parts.map((p) => Math.min(MAX_GRID_SIDE, Math.round(p)));
  const width = clamped[0]!;
  const height = clamped[1] ?? width;
  if (parts.some((p) => p > MAX_GRID_SIDE)) {
    return { value: { width, height }, warning: warn('grid', raw, `exceeds ${MAX_GRID_SIDE}`, `using ${width}x${height}`) };
  }
  if (parts.some((p) => !Number.isInteger(p))) {
    return { value: { width, height }, warning: warn('grid', raw, 'is not a whole number', `using ${width}x${height}`) };
  }
  return { value: { width, height } };
}

/** `speed`: multiplier of 60 steps/s; 0 holds still, fractions run in slow motion. */
export function parseSpeed(raw: unknown): Parsed<number> {
  const n = toNumber(raw);
  if (n === undefined) return { value: 1 };
  if (!Number.isFinite(n)) return { value: 1, warning: warn('speed', raw, 'is not a number', 'using 1') };
  if (n < 0) return { value: 1, warning: warn('speed', raw, 'is negative', 'using 1') };
  if (n > MAX_SPEED) return { value: MAX_SPEED, warning: warn('speed', raw, `exceeds ${MAX_SPEED}`, `using ${MAX_SPEED}`) };
  return { value: n };
}

/** `seed`: the fire-mask seed, an integer 0..2^32-1 (default 0). */
export function parseSeed(raw: unknown): Parsed<number> {
  const n = toNumber(raw);
  if (n === undefined) return { value: 0 };
  if (!Number.isFinite(n)) return { value: 0, warning: warn('seed', raw, 'is not a number', 'using 0') };
  if (n < 0 || n > MAX_SEED) return { value: 0, warning: warn('seed', raw, `is outside 0..${MAX_SEED}`, 'using 0') };
  if (!Number.isInteger(n)) {
    const value = Math.floor(n);
    return { value, warning: warn('seed', raw, 'is not an integer', `using ${value}`) };
  }
  return { value: n };
}

/** `fire-rate`: overrides the model's fire rate; clamped to 0..1. Absent or NaN: the model's. */
export function parseFireRate(raw: unknown): Parsed<number | undefined> {
  const n = toNumber(raw);
  if (n === undefined) return { value: undefined };
  if (!Number.isFinite(n)) return { value: undefined, warning: warn('fire-rate', raw, 'is not a number', "using the model's rate") };
  if (n < 0 || n > 1) {
    const value = Math.min(1, Math.max(0, n));
    return { value, warning: warn('fire-rate', raw, 'is outside 0..1', `using ${value}`) };
  }
  return { value: n };
}

/** `freeze-frames`: frames to hold the start before the rule runs; an integer 0..3600. */
export function parseFreezeFrames(raw: unknown): Parsed<number> {
  const n = toNumber(raw);
  if (n === undefined) return { value: 0 };
  if (!Number.isFinite(n)) return { value: 0, warning: warn('freeze-frames', raw, 'is not a number', 'using 0') };
  if (n < 0) return { value: 0, warning: warn('freeze-frames', raw, 'is negative', 'using 0') };
  const value = Math.min(MAX_FREEZE_FRAMES, Math.round(n));
  if (value !== n) return { value, warning: warn('freeze-frames', raw, `is not an integer in 0..${MAX_FREEZE_FRAMES}`, `using ${value}`) };
  return { value };
}

/** `brush`: damage radius in cells, > 0. Absent: `defaultBrush(grid)`. */
export function parseBrush(raw: unknown): Parsed<number | undefined> {
  const n = toNumber(raw);
  if (n === undefined) return { value: undefined };
  if (!Number.isFinite(n)) return { value: undefined, warning: warn('brush', raw, 'is not a number', 'using the default radius') };
  if (n <= 0) return { value: undefined, warning: warn('brush', raw, 'must be above 0', 'using the default radius') };
  if (n > MAX_BRUSH) return { value: MAX_BRUSH, warning: warn('brush', raw, `exceeds ${MAX_BRUSH}`, `using ${MAX_BRUSH}`) };
  return { value: n };
}

/** The brush radius when none is given: an eighth of the shorter grid side, at least 1 cell. */
export function defaultBrush(grid: GridSize): number {
  return Math.max(1, Math.round(Math.min(grid.width, grid.height) / 8));
}

/**
 * `start`: absent → the model's start; "seed"; "image" (the model's embedded image); anything else
 * is the URL of an image (resolved against `baseUrl`).
 */
export function parseStart(raw: unknown, baseUrl?: string): Parsed<StartRequest> {
  if (raw === null || raw === undefined) return { value: { kind: 'model' } };
  if (typeof raw !== 'string') return { value: { kind: 'model' }, warning: warn('start', raw, 'is not a string', "using the model's start") };
  const text = raw.trim();
  if (text === '') return { value: { kind: 'model' } };
  const lower = text.toLowerCase();
  if (lower === 'seed' || lower === 'image') return { value: { kind: lower } };
  try {
    return { value: { kind: 'url', url: new URL(text, baseUrl).href } };
  } catch {
    return { value: { kind: 'model' }, warning: warn('start', raw, 'is not "seed", "image" or a URL', "using the model's start") };
  }
}

/**
 * `loop`: a boolean attribute (present: reset when the state dies out or turns NaN), or a step
 * count ("500": also reset every 500 steps). "false" turns it off.
 */
export function parseLoop(raw: unknown): Parsed<LoopSetting> {
  const off: LoopSetting = { enabled: false, afterSteps: undefined };
  const on: LoopSetting = { enabled: true, afterSteps: undefined };
  if (raw === null || raw === undefined || raw === false) return { value: off };
  if (raw === true) return { value: on };
  const text = typeof raw === 'string' ? raw.trim().toLowerCase() : undefined;
  if (text === '' || text === 'true') return { value: on };
  if (text === 'false') return { value: off };
  const n = toNumber(raw);
  if (n !== undefined && Number.isInteger(n) && n >= 1) return { value: { enabled: true, afterSteps: n } };
  return { value: on, warning: warn('loop', raw, 'is not a positive step count', 'looping only when the state dies') };
}

/** Largest `max-bytes` accepted (1 GiB): a bigger cap is no cap in a page. */
export const MAX_MAX_BYTES = 2 ** 30;
/** Longest `load-timeout` accepted (10 minutes). */
export const MAX_LOAD_TIMEOUT_MS = 600_000;

/** `max-bytes`: cap on a downloaded model or start image, in bytes (a positive integer). */
export function parseMaxBytes(raw: unknown, fallback: number): Parsed<number> {
  return parseLimit('max-bytes', raw, fallback, MAX_MAX_BYTES);
}

/** `load-timeout`: milliseconds a download may take, request to last byte (a positive integer). */
export function parseLoadTimeout(raw: unknown, fallback: number): Parsed<number> {
  return parseLimit('load-timeout', raw, fallback, MAX_LOAD_TIMEOUT_MS);
}

function parseLimit(attribute: string, raw: unknown, fallback: number, max: number): Parsed<number> {
  const n = toNumber(raw);
  if (n === undefined) return { value: fallback };
  if (!Number.isFinite(n) || n < 1) return { value: fallback, warning: warn(attribute, raw, 'is not a positive number', `using ${fallback}`) };
  const value = Math.min(max, Math.round(n));
  if (value !== n) return { value, warning: warn(attribute, raw, `is not an integer in 1..${max}`, `using ${value}`) };
  return { value };
}

/** Lit converter: attribute → number, keeping "not given" (null or blank) apart from junk (NaN, warned later). */
export const numberAttribute = {
  fromAttribute: (value: string | null): number | undefined => (value === null || value.trim() === '' ? undefined : Number(value)),
  toAttribute: (value: number | undefined): string | null => (value === undefined ? null : String(value)),
};

/** Lit converter: `loop` is a boolean attribute or a step count. */
export const loopAttribute = {
  fromAttribute: (value: string | null): boolean | number => {
    if (value === null) return false;
    const text = value.trim().toLowerCase();
    if (text === '' || text === 'true') return true;
    if (text === 'false') return false;
    return Number(text);
  },
  toAttribute: (value: boolean | number): string | null => (value === false ? null : value === true ? '' : String(value)),
};
