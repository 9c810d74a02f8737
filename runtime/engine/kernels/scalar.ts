/**
 * The scalar formulation: one channel per kernel thread (cpu, webasm, webgpu, and GL for models
 * whose channel count is not a multiple of 4), generated as text (see text.ts).
 *
 * Layout: a buffer of D values per cell is, flattened, `(y * W + x) * D + d`, so the state is
 * exactly the format's HWC order. 'nested' makes it a 3-D kernel output `[D, W, H]` read as
 * `buffer[y][x][d]`: the feature axis d is gpu.js's x axis on purpose, because the webasm backend
 * vectorises four consecutive x threads, which then share one cell, so everything per cell (its
 * perception vector, its fire draw, its alive test) is loaded once and broadcast instead of
 * gathered lane by lane. 'flat' makes it a 1-D output (see KernelOptions.layout).
 */
import type { Architecture, DenseLayer } from '../../format/types.js';
import { activeKernel, aliveKernel, damageKernel, fireLanes, firesImplied, plantKernel, renderKernel, straight, updated, type Grid, type Lanes } from './cell.js';
import type { KernelSet } from './kernel-set.js';
import { activate, num } from './text.js';

/** Largest element count of any buffer: float32 holds every integer below 2^24 exactly. */
export const MAX_BUFFER_ELEMENTS = 2 ** 24;

export interface KernelOptions {
  /** Unroll dot products up to this many terms (0: never). Helps cpu/webasm; GL compiles slower. */
  readonly unrollLimit: number;
  /**
   * Skip the network for cells whose result cannot depend on it (cell.ts, activeKernel). Exact;
   * pays off where branches are real (cpu, webasm).
   */
  readonly skipIdleCells: boolean;
  /** Compute atan in the kernel instead of calling Math.atan (webasm calls out to JS for it). */
  readonly inlineAtan: boolean;
  /**
   * Take the step's fire key as `keys[n]` (an array argument and an index) instead of a number:
   * a webasm pipeline plan freezes plain numbers at trace time, but samples arrays per call.
   */
  readonly keyFromArray: boolean;
  /**
   * 'nested': 3-D outputs `[D, W, H]` read as `b[y][x][d]` (webasm, GL: see the file comment).
   * 'flat': 1-D outputs of W*H*D read as `b[(y*W + x)*D + d]`: the cpu backend indexes a flat
   * typed array directly, where nested arrays cost three dereferences per read.
   */
  readonly layout: 'nested' | 'flat';
}

/**
 * The scalar kernels (see KernelSet). hidden: dense_l(v[, act]) with constants w (transposed,
 * [inputs][outputs]) and b; output(h, s[, act], key, threshold) with constants w, b.
 */
export interface KernelSources extends KernelSet {
  /** rgba(s) -> [W*H*4]: `toRgba` as byte values in floats, top row first (for putImageData). */
  readonly rgba: string;
}

/** The gpu.js `output` of a buffer of `depth` values per cell (depth 1: the active mask). */
export function kernelOutput(layout: KernelOptions['layout'], depth: number, width: number, height: number): number[] {
  if (layout === 'flat') return [width * height * depth];
  return depth === 1 ? [width, height] : [depth, width, height];
}

/** Element count of the largest buffer a step uses. */
export function largestBuffer(arch: Architecture, width: number, height: number): number {
  const widest = Math.max(arch.kernels.length * arch.channels, ...arch.layers.map((l) => l.outputs));
  return width * height * widest;
}

/** Weights transposed to [inputs][outputs], so output unit d reads w[j * O + d]. */
export function transposeWeights(weights: Float32Array, inputs: number, outputs: number): Float32Array {
  const t = new Float32Array(weights.length);
  for (let o = 0; o < outputs; o++) {
    for (let i = 0; i < inputs; i++) t[i * outputs + o] = weights[o * inputs + i]!;
  }
  return t;
}

/** Reads element (y, x, d) of a buffer of `depth` values per cell (see KernelOptions.layout). */
type Accessor = (buffer: string, y: string, x: string, d: string, depth: number) => string;

/** How one layout addresses its buffers and threads. */
interface Layout {
  readonly at: Accessor;
  /** Declares d, x, y of this thread in a buffer of `depth` values per cell. */
  threadOf(depth: number): string;
  /** Declares x, y of a thread of a one-value-per-cell mask. */
  readonly maskThread: string;
}

