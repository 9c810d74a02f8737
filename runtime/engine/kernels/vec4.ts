/**
 * The GL formulation: every buffer packs four values per texel (gpu.js `Array(4)` kernels, RGBA
 * float textures), as Distill's hand-written WebGL demo does.
 *
 * Why: a gpu.js GL kernel pays for every array read with index arithmetic (two integer divisions)
 * and one texture fetch, and for a constant array also a dynamic vector component. Reading a
 * vec4 per fetch, and computing four outputs per thread from the same fetched inputs, cuts the
 * fetches of a dense layer from two per multiply-add to five per sixteen: measured 9x faster on
 * SwiftShader for a 48 -> 64 layer on 64x64 cells (docs/performance.md, "Runtime").
 *
 * Layout: a buffer of D values per cell is a 3-D `[D/4, W, H]` output of vec4s, read
 * `b[y][x][block]`, block `b` holding values 4b..4b+3. The state keeps the format's channel
 * order (C must be a multiple of 4). Perception is computed in a kernel-major internal order
 * (block k*C/4 + cb: kernel k on channels 4cb..4cb+3, so one state fetch feeds four values) and
 * the first layer's weights are permuted to match whatever order the model uses. Layer widths
 * are padded to multiples of 4 with zero weights, which the next layer multiplies by zero.
 *
 * Weights and biases are textures made once at build (`weights`/`bias` loaders) and passed as
 * arguments: texel (jb, o) of a layer's weights holds W[o][4jb..4jb+3] in the internal order.
 */
import type { Architecture } from '../../format/types.js';
import { activeKernel, aliveKernel, damageKernel, fireLanes, firesImplied, plantKernel, renderKernel, updated, type Grid, type Lanes } from './cell.js';
import type { KernelSet } from './kernel-set.js';
import { activation, num, U } from './text.js';

/** The vec4 formulation needs whole RGBA blocks of state channels. */
export function vec4Supported(arch: Architecture): boolean {
  return arch.channels % 4 === 0;
}

const pad4 = (n: number): number => Math.ceil(n / 4) * 4;

export interface Vec4Layer {
  /** Padded input and output widths (multiples of 4). */
  readonly inputs: number;
  readonly outputs: number;
  /** Row-major [outputs][inputs] in the internal input order, zero-padded. */
  readonly weights: Float32Array;
  /** Zero-padded to `outputs`. */
  readonly bias: Float32Array;
}

/** The model's layers in the internal order and padding of this formulation. */
export function vec4Layers(arch: Architecture): Vec4Layer[] {
  const C = arch.channels;
  const K = arch.kernels.length;
  return arch.layers.map((layer, l) => {
    const inputs = pad4(layer.inputs);
    const outputs = l === arch.layers.length - 1 ? layer.outputs : pad4(layer.outputs);
    const weights = new Float32Array(outputs * inputs);
    const bias = new Float32Array(outputs);
    bias.set(layer.bias);
    for (let o = 0; o < layer.outputs; o++) {
      for (let j = 0; j < layer.inputs; j++) {
        // Layer 0: internal index j = k*C + c (kernel-major) reads the model's p index.
        let source = j;
        if (l === 0 && arch.perceptionOrder === 'channel-major') {
          const k = Math.floor(j / C);
          const c = j - k * C;
          source = c * K + k;
        }
        weights[o * inputs + j] = layer.weights[o * layer.inputs + source]!;
      }
    }
    return { inputs, outputs, weights, bias };
  });
}

/**
 * The vec4 kernels (see KernelSet): dense_l(v, wt, bt[, act]) and output(h, s, wt, bt[, act],
 * key, threshold) take their layer's weight and bias textures as arguments.
 */
export interface Vec4Sources extends KernelSet {
  /** weights(w: Input [inputs, outputs]) -> [inputs/4, outputs]. */
  readonly weightLoader: string;
  /** bias(b: Float32Array) -> [outputs/4]. */
  readonly biasLoader: string;
}

