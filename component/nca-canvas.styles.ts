/**
 * Styles of `<nca-canvas>` (Shoelace keeps them in a `.styles.ts` file beside the class). The
 * canvas is one pixel per cell, scaled by CSS; the fallback box lies over it while nothing runs.
 */
import { css } from 'lit';

export const ncaCanvasStyles = css`
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
