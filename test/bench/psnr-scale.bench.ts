/**
 * What a PSNR figure of `nca eval` means for a sprite of a given size: each sprite, placed on a
 * model's grid exactly as eval places its target, is scored against itself after a 3 x 3 box blur,
 * a 5 x 5 box blur, and with its silhouette in one flat colour (the mean premultiplied RGBA of its
 * visible cells), with eval's own `psnr` (whole grid, background included).
 *
 *   node --import tsx test/bench/psnr-scale.bench.ts [--model demo/models/essay-chick-persist.nca]
 *     [--sprites demo/sprites/hamster.png,demo/sprites/chick.png,demo/sprites/dragon.png]
 *
 * The model only supplies the target size and grid (24 px on 36 x 36 for the default). Prints a
 * table; no assertions (a measurement, not a test).
 */
import { parseArgs } from 'node:util';
import { loadGridImage, readModel } from '../../trainer/eval/index.js';
import { premultipliedRgba, psnr } from '../../trainer/eval/metrics.js';

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

/** The visible cells all in their mean colour and alpha; the background left empty. */
function flatSilhouette(rgba: Float32Array): Float32Array {
  const out = rgba.slice();
  const mean = [0, 0, 0, 0];
  let visible = 0;
  for (let i = 0; i < rgba.length; i += 4) {
    if (rgba[i + 3]! <= 0) continue;
    visible++;
    for (let c = 0; c < 4; c++) mean[c]! += rgba[i + c]!;
  }
  for (let i = 0; i < rgba.length; i += 4) {
    if (rgba[i + 3]! > 0) for (let c = 0; c < 4; c++) out[i + c] = mean[c]! / visible;
  }
  return out;
}

const model = await readModel(values.model);
const { metadata } = model;
console.log(`sprites fitted into ${metadata.targetWidth} x ${metadata.targetHeight} on a ${metadata.gridWidth} x ${metadata.gridHeight} grid (from ${values.model})`);
console.log('sprite | 3 x 3 blur | 5 x 5 blur | flat silhouette');
for (const sprite of values.sprites.split(',')) {
  const { state } = await loadGridImage(sprite, model);
  const target = premultipliedRgba(state, model.architecture);
  const scores = [boxBlur(target, state.width, state.height, 1), boxBlur(target, state.width, state.height, 2), flatSilhouette(target)].map(
    (image) => `${psnr(image, target).toFixed(1)} dB`,
  );
  console.log(`${sprite} | ${scores.join(' | ')}`);
}
