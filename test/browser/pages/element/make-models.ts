/**
 * Writes the small hand-built models and bad files the `<nca-canvas>` browser tests load, into
 * ./models/. Run from the repository root:
 *
 *   node --import tsx test/browser/pages/element/make-models.ts
 *
 * The output is deterministic (same bytes every run) and checked in. Each model is constructed,
 * not trained: its weights are chosen by hand so its behaviour is known exactly, and this script
 * checks that behaviour with the reference step before writing anything.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import {
  createArchitecture,
  createModel,
  encodeModel,
  type Architecture,
  type DenseLayer,
  type NcaModel,
} from '../../../../runtime/format/index.js';
import { damageDisc, runSteps, startState, type CaState } from '../../../../runtime/reference/index.js';

const OUT = join(dirname(fileURLToPath(import.meta.url)), 'models');
const GRID = 32;
const ALPHA = 3;

/** Inputs of layer 0 in the essay rule (channel-major): p[c*K + k], kernels identity, mean, sobel. */
const K = 3;
const ID = 0;
const MEAN = 1;

const logit = (p: number): number => Math.log(p / (1 - p));

/** The essay architecture with 4 channels (RGBA only) and 2 hidden units; weights filled in below. */
function essay(fireRate: number): Architecture {
  return createArchitecture({ rule: 'essay', channels: 4, hidden: 2, fireRate, random: () => 0.5 });
}

function withLayers(arch: Architecture, fill: (hidden: DenseLayer, output: DenseLayer) => void): Architecture {
  const layers = arch.layers.map((l) => ({ ...l, weights: new Float32Array(l.weights.length), bias: new Float32Array(l.bias.length) }));
  fill(layers[0]!, layers[1]!);
  return { ...arch, layers };
}

/**
 * "Flood": a constructed healing model. Hidden unit 0 = atan(100 * (alpha + mean of the 8
 * neighbours' alpha) - 5): about -1.37 when the cell and its neighbours are dead, above 1.4 as
 * soon as the cell or any neighbour is alive (one live neighbour adds 1/8). Output alpha =
 * sigmoid(10 * h0), so a cell becomes alive (alpha ~ 1) iff it or a neighbour is alive: the seed
 * floods the grid, and a bitten-out disc fills in again from its rim. Colour is a constant orange
 * (biases only). Fire rate 0.5 per element, so growth is ragged rather than a perfect square.
 */
function floodArchitecture(): Architecture {
  return withLayers(essay(0.5), (hidden, output) => {
    hidden.weights[0 * hidden.inputs + ALPHA * K + ID] = 100;
    hidden.weights[0 * hidden.inputs + ALPHA * K + MEAN] = 100;
    hidden.bias[0] = -5;
    const colour = [0.95, 0.55, 0.15];
    colour.forEach((c, i) => (output.bias[i] = logit(c)));
    output.weights[ALPHA * output.inputs + 0] = 10;
  });
}

/** "Dies": every output is sigmoid(-20) ~ 2e-9 and every element fires: the seed is gone after one step. */
function diesArchitecture(): Architecture {
  return withLayers(essay(1), (_hidden, output) => {
    output.bias.fill(-20);
  });
}

/** A 12x12 start image: a blue ring with a white centre on transparent, premultiplied. */
function ringImage(): { width: number; height: number; rgba: Uint8Array } {
  const size = 12;
  const rgba = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const d = Math.hypot(x + 0.5 - size / 2, y + 0.5 - size / 2);
      const i = (y * size + x) * 4;
      if (d < 2.5) rgba.set([255, 255, 255, 255], i);
      else if (d < 6) rgba.set([30, 60, 220, 255], i);
    }
  }
  return { width: size, height: size, rgba };
}

const common = { targetWidth: 16, targetHeight: 16, gridWidth: GRID, gridHeight: GRID, attribution: 'Constructed by hand for the nca-canvas tests.' } as const;

