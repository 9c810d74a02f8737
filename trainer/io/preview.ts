/**
 * What a person watches during a run: a PNG strip of rollout frames (the model as a page would
 * run it, see training/hash-rollout.ts) and an SVG plot of the loss.
 */
import type { Architecture } from '../../runtime/format/types.js';
import { toRgba, type CaState } from '../../runtime/reference/index.js';
import { encodePngStrip } from '../render/encode.js';
import { writeFileAtomic } from './atomic.js';

/** Preview strips: each cell 4 x 4 pixels, 2 cells between frames, on a checkerboard so transparency shows. */
const PREVIEW_SCALE = 4;
const PREVIEW_GAP = 2;

/** Writes frames side by side as a PNG (nothing for no frames). */
export async function writeFilmStrip(path: string, frames: readonly CaState[], arch: Architecture): Promise<void> {
  if (frames.length === 0) return;
  const rgbaFrames = frames.map((frame, step) => ({ step, width: frame.width, height: frame.height, rgba: toRgba(frame, arch) }));
  await writeFileAtomic(path, await encodePngStrip(rgbaFrames, { scale: PREVIEW_SCALE, gap: PREVIEW_GAP, background: 'checker' }));
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
