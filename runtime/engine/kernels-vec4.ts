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
import type { Architecture } from '../format/types.js';
import { activation, fireHashInto, HASH_SCRATCH, num } from './kernels.js';

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

export interface Vec4Sources {
  /** perceive(s) -> [K*C/4, W, H]. Constants: kern (K*9, rotated). */
  readonly perceive: string;
  /** active(s, key, threshold) -> [W, H] scalar, as the scalar formulation's. */
  readonly active: string | undefined;
  /** dense_l(v, wt, bt[, act]) -> [outputs/4, W, H], for every layer but the last. */
  readonly hidden: readonly string[];
  /** output(h, s, wt, bt[, act], key, threshold) -> [C/4, W, H]. */
  readonly output: string;
  /** alive(updated, previous) -> [C/4, W, H]. */
  readonly alive: string;
  readonly damage: string;
  readonly plant: string;
  /** copy(s: Input [C, W, H]) -> [C/4, W, H]. */
  readonly copy: string;
  /** flatten(s) -> [W*H*C] scalars, HWC. */
  readonly flatten: string;
  /** Graphical render(s) on [W, H], bottom row first, as `toRgba`. */
  readonly render: string;
  /** weights(w: Input [inputs, outputs]) -> [inputs/4, outputs]. */
  readonly weightLoader: string;
  /** bias(b: Float32Array) -> [outputs/4]. */
  readonly biasLoader: string;
}

export interface Vec4Options {
  /** As KernelOptions.skipIdleCells. */
  readonly skipIdleCells: boolean;
}

