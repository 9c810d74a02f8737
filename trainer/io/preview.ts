/**
 * What a person watches during a run: a PNG strip of rollout frames (the model as a page would
 * run it: its start state and the NCA-Hash-4091 fire mask) and an SVG plot of the loss.
 */
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import type { Architecture } from '../../runtime/format/types.js';
import { hashFireMask, toRgba, type CaState } from '../../runtime/reference/index.js';
import { writeFileAtomic } from './atomic.js';
import { rollout } from '../training/rollout.js';
import type { TfStep } from '../model/step.js';

/**
 * The inference fire mask of step `step` as a [1,H,W,C] (per element) or [1,H,W,1] (per cell)
 * tensor: exactly what the reference step and the browser runtime use for `seed`.
 */
export function hashFireTensor(arch: Architecture, width: number, height: number, seed: number, step: number): tf.Tensor4D {
  const fires = hashFireMask(seed, step, arch.fireRate);
  const depth = arch.fireGranularity === 'cell' ? 1 : arch.channels;
  const mask = new Float32Array(width * height * depth);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < depth; c++) mask[(y * width + x) * depth + c] = fires(x, y, c) ? 1 : 0;
    }
  }
  return tf.tensor4d(mask, [1, height, width, depth]);
}

/**
 * Runs the tfjs step from `start` for `steps` steps with the hash mask of `seed` (step indices
 * 0, 1, ...) and returns the states after each step listed in `keep` (0 = the start). `damage`
 * is applied to the state entering its step (preview of healing).
 */
export function hashRollout(
  step: TfStep,
  start: CaState,
  steps: number,
  seed: number,
  keep: readonly number[],
  damage?: { readonly step: number; readonly apply: (state: CaState) => void },
): CaState[] {
  const { width, height, channels } = start;
  const frames = new Map<number, CaState>();
  const read = (tensor: tf.Tensor4D): CaState => ({ width, height, channels, data: Float32Array.from(tensor.dataSync() as Float32Array) });
  if (keep.includes(0)) frames.set(0, { ...start, data: start.data.slice() });
  let state = tf.tensor4d(start.data, [1, height, width, channels]);
  let done = 0;
  const segments = damage && damage.step > 0 && damage.step < steps ? [damage.step, steps] : [steps];
  for (const end of segments) {
    const from = done;
    const next = rollout(
      step,
      state,
      end - from,
      (t) => hashFireTensor(step.arch, width, height, seed, from + t),
      (s, index) => {
        if (keep.includes(from + index)) frames.set(from + index, read(s));
      },
    );
    state.dispose();
    state = next;
    done = end;
    if (damage && end === damage.step) {
      const damaged = read(state);
      damage.apply(damaged);
      state.dispose();
      state = tf.tensor4d(damaged.data, [1, height, width, channels]);
    }
  }
  state.dispose();
  return keep.map((index) => frames.get(index)!).filter((frame) => frame !== undefined);
}

/** A frame composited over a light checkerboard (so transparency shows), RGB bytes. */
function composite(rgba: Uint8ClampedArray, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const background = ((x >> 2) + (y >> 2)) % 2 === 0 ? 235 : 205;
      const a = rgba[i * 4 + 3]! / 255;
      for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(rgba[i * 4 + c]! * a + background * (1 - a));
    }
  }
  return out;
}

/**
 * Writes frames side by side (a 2-cell gap between), each cell scaled up `scale` times with
 * nearest-neighbour, as a PNG.
 */
export async function writeFilmStrip(path: string, frames: readonly CaState[], arch: Architecture, scale = 4): Promise<void> {
  const first = frames[0];
  if (!first) return;
  const { width, height } = first;
  const gap = 2;
  const stripWidth = frames.length * (width + gap) - gap;
  const strip = new Uint8Array(stripWidth * height * 3).fill(255);
  frames.forEach((frame, f) => {
    const rgb = composite(toRgba(frame, arch), width, height);
    for (let y = 0; y < height; y++) {
      strip.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), (y * stripWidth + f * (width + gap)) * 3);
    }
  });
  const png = await sharp(strip, { raw: { width: stripWidth, height, channels: 3 } })
    .resize({ width: stripWidth * scale, height: height * scale, kernel: 'nearest' })
    .png()
    .toBuffer();
  await writeFileAtomic(path, png);
}

/** An SVG line plot of log10(loss) per iteration, with the curriculum level as a step line. */
export function lossPlotSvg(losses: readonly number[], levels: readonly number[], maxLevel: number): string {
  const width = 640;
  const height = 320;
  const margin = { left: 56, right: 48, top: 16, bottom: 32 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const logs = losses.map((loss) => Math.log10(Math.max(loss, 1e-12)));
  const finite = logs.filter((v) => Number.isFinite(v));
  const lo = finite.length ? Math.floor(Math.min(...finite)) : -3;
  const hi = finite.length ? Math.ceil(Math.max(...finite)) : 0;
  const span = Math.max(hi - lo, 1);
  const n = Math.max(losses.length - 1, 1);
  const x = (i: number): string => (margin.left + (i / n) * plotWidth).toFixed(1);
  const y = (v: number): string => (margin.top + ((hi - v) / span) * plotHeight).toFixed(1);
  const yLevel = (level: number): string => (margin.top + (1 - level / Math.max(maxLevel, 1)) * plotHeight).toFixed(1);
  // Thin the polyline to at most ~2 points per pixel column.
  const stride = Math.max(1, Math.floor(losses.length / (2 * plotWidth)));
  const points: string[] = [];
  for (let i = 0; i < logs.length; i += stride) if (Number.isFinite(logs[i])) points.push(`${x(i)},${y(logs[i]!)}`);
  const levelPoints = levels.map((level, i) => `${x(i)},${yLevel(level)}`).join(' ');
  const ticks: string[] = [];
  for (let v = lo; v <= hi; v++) {
    ticks.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>` +
        `<text x="${margin.left - 6}" y="${y(v)}" text-anchor="end" dominant-baseline="middle">1e${v}</text>`,
    );
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...ticks,
    `<polyline fill="none" stroke="#c80" stroke-width="1" stroke-dasharray="3 2" points="${levelPoints}"/>`,
    `<polyline fill="none" stroke="#06c" stroke-width="1.2" points="${points.join(' ')}"/>`,
    `<text x="${margin.left}" y="${height - 8}">iteration 0</text>`,
    `<text x="${width - margin.right}" y="${height - 8}" text-anchor="end">${losses.length}</text>`,
    `<text x="${width - margin.right + 4}" y="${margin.top + 8}" fill="#c80">level ${maxLevel}</text>`,
    `<text x="${width - margin.right + 4}" y="${margin.top + plotHeight}" fill="#c80">0</text>`,
    `<text x="${margin.left + 6}" y="${margin.top + 12}" fill="#06c">loss (log scale)</text>`,
    '</svg>',
    '',
  ].join('\n');
}
