/**
 * What a PSNR figure of `nca eval` means for a sprite of a given size: each sprite, placed on a
 * model's grid exactly as eval places its target, is scored against itself after a 3 x 3 box blur,
 * a 5 x 5 box blur, and with its silhouette in one flat colour (the mean premultiplied RGBA of its
 * visible cells), with eval's own `psnr` (whole grid, background included).
 *
 * Two more columns bound what a model that regrows only a "blob" can score: the sprite kept
 * exactly inside a growth crop (`nca train --crop F`, the trainer's disc) with every visible cell
 * outside it in their flat mean colour (the shape exact), and each of eval's standard bites
 * filled the same way, the rest exact (the worst of the three).
 *
 *   node --import tsx test/bench/psnr-scale.bench.ts [--model demo/models/essay-chick-persist.nca]
 *     [--sprites demo/sprites/hamster.png,demo/sprites/chick.png,demo/sprites/dragon.png]
 *
 * The model only supplies the target size and grid (24 px on 36 x 36 for the default). Prints a
 * table; no assertions (a measurement, not a test).
 */
import { parseArgs } from 'node:util';
import { loadGridImage, readModel } from '../../trainer/eval/index.js';
import { standardBites, type Bite } from '../../trainer/eval/evaluate.js';
import { alphaBoundingBox, premultipliedRgba, psnr } from '../../trainer/eval/metrics.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'demo/models/essay-chick-persist.nca' },
    sprites: { type: 'string', default: 'demo/sprites/hamster.png,demo/sprites/chick.png,demo/sprites/dragon.png' },
  },
});

/** Each RGBA value replaced by the mean over the (2r+1)^2 cells around it that lie on the grid. */
function boxBlur(rgba: Float32Array, width: number, height: number, radius: number): Float32Array {
  const out = new Float32Array(rgba.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) {
        let sum = 0;
        let count = 0;
        for (let dy = -radius; dy <= radius; dy++) {
          for (let dx = -radius; dx <= radius; dx++) {
            const xx = x + dx;
            const yy = y + dy;
            if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
            sum += rgba[(yy * width + xx) * 4 + c]!;
            count++;
          }
        }
        out[(y * width + x) * 4 + c] = sum / count;
      }
    }
  }
  return out;
}

/**
 * The visible cells that `fill(cell)` selects (default: all) in their mean colour and alpha;
 * the other cells, and the background, left as they are.
 */
function flatFill(rgba: Float32Array, fill: (cell: number) => boolean = () => true): Float32Array {
  const out = rgba.slice();
  const mean = [0, 0, 0, 0];
  let filled = 0;
  for (let i = 0; i < rgba.length; i += 4) {
    if (rgba[i + 3]! <= 0 || !fill(i / 4)) continue;
    filled++;
    for (let c = 0; c < 4; c++) mean[c]! += rgba[i + c]!;
  }
  for (let i = 0; i < rgba.length; i += 4) {
    if (rgba[i + 3]! > 0 && fill(i / 4)) for (let c = 0; c < 4; c++) out[i + c] = mean[c]! / filled;
  }
  return out;
}

/** Cells whose centre lies outside a disc about the grid's centre (the trainer's crop, samples.ts). */
function outsideDisc(width: number, height: number, radius: number): (cell: number) => boolean {
  return (cell) => ((cell % width) + 0.5 - width / 2) ** 2 + (Math.floor(cell / width) + 0.5 - height / 2) ** 2 >= radius ** 2;
}

/** Cells within a bite (evaluate.ts's disc test). */
function insideBite(width: number, bite: Bite): (cell: number) => boolean {
  return (cell) => ((cell % width) + 0.5 - bite.x) ** 2 + (Math.floor(cell / width) + 0.5 - bite.y) ** 2 <= bite.radius ** 2;
}

const model = await readModel(values.model);
const { metadata } = model;
console.log(`sprites fitted into ${metadata.targetWidth} x ${metadata.targetHeight} on a ${metadata.gridWidth} x ${metadata.gridHeight} grid (from ${values.model})`);
const crops = [0.5, 0.35];
console.log(`sprite | 3 x 3 blur | 5 x 5 blur | flat silhouette | ${crops.map((f) => `crop ${f} + flat rest`).join(' | ')} | one bite flat (worst)`);
for (const sprite of values.sprites.split(',')) {
  const fitted = await loadGridImage(sprite, model);
  const { state } = fitted;
  const { width, height } = state;
  const target = premultipliedRgba(state, model.architecture);
  // The trainer's crop radius: a fraction of half the fitted sprite's diagonal.
  const radius = Math.hypot(fitted.width, fitted.height) / 2;
  const box = alphaBoundingBox(target, width, height)!;
  const worstBite = Math.min(...standardBites(box).map((bite) => psnr(flatFill(target, insideBite(width, bite)), target)));
  const images = [
    boxBlur(target, width, height, 1),
    boxBlur(target, width, height, 2),
    flatFill(target),
    ...crops.map((f) => flatFill(target, outsideDisc(width, height, f * radius))),
  ];
  const scores = [...images.map((image) => psnr(image, target)), worstBite].map((db) => `${db.toFixed(1)} dB`);
  console.log(`${sprite} | ${scores.join(' | ')}`);
}
