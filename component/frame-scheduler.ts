/**
 * One requestAnimationFrame loop shared by every `<nca-canvas>` on the page.
 *
 * NOTE: twenty elements each running their own rAF would cost twenty callbacks of browser
 * bookkeeping per frame and drift apart; with one loop they step in the same frame and the loop
 * stops entirely when no element is animating (off-screen, paused, hidden tab).
 */

export type FrameCallback = (now: DOMHighResTimeStamp) => void;

export interface FrameClock {
  request(callback: (now: DOMHighResTimeStamp) => void): number;
  cancel(handle: number): void;
}

const browserClock: FrameClock = {
  request: (callback) => requestAnimationFrame(callback),
  cancel: (handle) => cancelAnimationFrame(handle),
};

export class FrameScheduler {
  private readonly callbacks = new Set<FrameCallback>();
  private handle: number | undefined;

  constructor(private readonly clock: FrameClock = browserClock) {}

  /** Number of subscribers (for tests and diagnostics). */
  get size(): number {
    return this.callbacks.size;
  }

  /** True while a frame is requested. */
  get running(): boolean {
    return this.handle !== undefined;
  }

  /** Calls `callback` once per frame until `remove`; adding twice is a no-op. */
  add(callback: FrameCallback): void {
    this.callbacks.add(callback);
    if (this.handle === undefined) this.handle = this.clock.request(this.tick);
  }

  remove(callback: FrameCallback): void {
    this.callbacks.delete(callback);
    if (this.callbacks.size === 0 && this.handle !== undefined) {
      this.clock.cancel(this.handle);
      this.handle = undefined;
    }
  }

  private readonly tick = (now: DOMHighResTimeStamp): void => {
    this.handle = undefined;
    // A copy: callbacks may remove themselves (or others) while running.
    for (const callback of [...this.callbacks]) {
      if (!this.callbacks.has(callback)) continue;
      try {
        callback(now);
      } catch (error) {
        // One broken subscriber must not stop the others' animation; surface it without throwing.
        if (typeof reportError === 'function') reportError(error);
        else console.error(error);
      }
    }
    if (this.callbacks.size > 0 && this.handle === undefined) this.handle = this.clock.request(this.tick);
  };
}

let shared: FrameScheduler | undefined;

/** The page-wide scheduler, created on first use. */
export function sharedFrameScheduler(): FrameScheduler {
  shared ??= new FrameScheduler();
  return shared;
}
