/** Rendering a run to a file (`nca render`); see docs/cli.md. */
export { frameSteps, renderFrames, type Damage, type Frame, type FrameOptions } from './frames.js';
export {
  MAX_SIDE,
  WHITE,
  compositeAndScale,
  encodeGif,
  encodePngStrip,
  parseBackground,
  type Background,
  type EncodeOptions,
  type GifOptions,
  type StripOptions,
} from './encode.js';