export function vec4Sources(arch: Architecture, width: number, height: number, options: Vec4Options): Vec4Sources {
  if (!vec4Supported(arch)) throw new RangeError(`the vec4 formulation needs a multiple of 4 channels, not ${arch.channels}`);
  const C = arch.channels;
  const CB = C / 4;
  const W = width;
  const H = height;
  const A = arch.alphaChannel;
  const Ab = num(Math.floor(A / 4));
  const Ac = A % 4;
  const threshold = num(arch.aliveThreshold);
  const layers = vec4Layers(arch);
  const last = arch.layers[arch.layers.length - 1]!;
  const lastLayout = layers[layers.length - 1]!;
  const U = [0, 1, 2, 3];
  const prologue = `    const b = this.thread.x;\n    const x = this.thread.y;\n    const y = this.thread.z;\n`;
  const inGrid = (ny: string, nx: string): string => `${ny} >= 0.0 && ${ny} < ${num(H)} && ${nx} >= 0.0 && ${nx} < ${num(W)}`;

  /** 3x3 (or 5x5) max of alpha with zero padding, into `into`. */
  const maxAlphaInto = (buffer: string, into: string, radius: number): string =>
    `    let ${into} = -3.0e38;\n` +
    `    for (let dy = 0; dy < ${2 * radius + 1}; dy++) {\n` +
    `      for (let dx = 0; dx < ${2 * radius + 1}; dx++) {\n` +
    `        const ny = y + dy - ${num(radius)};\n` +
    `        const nx = x + dx - ${num(radius)};\n` +
    `        if (${inGrid('ny', 'nx')}) {\n` +
    `          const av = ${buffer}[ny][nx][${Ab}];\n` +
    `          ${into} = Math.max(${into}, av[${Ac}]);\n` +
    `        } else {\n` +
    `          ${into} = Math.max(${into}, 0.0);\n` +
    `        }\n` +
    `      }\n` +
    `    }\n`;

  const idleTests: string[] = [];
  if (options.skipIdleCells && arch.fireGranularity === 'cell') idleTests.push('hCell >= threshold');
  if (options.skipIdleCells && arch.aliveMode === 'max-pool') idleTests.push(`!(near > ${threshold})`);
  const active =
    idleTests.length > 0
      ? `function active(s, key, threshold) {\n` +
        `    const x = this.thread.x;\n    const y = this.thread.y;\n` +
        (arch.fireGranularity === 'cell' && options.skipIdleCells ? HASH_SCRATCH + fireHashInto('hCell', 'key', 'x', 'y', '0.0') : '') +
        (arch.aliveMode === 'max-pool' && options.skipIdleCells ? maxAlphaInto('s', 'near', 2) : '') +
        `    if (${idleTests.join(' || ')}) { return 0.0; }\n` +
        `    return 1.0;\n}`
      : undefined;
  const actParam = active ? ', act' : '';
  const ifActive = active ? `    if (act[y][x] > 0.5) {\n` : '';
  const endActive = active ? `    }\n` : '';

  const perceive =
    `function perceive(s) {\n${prologue}` +
    `    const k = Math.floor((b + 0.5) / ${num(CB)});\n` +
    `    const cb = b - k * ${num(CB)};\n` +
    U.map((u) => `    let a${u} = 0.0;\n`).join('') +
    `    for (let dy = 0; dy < 3; dy++) {\n` +
    `      for (let dx = 0; dx < 3; dx++) {\n` +
    `        const ny = y + dy - 1.0;\n` +
    `        const nx = x + dx - 1.0;\n` +
    `        if (${inGrid('ny', 'nx')}) {\n` +
    `          const q = s[ny][nx][cb];\n` +
    `          const kw = this.constants.kern[k * 9.0 + dy * 3.0 + dx];\n` +
    U.map((u) => `          a${u} += kw * q[${u}];\n`).join('') +
    `        }\n` +
    `      }\n` +
    `    }\n` +
    `    return [a0, a1, a2, a3];\n}`;

  /** a_u = sum over blocks jb of wt[o0 + u][jb] . v[y][x][jb], for u in 0..3. */
  const dot4 = (vector: string, inputs: number): string =>
    U.map((u) => `    let a${u} = 0.0;\n`).join('') +
    `    for (let jb = 0; jb < ${inputs / 4}; jb++) {\n` +
    `      const q = ${vector}[y][x][jb];\n` +
    U.map(
      (u) =>
        `      const w${u} = wt[o0 + ${num(u)}][jb];\n` +
        `      a${u} += w${u}[0] * q[0] + w${u}[1] * q[1] + w${u}[2] * q[2] + w${u}[3] * q[3];\n`,
    ).join('') +
    `    }\n` +
    `    const bias = bt[b];\n`;

  const hidden = layers.slice(0, -1).map(
    (layer, l) =>
      `function dense${l}(v, wt, bt${actParam}) {\n${prologue}` +
      `    const o0 = b * 4.0;\n` +
      U.map((u) => `    let r${u} = 0.0;\n`).join('') +
      ifActive +
      dot4('v', layer.inputs) +
      U.map((u) => `    r${u} = ${activation(arch.layers[l]!.activation, `(a${u} + bias[${u}])`)};\n`).join('') +
      endActive +
      `    return [r0, r1, r2, r3];\n}`,
  );

  const update = (o: string, old: string): string => (arch.update === 'replace' ? o : `${old} + ${o}`);
  const firesImplied = options.skipIdleCells && arch.fireGranularity === 'cell';
  let fire = '';
  if (!firesImplied) {
    fire += HASH_SCRATCH;
    if (arch.fireGranularity === 'cell') {
      fire += fireHashInto('hCell', 'key', 'x', 'y', '0.0');
      fire += U.map((u) => `    const f${u} = hCell < threshold;\n`).join('');
    } else {
      for (const u of U) {
        fire += fireHashInto(`hEl${u}`, 'key', 'x', 'y', `o0 + ${num(u)}`);
        fire += `    const f${u} = hEl${u} < threshold;\n`;
      }
    }
  }
  const output =
    `function output(h, s, wt, bt${actParam}, key, threshold) {\n${prologue}` +
    `    const o0 = b * 4.0;\n` +
    `    const old = s[y][x][b];\n` +
    U.map((u) => `    let r${u} = old[${u}];\n`).join('') +
    // An idle cell keeps its state (no fire) or is zeroed by the alive pass (dead before).
    ifActive +
    dot4('h', lastLayout.inputs) +
    fire +
    U.map((u) => {
      const value = update(activation(last.activation, `(a${u} + bias[${u}])`), `old[${u}]`);
      return firesImplied ? `    r${u} = ${value};\n` : `    if (f${u}) { r${u} = ${value}; }\n`;
    }).join('') +
    endActive +
    `    return [r0, r1, r2, r3];\n}`;

  const alive =
    `function alive(s, prev) {\n${prologue}` +
    (arch.aliveMode === 'max-pool'
      ? maxAlphaInto('prev', 'before', 1) + maxAlphaInto('s', 'after', 1) + `    const lives = before > ${threshold} && after > ${threshold};\n`
      : `    const own = s[y][x][${Ab}];\n    const lives = own[${Ac}] > ${threshold};\n`) +
    `    const v = s[y][x][b];\n` +
    `    if (lives) { return [v[0], v[1], v[2], v[3]]; }\n` +
    `    return [0.0, 0.0, 0.0, 0.0];\n}`;

  const damage =
    `function damage(s, cx, cy, r) {\n${prologue}` +
    `    const ddx = x + 0.5 - cx;\n    const ddy = y + 0.5 - cy;\n` +
    `    if (ddx * ddx + ddy * ddy < r * r) { return [0.0, 0.0, 0.0, 0.0]; }\n` +
    `    const v = s[y][x][b];\n` +
    `    return [v[0], v[1], v[2], v[3]];\n}`;

  const plant =
    `function plant(s, px, py) {\n${prologue}` +
    `    if (x === px && y === py) {\n` +
    `      return [${U.map((u) => `b * 4.0 + ${num(u)} >= ${num(A)} ? 1.0 : 0.0`).join(', ')}];\n` +
    `    }\n` +
    `    const v = s[y][x][b];\n` +
    `    return [v[0], v[1], v[2], v[3]];\n}`;

  const copy =
    `function copy(s) {\n${prologue}` +
    `    const c = b * 4.0;\n` +
    `    return [s[y][x][c], s[y][x][c + 1.0], s[y][x][c + 2.0], s[y][x][c + 3.0]];\n}`;

  const flatten =
    `function flatten(s) {\n` +
    `    const i = this.thread.x;\n` +
    `    const cell = Math.floor((i + 0.5) / ${num(C)});\n` +
    `    const c = i - cell * ${num(C)};\n` +
    `    const y = Math.floor((cell + 0.5) / ${num(W)});\n` +
    `    const x = cell - y * ${num(W)};\n` +
    `    const b = Math.floor((c + 0.5) / 4.0);\n` +
    `    const u = c - b * 4.0;\n` +
    `    const v = s[y][x][b];\n` +
    `    if (u < 0.5) { return v[0]; }\n` +
    `    if (u < 1.5) { return v[1]; }\n` +
    `    if (u < 2.5) { return v[2]; }\n` +
    `    return v[3];\n}`;

  // The reference's toRgba, straight alpha; colour channels (below alpha, at most 3) sit in block 0.
  const colours = Math.min(3, A);
  const colour = (c: number): string => (c < colours ? `Math.min(Math.max(v0[${c}] / cov, 0.0), 1.0)` : '0.0');
  const render =
    `function render(s) {\n` +
    `    const x = this.thread.x;\n` +
    `    const y = ${num(H - 1)} - this.thread.y;\n` +
    `    const v0 = s[y][x][0.0];\n` +
    `    const va = s[y][x][${Ab}];\n` +
    `    const alpha = va[${Ac}];\n` +
    `    if (alpha > 0.0) {\n` +
    `      const cov = Math.min(alpha, 1.0);\n` +
    `      this.color(${colour(0)}, ${colour(1)}, ${colour(2)}, cov);\n` +
    `    } else {\n` +
    `      this.color(0.0, 0.0, 0.0, 0.0);\n` +
    `    }\n}`;

  const weightLoader =
    `function weights(w) {\n` +
    `    const j = this.thread.x * 4.0;\n    const o = this.thread.y;\n` +
    `    return [w[o][j], w[o][j + 1.0], w[o][j + 2.0], w[o][j + 3.0]];\n}`;
  const biasLoader = `function bias(v) {\n    const i = this.thread.x * 4.0;\n    return [v[i], v[i + 1.0], v[i + 2.0], v[i + 3.0]];\n}`;

  return { perceive, active, hidden, output, alive, damage, plant, copy, flatten, render, weightLoader, biasLoader };
}
