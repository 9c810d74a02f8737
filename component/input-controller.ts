/**
 * Pointer and keyboard input of the element. A press erases a disc (Shift, a double-click or
 * `interaction="seed"` plants), a drag erases along its path; Space plays or pauses, `r` resets,
 * → steps once while not playing (Shift+→: ten steps).
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { EngineController } from './engine-controller.js';
import { clientToCell, type CellPoint, type ClientRect } from './pointer.js';
import type { ElementSettings } from './settings.js';

/** The element's methods that input calls (its public API, so input does what a script can). */
export interface InputActions {
  readonly playing: boolean;
  play(): void;
  pause(): void;
  reset(): Promise<void>;
  step(n?: number): Promise<void>;
  damage(x: number, y: number, radius?: number): Promise<void>;
  plant(x: number, y: number): Promise<void>;
}

type InputHost = ReactiveControllerHost & HTMLElement & InputActions;

export class InputController implements ReactiveController {
  private drag: { readonly pointerId: number; last: CellPoint; rect: ClientRect } | undefined;

  constructor(
    private readonly host: InputHost,
    private readonly engine: EngineController,
    private readonly settings: ElementSettings,
    private readonly canvas: () => HTMLCanvasElement | null,
  ) {
    host.addController(this);
    host.addEventListener('pointerdown', this.onPointerDown);
    host.addEventListener('pointermove', this.onPointerMove);
    host.addEventListener('pointerup', this.endDrag);
    host.addEventListener('pointercancel', this.endDrag);
    host.addEventListener('lostpointercapture', this.endDrag);
    host.addEventListener('dblclick', this.onDoubleClick);
    host.addEventListener('keydown', this.onKeyDown);
  }

  hostDisconnected(): void {
    this.endDrag();
  }

  /** The canvas content box in client pixels (its border and padding removed). */
  private canvasRect(): ClientRect | undefined {
    const canvas = this.canvas();
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

  private cellAt(event: { clientX: number; clientY: number }, rect: ClientRect): CellPoint | null {
    const engine = this.engine.engine;
    if (engine === undefined) return null;
    const fit = getComputedStyle(this.canvas()!).objectFit === 'fill' ? 'fill' : 'contain';
    return clientToCell(event.clientX, event.clientY, rect, { width: engine.width, height: engine.height }, fit);
  }

  private readonly onPointerDown = (event: PointerEvent): void => {
    if (this.settings.interaction === 'none' || this.engine.player === undefined || this.engine.status !== 'running') return;
    if (event.pointerType === 'mouse' && event.button !== 0) return;
    const rect = this.canvasRect();
    if (rect === undefined) return;
    const point = this.cellAt(event, rect);
    if (point === null) return;
    if (this.settings.interaction === 'seed' || event.shiftKey) {
      void this.host.plant(point.x, point.y);
      return;
    }
    try {
      this.host.setPointerCapture(event.pointerId);
    } catch {
      // A synthetic event has no active pointer to capture; dragging still works without it.
    }
    this.drag = { pointerId: event.pointerId, last: point, rect };
    void this.host.damage(point.x, point.y);
  };

  private readonly onPointerMove = (event: PointerEvent): void => {
    const drag = this.drag;
    if (drag === undefined || event.pointerId !== drag.pointerId) return;
    const point = this.cellAt(event, drag.rect);
    if (point === null) return;
    // A fast drag moves many cells between events: erase along the segment, not only its ends.
    const radius = this.engine.brushRadius();
    const distance = Math.hypot(point.x - drag.last.x, point.y - drag.last.y);
    const count = Math.min(64, Math.ceil(distance / Math.max(0.5, radius / 2)));
    for (let i = 1; i <= count; i++) {
      const t = i / count;
      void this.host.damage(drag.last.x + (point.x - drag.last.x) * t, drag.last.y + (point.y - drag.last.y) * t, radius);
    }
    drag.last = point;
  };

  private readonly endDrag = (): void => {
    const drag = this.drag;
    this.drag = undefined;
    if (drag !== undefined && this.host.hasPointerCapture(drag.pointerId)) this.host.releasePointerCapture(drag.pointerId);
  };

  private readonly onDoubleClick = (event: MouseEvent): void => {
    if (this.settings.interaction === 'none') return;
    const rect = this.canvasRect();
    const point = rect === undefined ? null : this.cellAt(event, rect);
    if (point !== null) void this.host.plant(point.x, point.y);
  };

  private readonly onKeyDown = (event: KeyboardEvent): void => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.target !== this.host) return;
    if (event.key === ' ' || event.key === 'Spacebar') {
      event.preventDefault(); // no page scroll
      if (this.host.playing) this.host.pause();
      else this.host.play();
    } else if (event.key === 'r' || event.key === 'R') {
      event.preventDefault();
      void this.host.reset();
    } else if (event.key === 'ArrowRight' && !this.host.playing && this.engine.player !== undefined) {
      event.preventDefault();
      void this.host.step(event.shiftKey ? 10 : 1);
    }
  };
}
