/**
 * Downloads with limits: a model or start-image file is streamed with a byte cap (a declared
 * Content-Length over it is refused before the body is read; a hidden one is cut off at the cap)
 * and a deadline from request to last byte, so a slow or hostile server can neither leave the
 * element loading forever nor make it buffer gigabytes.
 *
 * NOTE: `response.arrayBuffer()` has neither limit; reading the body stream ourselves is the only
 * way to stop at the cap. Cancelling the reader (or aborting the fetch's signal) closes the
 * connection, so the server stops sending too.
 */
import { NcaLoadError } from './events.js';

/** Default cap on a downloaded model or start image: 16 MB (the largest valid model is ~16 MB of f32 weights). */
export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
/** Default deadline of one download, request to last byte. */
export const DEFAULT_LOAD_TIMEOUT_MS = 30_000;

export interface FetchLimits {
  /** Most bytes a body may have. */
  readonly maxBytes: number;
  /** Milliseconds from the request to the last byte. */
  readonly timeoutMs: number;
}

export const DEFAULT_FETCH_LIMITS: FetchLimits = { maxBytes: DEFAULT_MAX_BYTES, timeoutMs: DEFAULT_LOAD_TIMEOUT_MS };

/** A deadline timer this late means the page was busy; it then waits GRACE_MS more, at most LATE_RETRIES times. */
const LATE_MS = 250;
const GRACE_MS = 1000;
const LATE_RETRIES = 5;

/** A download or image over a limit (the `cause` of an `nca-error` of type `too-large`). */
export class NcaTooLargeError extends Error {
  readonly url: string;
  /** What was counted: body bytes, or an image's pixels. */
  readonly unit: 'bytes' | 'pixels';
  readonly limit: number;
  /** The size declared or found; undefined when the body hid its length and was cut off at the cap. */
  readonly size: number | undefined;
  constructor(url: string, unit: 'bytes' | 'pixels', limit: number, size: number | undefined, what = 'is') {
    super(size === undefined ? `${url} ${what} more than the limit of ${limit} ${unit}` : `${url} ${what} ${size} ${unit}, over the limit of ${limit}`);
    this.name = 'NcaTooLargeError';
    this.url = url;
    this.unit = unit;
    this.limit = limit;
    this.size = size;
  }
}

/** A download that did not finish in time (the `cause` of an `nca-error` of type `timeout`). */
export class NcaTimeoutError extends Error {
  readonly url: string;
  readonly timeoutMs: number;
  constructor(url: string, timeoutMs: number) {
    super(`GET ${url} did not finish within ${timeoutMs} ms`);
    this.name = 'NcaTimeoutError';
    this.url = url;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Fetches `url` as bytes within `limits`. HTTP errors reject as `NcaLoadError` (with `status`),
 * the limits as `NcaTooLargeError` / `NcaTimeoutError`; network and CORS errors as the browser
 * throws them; an abort of `signal` as its AbortError.
 */
export async function fetchLimited(url: string, signal: AbortSignal, limits: FetchLimits = DEFAULT_FETCH_LIMITS): Promise<Uint8Array> {
  signal.throwIfAborted();
  const deadline = new AbortController();
  const timedOut = new NcaTimeoutError(url, limits.timeoutMs);
  let timer = expireAt(performance.now() + limits.timeoutMs, LATE_RETRIES);
  function expireAt(due: number, retries: number): ReturnType<typeof setTimeout> {
    return setTimeout(() => {
      // NOTE: a page busy past the deadline (dozens of engines compiling on the main thread) runs
      // this timer late, possibly before the network tasks that already brought the whole body.
      // A late timer gives those a grace period first, so only a download that is really still
      // unfinished times out.
      if (retries > 0 && performance.now() - due > LATE_MS) timer = expireAt(performance.now() + GRACE_MS, retries - 1);
      else deadline.abort(timedOut);
    }, Math.max(0, due - performance.now()));
  }
  const forward = (): void => deadline.abort(signal.reason);
  signal.addEventListener('abort', forward, { once: true });
  try {
    const response = await fetch(url, { signal: deadline.signal, credentials: 'same-origin' });
    if (!response.ok) {
      void response.body?.cancel().catch(() => undefined);
      throw new NcaLoadError(url, response.status, response.statusText);
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > limits.maxBytes) {
      void response.body?.cancel().catch(() => undefined);
      throw new NcaTooLargeError(url, 'bytes', limits.maxBytes, declared, 'declares');
    }
    return await readCapped(response, url, limits.maxBytes);
  } catch (error) {
    // Whatever the deadline's abort surfaced as (its reason, or a plain AbortError), it is a timeout.
    if (deadline.signal.reason === timedOut && !signal.aborted) throw timedOut;
    throw error;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', forward);
  }
}

async function readCapped(response: Response, url: string, maxBytes: number): Promise<Uint8Array> {
  const body = response.body;
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      void reader.cancel().catch(() => undefined);
      throw new NcaTooLargeError(url, 'bytes', maxBytes, undefined, 'sends');
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