export interface Vec4Options {
  /** As KernelOptions.skipIdleCells. */
  readonly skipIdleCells: boolean;
}

/** Four channels per thread: lane u is channel 4b + u, component u of texel b. */
const PROLOGUE = `    const b = this.thread.x;\n    const x = this.thread.y;\n    const y = this.thread.z;\n`;
const VEC4_LANES: Lanes = {
  prologue: PROLOGUE,
  count: 4,
  channel: (u) => `b * 4.0 + ${num(u)}`,
  read(buffer, y, x, channels, name) {
    // One fetch per texel: channels in the same block share it.
    const blocks = [...new Set(channels.map((c) => Math.floor(c / 4)))];
    return (
      blocks.map((block) => `    const ${name}B${block} = ${buffer}[${y}][${x}][${num(block)}];\n`).join('') +
      channels.map((c) => `    const ${name}${c} = ${name}B${Math.floor(c / 4)}[${c % 4}];\n`).join('')
    );
  },
  write: (value) => `return [${U.map(value).join(', ')}];`,
  keep: (buffer) => `    const v = ${buffer}[y][x][b];\n    return [v[0], v[1], v[2], v[3]];\n`,
};

function perceiveKernel(arch: Architecture, grid: Grid): string {
  const CB = arch.channels / 4;
  return (
    `function perceive(s) {\n${PROLOGUE}` +
    `    const k = Math.floor((b + 0.5) / ${num(CB)});\n` +
    `    const cb = b - k * ${num(CB)};\n` +
    U.map((u) => `    let a${u} = 0.0;\n`).join('') +
    `    for (let dy = 0; dy < 3; dy++) {\n` +
    `      for (let dx = 0; dx < 3; dx++) {\n` +
    `        const ny = y + dy - 1.0;\n` +
    `        const nx = x + dx - 1.0;\n` +
    `        if (ny >= 0.0 && ny < ${num(grid.height)} && nx >= 0.0 && nx < ${num(grid.width)}) {\n` +
    `          const q = s[ny][nx][cb];\n` +
    `          const kw = this.constants.kern[k * 9.0 + dy * 3.0 + dx];\n` +
    U.map((u) => `          a${u} += kw * q[${u}];\n`).join('') +
    `        }\n` +
    `      }\n` +
    `    }\n` +
    `    return [a0, a1, a2, a3];\n}`
  );
}

/** a_u = sum over blocks jb of wt[o0 + u][jb] . v[y][x][jb], for u in 0..3, and `bias`. */
function dot4(vector: string, inputs: number): string {
  return (
    U.map((u) => `    let a${u} = 0.0;\n`).join('') +
    `    for (let jb = 0; jb < ${inputs / 4}; jb++) {\n` +
    `      const q = ${vector}[y][x][jb];\n` +
    U.map(
      (u) =>
        `      const w${u} = wt[o0 + ${num(u)}][jb];\n` +
        `      a${u} += w${u}[0] * q[0] + w${u}[1] * q[1] + w${u}[2] * q[2] + w${u}[3] * q[3];\n`,
    ).join('') +
    `    }\n` +
    `    const bias = bt[b];\n`
  );
}

function activeBlock(active: boolean): { param: string; open: string; close: string } {
  return active ? { param: ', act', open: `    if (act[y][x] > 0.5) {\n`, close: `    }\n` } : { param: '', open: '', close: '' };
}

function denseKernel(arch: Architecture, layer: Vec4Layer, l: number, active: boolean): string {
  const block = activeBlock(active);
  return (
    `function dense${l}(v, wt, bt${block.param}) {\n${PROLOGUE}` +
    `    const o0 = b * 4.0;\n` +
    U.map((u) => `    let r${u} = 0.0;\n`).join('') +
    block.open +
    dot4('v', layer.inputs) +
    U.map((u) => `    r${u} = ${activation(arch.layers[l]!.activation, `(a${u} + bias[${u}])`)};\n`).join('') +
    block.close +
    `    return [r0, r1, r2, r3];\n}`
  );
}

