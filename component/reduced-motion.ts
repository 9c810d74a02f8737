/**
 * Tracks `prefers-reduced-motion: reduce` as a reactive controller; the element does not
 * autoplay while it matches.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

const QUERY = '(prefers-reduced-motion: reduce)';

export class ReducedMotionController implements ReactiveController {
  reduce = false;
  private query: MediaQueryList | undefined;

  constructor(
    host: ReactiveControllerHost,
    private readonly onChange: (reduce: boolean) => void,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    if (typeof matchMedia !== 'function') return;
    this.query = matchMedia(QUERY);
    this.query.addEventListener('change', this.update);
    this.reduce = this.query.matches;
    this.onChange(this.reduce);
  }

  hostDisconnected(): void {
    this.query?.removeEventListener('change', this.update);
    this.query = undefined;
  }

  private readonly update = (event: MediaQueryListEvent): void => {
    this.reduce = event.matches;
    this.onChange(this.reduce);
  };
}
