/**
 * What assistive technology and CSS see of the element: focusability, `role="img"` with an
 * `aria-label` (from `alt`, else the model's name; an author's own label is left alone), and the
 * custom states `:state(loading)`, `:state(playing)` and so on.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

/** What the element is doing; also exposed as the custom states `:state(loading)` etc. */
export type NcaStatus = 'idle' | 'loading' | 'running' | 'error';
const STATUSES: readonly NcaStatus[] = ['idle', 'loading', 'running', 'error'];

export class ElementStateController implements ReactiveController {
  private readonly internals: ElementInternals | undefined;
  /** The aria-label we set last, to tell it from one the author set. */
  private ownAriaLabel: string | undefined;

  /** @param label the accessible name to show now */
  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly label: () => string,
  ) {
    host.addController(this);
    let internals: ElementInternals | undefined;
    try {
      internals = host.attachInternals();
    } catch {
      internals = undefined;
    }
    this.internals = internals;
  }

  hostConnected(): void {
    const host = this.host;
    if (!host.hasAttribute('tabindex')) host.tabIndex = 0;
    if (!host.hasAttribute('role')) host.setAttribute('role', 'img');
    this.updateLabel();
  }

  hostUpdated(): void {
    this.updateLabel();
  }

  showStatus(status: NcaStatus): void {
    for (const s of STATUSES) this.setCustomState(s, s === status);
  }

  showPlaying(playing: boolean): void {
    this.setCustomState('playing', playing);
  }

  private updateLabel(): void {
    const label = this.label();
    const current = this.host.getAttribute('aria-label');
    if (current !== null && current !== this.ownAriaLabel) return;
    if (current !== label) this.host.setAttribute('aria-label', label);
    this.ownAriaLabel = label;
  }

  private setCustomState(name: string, on: boolean): void {
    const states = this.internals?.states;
    if (states === undefined) return;
    try {
      if (on) states.add(name);
      else states.delete(name);
    } catch {
      // Older engines only accept the legacy `--name` form; custom states are a nicety there.
    }
  }
}