function outputKernel(arch: Architecture, layer: Vec4Layer, options: Vec4Options, active: boolean): string {
  const last = arch.layers[arch.layers.length - 1]!;
  const block = activeBlock(active);
  const implied = firesImplied(arch, options.skipIdleCells);
  return (
    `function output(h, s, wt, bt${block.param}, key, threshold) {\n${PROLOGUE}` +
    `    const o0 = b * 4.0;\n` +
    `    const old = s[y][x][b];\n` +
    U.map((u) => `    let r${u} = old[${u}];\n`).join('') +
    // An idle cell keeps its state (no fire) or is zeroed by the alive pass (dead before).
    block.open +
    dot4('h', layer.inputs) +
    (implied ? '' : fireLanes(arch, VEC4_LANES)) +
    U.map((u) => {
      const value = updated(arch, activation(last.activation, `(a${u} + bias[${u}])`), `old[${u}]`);
      return implied ? `    r${u} = ${value};\n` : `    if (f${u}) { r${u} = ${value}; }\n`;
    }).join('') +
    block.close +
    `    return [r0, r1, r2, r3];\n}`
  );
}

function flattenKernel(arch: Architecture, grid: Grid): string {
  const C = arch.channels;
  return (
    `function flatten(s) {\n` +
    `    const i = this.thread.x;\n` +
    `    const cell = Math.floor((i + 0.5) / ${num(C)});\n` +
    `    const c = i - cell * ${num(C)};\n` +
    `    const y = Math.floor((cell + 0.5) / ${num(grid.width)});\n` +
    `    const x = cell - y * ${num(grid.width)};\n` +
    `    const b = Math.floor((c + 0.5) / 4.0);\n` +
    `    const u = c - b * 4.0;\n` +
    `    const v = s[y][x][b];\n` +
    `    if (u < 0.5) { return v[0]; }\n` +
    `    if (u < 1.5) { return v[1]; }\n` +
    `    if (u < 2.5) { return v[2]; }\n` +
    `    return v[3];\n}`
  );
}

export function vec4Sources(arch: Architecture, width: number, height: number, options: Vec4Options): Vec4Sources {
  if (!vec4Supported(arch)) throw new RangeError(`the vec4 formulation needs a multiple of 4 channels, not ${arch.channels}`);
  const grid: Grid = { width, height };
  const layers = vec4Layers(arch);
  const active = activeKernel(arch, grid, VEC4_LANES, {
    skipIdleCells: options.skipIdleCells,
    keyParams: 'key',
    keyPrelude: '',
    maskThread: `    const x = this.thread.x;\n    const y = this.thread.y;\n`,
  });
  const hasActive = active !== undefined;
  return {
    perceive: perceiveKernel(arch, grid),
    active,
    hidden: layers.slice(0, -1).map((layer, l) => denseKernel(arch, layer, l, hasActive)),
    output: outputKernel(arch, layers[layers.length - 1]!, options, hasActive),
    alive: aliveKernel(arch, grid, VEC4_LANES),
    damage: damageKernel(VEC4_LANES),
    plant: plantKernel(arch, VEC4_LANES),
    copy:
      `function copy(s) {\n${PROLOGUE}` +
      `    const c = b * 4.0;\n` +
      `    return [s[y][x][c], s[y][x][c + 1.0], s[y][x][c + 2.0], s[y][x][c + 3.0]];\n}`,
    flatten: flattenKernel(arch, grid),
    render: renderKernel(arch, grid, VEC4_LANES),
    weightLoader:
      `function weights(w) {\n` +
      `    const j = this.thread.x * 4.0;\n    const o = this.thread.y;\n` +
      `    return [w[o][j], w[o][j + 1.0], w[o][j + 2.0], w[o][j + 3.0]];\n}`,
    biasLoader: `function bias(v) {\n    const i = this.thread.x * 4.0;\n    return [v[i], v[i + 1.0], v[i + 2.0], v[i + 3.0]];\n}`,
  };
}