const models: Record<string, NcaModel> = {
  'flood.nca': createModel(floodArchitecture(), { ...common, name: 'Flood (test model)', task: 'healing' }),
  'flood-image.nca': createModel(floodArchitecture(), {
    ...common,
    name: 'Flood from a ring (test model)',
    task: 'healing',
    start: { kind: 'image', ...ringImage() },
  }),
  'dies.nca': createModel(diesArchitecture(), { ...common, name: 'Dies at once (test model)', task: 'growth' }),
};

// ---- Behaviour checks with the reference step: refuse to write models that do not do what the tests assume.

function aliveCount(state: CaState, cx = GRID / 2, cy = GRID / 2, r = Infinity): number {
  let n = 0;
  for (let y = 0; y < state.height; y++) {
    for (let x = 0; x < state.width; x++) {
      if (Math.hypot(x + 0.5 - cx, y + 0.5 - cy) >= r) continue;
      if (state.data[(y * state.width + x) * state.channels + ALPHA]! > 0.1) n++;
    }
  }
  return n;
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`make-models: ${message}`);
}

{
  const model = models['flood.nca']!;
  const grown = runSteps(model.architecture, startState(model), { seed: 0, steps: 80 });
  check(aliveCount(grown) === GRID * GRID, `flood fills the grid in 80 steps (got ${aliveCount(grown)})`);
  damageDisc(grown, 16, 16, 6);
  check(aliveCount(grown, 16, 16, 6) === 0, 'damage clears the disc');
  const healed = runSteps(model.architecture, grown, { seed: 0, steps: 40, startStep: 80 });
  check(aliveCount(healed) === GRID * GRID, `flood heals a radius-6 disc in 40 steps (got ${aliveCount(healed)})`);
}
{
  const model = models['dies.nca']!;
  const after = runSteps(model.architecture, startState(model), { seed: 0, steps: 1 });
  check(aliveCount(after) === 0, 'dies is dead after one step');
}
// ---- A start image for start="url", and files that are not models.

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A minimal RGBA8 PNG (one IDAT, filter 0 on every row). */
function png(width: number, height: number, rgba: Uint8Array): Uint8Array {
  const chunk = (type: string, data: Uint8Array): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, no interlace
  const raw = Buffer.alloc(height * (1 + width * 4));
  for (let y = 0; y < height; y++) raw.set(rgba.subarray(y * width * 4, (y + 1) * width * 4), y * (1 + width * 4) + 1);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** 16x16: an opaque red 8x8 square in the centre, transparent around it (straight alpha). */
function redSquare(): Uint8Array {
  const rgba = new Uint8Array(16 * 16 * 4);
  for (let y = 4; y < 12; y++) for (let x = 4; x < 12; x++) rgba.set([255, 0, 0, 255], (y * 16 + x) * 4);
  return png(16, 16, rgba);
}

mkdirSync(OUT, { recursive: true });
const written: string[] = [];
function write(name: string, bytes: Uint8Array | string): void {
  writeFileSync(join(OUT, name), bytes);
  written.push(`${name} (${typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length} bytes)`);
}

for (const [name, model] of Object.entries(models)) write(name, encodeModel(model));
const flood = encodeModel(models['flood.nca']!);
// A download cut short: the header's total length no longer matches (decodeModel: length-mismatch).
write('truncated.nca', flood.subarray(0, Math.floor(flood.length / 2)));
// What a misconfigured server or SPA fallback returns with status 200 (decodeModel: bad-magic).
write('not-a-model.nca', '<!doctype html>\n<html><head><title>Not found</title></head><body>Page not found</body></html>\n');
write('red-square.png', redSquare());
// Bytes that are not an image at all, for start="url" failures.
write('not-an-image.png', 'this is not a PNG\n');

console.log(`wrote ${written.length} files to test/browser/pages/element/models/:\n  ${written.join('\n  ')}`);