function layoutOf(layout: KernelOptions['layout'], W: number): Layout {
  if (layout === 'flat') {
    return {
      at: (b, y, x, d, depth) => (depth === 1 ? `${b}[${y} * ${num(W)} + ${x}]` : `${b}[(${y} * ${num(W)} + ${x}) * ${num(depth)} + ${d}]`),
      threadOf: (depth) =>
        `    const i = this.thread.x;\n` +
        `    const cell = Math.floor((i + 0.5) / ${num(depth)});\n` +
        `    const d = i - cell * ${num(depth)};\n` +
        `    const y = Math.floor((cell + 0.5) / ${num(W)});\n` +
        `    const x = cell - y * ${num(W)};\n`,
      maskThread: `    const y = Math.floor((this.thread.x + 0.5) / ${num(W)});\n    const x = this.thread.x - y * ${num(W)};\n`,
    };
  }
  return {
    at: (b, y, x, d, depth) => (depth === 1 ? `${b}[${y}][${x}]` : `${b}[${y}][${x}][${d}]`),
    threadOf: () => `    const d = this.thread.x;\n    const x = this.thread.y;\n    const y = this.thread.z;\n`,
    maskThread: `    const x = this.thread.x;\n    const y = this.thread.y;\n`,
  };
}

/** One channel per thread: lane 0 is channel `d` of the thread's cell. */
function scalarLanes(layout: Layout, C: number): Lanes {
  return {
    prologue: layout.threadOf(C),
    count: 1,
    channel: () => 'd',
    read: (buffer, y, x, channels, name) => channels.map((c) => `    const ${name}${c} = ${layout.at(buffer, y, x, num(c), C)};\n`).join(''),
    write: (value) => `return ${value(0)};`,
    keep: (buffer) => `    return ${layout.at(buffer, 'y', 'x', 'd', C)};\n`,
  };
}

/** `sum += w[j*O + d] * v(y, x, j)` for j < I: unrolled literal offsets, or a constant loop. */
function dotInto(at: Accessor, sum: string, inputs: number, outputs: number, unit: string, vector: string, unrollLimit: number): string {
  if (inputs <= unrollLimit) {
    let s = '';
    for (let j = 0; j < inputs; j++) {
      s += `    ${sum} += this.constants.w[${num(j * outputs)} + ${unit}] * ${at(vector, 'y', 'x', num(j), inputs)};\n`;
    }
    return s;
  }
  return (
    `    for (let j = 0; j < ${inputs}; j++) {\n` +
    `      ${sum} += this.constants.w[j * ${num(outputs)} + ${unit}] * ${at(vector, 'y', 'x', 'j', inputs)};\n` +
    `    }\n`
  );
}

/** perceive(s): the K 3x3 kernels on every channel, zero padding, in the model's perception order. */
function perceiveKernel(arch: Architecture, grid: Grid, layout: Layout): string {
  const C = arch.channels;
  const K = arch.kernels.length;
  const perceptionIndex =
    arch.perceptionOrder === 'channel-major'
      ? `    const c = Math.floor((d + 0.5) / ${num(K)});\n    const k = d - c * ${num(K)};\n`
      : `    const k = Math.floor((d + 0.5) / ${num(C)});\n    const c = d - k * ${num(C)};\n`;
  return (
    `function perceive(s) {\n${layout.threadOf(K * C)}${perceptionIndex}` +
    `    let sum = 0.0;\n` +
    `    for (let dy = 0; dy < 3; dy++) {\n` +
    `      const ny = y + dy - 1.0;\n` +
    `      if (ny >= 0.0 && ny < ${num(grid.height)}) {\n` +
    `        for (let dx = 0; dx < 3; dx++) {\n` +
    `          const nx = x + dx - 1.0;\n` +
    `          if (nx >= 0.0 && nx < ${num(grid.width)}) {\n` +
    `            sum += this.constants.kern[k * 9.0 + dy * 3.0 + dx] * ${layout.at('s', 'ny', 'nx', 'c', C)};\n` +
    `          }\n` +
    `        }\n` +
    `      }\n` +
    `    }\n` +
    `    return sum;\n}`
  );
}

/** The `if` around the network for an active mask (and its end), empty without one. */
function activeBlock(layout: Layout, active: boolean): { open: string; close: string } {
  // NOTE: an if-block, not an early return: webasm's SIMD code runs past a return with the lanes
  // masked off, but takes a real branch on a condition uniform across the quad (one cell).
  return active ? { open: `    if (${layout.at('act', 'y', 'x', '0.0', 1)} > 0.5) {\n`, close: `    }\n` } : { open: '', close: '' };
}

/** dense_l(v[, act]): hidden layer l, activated. */
function denseKernel(layer: DenseLayer, l: number, layout: Layout, options: KernelOptions, active: boolean): string {
  const block = activeBlock(layout, active);
  return (
    `function dense${l}(v${active ? ', act' : ''}) {\n${layout.threadOf(layer.outputs)}` +
    `    let result = 0.0;\n` +
    block.open +
    `    let sum = 0.0;\n` +
    dotInto(layout.at, 'sum', layer.inputs, layer.outputs, 'd', 'v', options.unrollLimit) +
    `    sum = sum + this.constants.b[d];\n` +
    activate(layer.activation, 'sum', options.inlineAtan) +
    `    result = sum;\n` +
    block.close +
    `    return result;\n}`
  );
}

