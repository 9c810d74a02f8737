/**
 * Whether the host can be seen: intersecting the viewport (IntersectionObserver) and its document
 * not hidden (visibilitychange). A reactive controller that disconnects itself with the host, as
 * `@lit-labs/observers` does.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

export class VisibilityController implements ReactiveController {
  /** Intersecting the viewport. False until the observer's first report, so an element that
   * starts off-screen never runs a step. */
  onScreen = false;
  documentVisible = true;

  private observer: IntersectionObserver | undefined;

  constructor(
    private readonly host: ReactiveControllerHost & Element,
    private readonly onChange: (visible: boolean) => void,
  ) {
    host.addController(this);
  }

  get visible(): boolean {
    return this.onScreen && this.documentVisible;
  }

  hostConnected(): void {
    this.documentVisible = !document.hidden;
    document.addEventListener('visibilitychange', this.onVisibilityChange);
    if (typeof IntersectionObserver === 'function') {
      this.observer = new IntersectionObserver(this.onIntersection);
      this.observer.observe(this.host);
    } else {
      this.onScreen = true;
    }
    this.notify();
  }

  hostDisconnected(): void {
    document.removeEventListener('visibilitychange', this.onVisibilityChange);
    this.observer?.disconnect();
    this.observer = undefined;
    this.onScreen = false;
    this.notify();
  }

  private readonly onIntersection = (entries: IntersectionObserverEntry[]): void => {
    // The last entry is the newest when several queued up in one task.
    const entry = entries[entries.length - 1];
    if (entry === undefined) return;
    this.onScreen = entry.isIntersecting;
    this.notify();
  };

  private readonly onVisibilityChange = (): void => {
    this.documentVisible = !document.hidden;
    this.notify();
  };

  private notify(): void {
    this.onChange(this.visible);
  }
}