/** output(h, s[, act], key, threshold): the last layer, the fire mask and the update rule. */
function outputKernel(arch: Architecture, layout: Layout, lanes: Lanes, options: KernelOptions, active: boolean, key: { params: string; prelude: string }): string {
  const C = arch.channels;
  const last = arch.layers[arch.layers.length - 1]!;
  const block = activeBlock(layout, active);
  const indent = (text: string): string => text.replace(/^ {4}/gm, '      ');
  const network =
    `      let sum = 0.0;\n` +
    indent(dotInto(layout.at, 'sum', last.inputs, C, 'd', 'h', options.unrollLimit)) +
    `      sum = sum + this.constants.b[d];\n` +
    indent(activate(last.activation, 'sum', options.inlineAtan)) +
    `      result = ${updated(arch, 'sum', 'old')};\n`;
  return (
    `function output(h, s, ${active ? 'act, ' : ''}${key.params}, threshold) {\n${lanes.prologue}${key.prelude}` +
    `    const old = ${layout.at('s', 'y', 'x', 'd', C)};\n` +
    `    let result = old;\n` +
    // An idle cell keeps its state (no fire) or is zeroed by the alive pass (dead before).
    block.open +
    // Per-cell draws were already taken by the active mask when it skips cells that do not fire;
    // otherwise the network runs only where the mask fires.
    (firesImplied(arch, options.skipIdleCells) ? network : `${fireLanes(arch, lanes)}    if (f0) {\n${network}    }\n`) +
    block.close +
    `    return result;\n}`
  );
}

/** flatten(s): the state as one HWC array. */
function flattenKernel(arch: Architecture, grid: Grid, flat: boolean): string {
  const C = arch.channels;
  const W = grid.width;
  return (
    `function flatten(s) {\n` +
    `    const i = this.thread.x;\n` +
    `    const cell = Math.floor((i + 0.5) / ${num(C)});\n` +
    `    const y = Math.floor((cell + 0.5) / ${num(W)});\n` +
    (flat ? `    return s[i];\n}` : `    return s[y][cell - y * ${num(W)}][i - cell * ${num(C)}];\n}`)
  );
}

/** rgba(s): toRgba as byte values, one thread per byte, top row first (for putImageData). */
function rgbaKernel(arch: Architecture, grid: Grid, layout: Layout): string {
  const C = arch.channels;
  const W = grid.width;
  const colours = Math.min(3, arch.alphaChannel);
  const toByte = (unit: string): string => `Math.floor(${unit} * 255.0 + 0.5)`;
  return (
    `function rgba(s) {\n` +
    `    const i = this.thread.x;\n` +
    `    const cell = Math.floor((i + 0.5) / 4.0);\n` +
    `    const d = i - cell * 4.0;\n` +
    `    const y = Math.floor((cell + 0.5) / ${num(W)});\n` +
    `    const x = cell - y * ${num(W)};\n` +
    `    const alpha = ${layout.at('s', 'y', 'x', num(arch.alphaChannel), C)};\n` +
    `    if (!(alpha > 0.0)) { return 0.0; }\n` +
    `    const cov = Math.min(alpha, 1.0);\n` +
    `    if (d > 2.5) { return ${toByte('Math.min(Math.max(cov, 0.0), 1.0)')}; }\n` +
    `    if (d < ${num(colours)} - 0.5) { return ${toByte(straight(layout.at('s', 'y', 'x', 'd', C)))}; }\n` +
    `    return 0.0;\n}`
  );
}

export function kernelSources(arch: Architecture, width: number, height: number, options: KernelOptions): KernelSources {
  if (arch.layers.length === 0) throw new RangeError('architecture has no layers');
  const grid: Grid = { width, height };
  const layout = layoutOf(options.layout, width);
  const lanes = scalarLanes(layout, arch.channels);
  const key = options.keyFromArray ? { params: 'keys, n', prelude: `    const key = keys[n];\n` } : { params: 'key', prelude: '' };
  const active = activeKernel(arch, grid, lanes, { skipIdleCells: options.skipIdleCells, keyParams: key.params, keyPrelude: key.prelude, maskThread: layout.maskThread });
  const hasActive = active !== undefined;
  return {
    perceive: perceiveKernel(arch, grid, layout),
    active,
    hidden: arch.layers.slice(0, -1).map((layer, l) => denseKernel(layer, l, layout, options, hasActive)),
    output: outputKernel(arch, layout, lanes, options, hasActive, key),
    alive: aliveKernel(arch, grid, lanes),
    damage: damageKernel(lanes),
    plant: plantKernel(arch, lanes),
    copy: `function copy(s) {\n${lanes.prologue}${lanes.keep('s')}}`,
    flatten: flattenKernel(arch, grid, options.layout === 'flat'),
    render: renderKernel(arch, grid, lanes),
    rgba: rgbaKernel(arch, grid, layout),
  };
}
