/**
 * gpu.js kernel sources for one model on one grid, generated as text.
 *
 * Why text rather than JS functions: every size (grid, channels, layer widths) is baked in as a
 * literal, so every loop has a constant bound (gpu.js silently cuts variable bounds at
 * `loopMaxIterations`), short dot products can be unrolled, and a minifier (the self-contained
 * bundle is terser-ed) never renames anything gpu.js has to parse.
 *
 * Layout: a buffer of D values per cell is, flattened, `(y * W + x) * D + d`, so the state is
 * exactly the format's HWC order. 'nested' makes it a 3-D kernel output `[D, W, H]` read as
 * `buffer[y][x][d]`: the feature axis d is gpu.js's x axis on purpose, because the webasm backend
 * vectorises four consecutive x threads, which then share one cell, so everything per cell (its
 * perception vector, its fire draw, its alive test) is loaded once and broadcast instead of
 * gathered lane by lane. 'flat' makes it a 1-D output (see KernelOptions.layout).
 */
import type { Activation, Architecture } from '../format/types.js';

/** The fire-mask hash's modulus (docs/format.md, NCA-Hash-4091). */
const P = 4091;

/** Largest element count of any buffer: float32 holds every integer below 2^24 exactly. */
export const MAX_BUFFER_ELEMENTS = 2 ** 24;

export interface KernelOptions {
  /** Unroll dot products up to this many terms (0: never). Helps cpu/webasm; GL compiles slower. */
  readonly unrollLimit: number;
  /**
   * Skip the network for cells whose result cannot depend on it: per-cell fire masks that do not
   * fire (the state is kept) and, under max-pool, cells with no alpha above the threshold within
   * two cells before the step. Such a cell dies whatever the network says, and so does every
   * neighbour (none is alive before), so its new alpha, which enters the neighbours' "after" max,
   * does not matter either; one cell nearer and it would. Exact; pays off where branches are
   * real (cpu, webasm).
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

export interface KernelSources {
  /** perceive(s) -> [K*C, W, H]. Constants: kern (K*9, rotated). */
  readonly perceive: string;
  /**
   * active(s, key, threshold) -> [W, H]: 1 where a cell needs the network, 0 where its result
   * cannot depend on it (see KernelOptions.skipIdleCells); undefined when nothing can be skipped.
   * The kernels below then take `act` after their data arguments.
   */
  readonly active: string | undefined;
  /**
   * One per layer except the last: dense_l(v[, act]) -> [outputs, W, H].
   * Constants: w (transposed, [inputs][outputs]), b.
   */
  readonly hidden: readonly string[];
  /**
   * output(h, s[, act], key, threshold) -> [C, W, H]: the last layer, the fire mask and the
   * update. Constants: w (transposed), b.
   */
  readonly output: string;
  /** alive(updated, previous) -> [C, W, H]: the alive mask of either mode. */
  readonly alive: string;
  /** damage(s, cx, cy, r) -> [C, W, H]: the reference's damageDisc. */
  readonly damage: string;
  /** plant(s, px, py) -> [C, W, H]: the reference's plantSeed at integer (px, py). */
  readonly plant: string;
  /** copy(s) -> [C, W, H]: brings an uploaded array onto the device. */
  readonly copy: string;
  /** flatten(s) -> [W*H*C]: the state as one HWC array (webasm pipelines end with it). */
  readonly flatten: string;
  /** Graphical render(s) on [W, H]: pixel (x, y) from the bottom shows cell (x, H-1-y). */
  readonly render: string;
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

export function num(v: number): string {
  if (!Number.isFinite(v)) throw new RangeError(`cannot bake ${v} into a kernel`);
  // Always a float literal: GLSL must not see an int where it does float arithmetic.
  const s = String(v);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

export function activation(act: Activation, v: string): string {
  switch (act) {
    case 'identity':
      return v;
    case 'relu':
      return `Math.max(${v}, 0.0)`;
    case 'sigmoid':
      return `1.0 / (1.0 + Math.exp(-${v}))`;
    case 'tanh':
      return `Math.tanh(${v})`;
    case 'atan':
      return `Math.atan(${v})`;
  }
}

/**
 * Statements replacing `v` by act(v). With `inlineAtan`, atan is Cephes' atanf (range reduction
 * to |x| <= tan(pi/8), then a degree-9 odd polynomial; relative error about 2e-7, float32's own
 * rounding): on webasm `Math.atan` is a call out to JavaScript per element, which costs more than
 * the whole dot product in front of it.
 */
function activate(act: Activation, v: string, inlineAtan: boolean): string {
  if (act !== 'atan' || !inlineAtan) return `    ${v} = ${activation(act, v)};\n`;
  return (
    `    const atA = Math.abs(${v});\n` +
    `    const atBase = atA > 2.414213562373095 ? 1.5707963267948966 : (atA > 0.41421356237309503 ? 0.7853981633974483 : 0.0);\n` +
    `    const atX = atA > 2.414213562373095 ? -1.0 / atA : (atA > 0.41421356237309503 ? (atA - 1.0) / (atA + 1.0) : atA);\n` +
    `    const atZ = atX * atX;\n` +
    `    const atR = (((0.0805374449538 * atZ - 0.138776856032) * atZ + 0.199777106478) * atZ - 0.333329491539) * atZ * atX + atX + atBase;\n` +
    `    ${v} = ${v} < 0.0 ? -atR : atR;\n`
  );
}

/** Statements setting `out` to `t mod P` for 0 <= t < 2^24 (floor, then one correction). */
function modInto(out: string, t: string): string {
  return (
    `    hM = ${t};\n` +
    `    ${out} = hM - ${num(P)} * Math.floor(hM / ${num(P)});\n` +
    `    if (${out} < 0.0) { ${out} = ${out} + ${num(P)}; }\n` +
    `    if (${out} >= ${num(P)}) { ${out} = ${out} - ${num(P)}; }\n`
  );
}

/** Statements for `v = mix(v, k, a, b)` of NCA-Hash-4091, using scratch `hM`, `hT`, `hU`. */
function mixInto(v: string, k: string, a: number, b: number): string {
  return modInto('hT', `${v} + ${k}`) + modInto('hU', 'hT * hT') + modInto('hU', 'hU * hT') + modInto(v, `${num(a)} * hU + ${num(b)}`);
}

export const HASH_SCRATCH = `    let hM = 0.0;\n    let hT = 0.0;\n    let hU = 0.0;\n`;

/** Statements leaving in `into` the reference's fireHash(key, x, y, c) (needs HASH_SCRATCH). */
export function fireHashInto(into: string, key: string, x: string, y: string, c: string): string {
  return (
    `    let ${into} = ${key};\n` +
    mixInto(into, x, 1597, 31) +
    mixInto(into, y, 2663, 1013) +
    mixInto(into, c, 3571, 577) +
    mixInto(into, '0.0', 997, 2111)
  );
}

/** Reads element (y, x, d) of a buffer of `depth` values per cell (see KernelOptions.layout). */
type Accessor = (buffer: string, y: string, x: string, d: string, depth: number) => string;

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

export function kernelSources(arch: Architecture, width: number, height: number, options: KernelOptions): KernelSources {
  const C = arch.channels;
  const K = arch.kernels.length;
  const W = width;
  const H = height;
  const A = arch.alphaChannel;
  const threshold = num(arch.aliveThreshold);
  const layers = arch.layers;
  const last = layers[layers.length - 1];
  if (last === undefined) throw new RangeError('architecture has no layers');
  const keyParams = options.keyFromArray ? 'keys, n' : 'key';
  const keyPrelude = options.keyFromArray ? `    const key = keys[n];\n` : '';
  const flat = options.layout === 'flat';
  const at: Accessor = flat
    ? (b, y, x, d, depth) => (depth === 1 ? `${b}[${y} * ${num(W)} + ${x}]` : `${b}[(${y} * ${num(W)} + ${x}) * ${num(depth)} + ${d}]`)
    : (b, y, x, d, depth) => (depth === 1 ? `${b}[${y}][${x}]` : `${b}[${y}][${x}][${d}]`);
  /** Declares d, x, y of this thread in a buffer of `depth` values per cell. */
  const threadOf = (depth: number): string =>
    flat
      ? `    const i = this.thread.x;\n` +
        `    const cell = Math.floor((i + 0.5) / ${num(depth)});\n` +
        `    const d = i - cell * ${num(depth)};\n` +
        `    const y = Math.floor((cell + 0.5) / ${num(W)});\n` +
        `    const x = cell - y * ${num(W)};\n`
      : `    const d = this.thread.x;\n    const x = this.thread.y;\n    const y = this.thread.z;\n`;
  const prologue = threadOf(C);

  // 3x3 max of the alpha channel with zero padding (the reference's neighbourhoodMaxAlpha).
  const maxAlphaInto = (buffer: string, into: string, radius = 1): string =>
    `    let ${into} = -3.0e38;\n` +
    `    for (let dy = 0; dy < ${2 * radius + 1}; dy++) {\n` +
    `      for (let dx = 0; dx < ${2 * radius + 1}; dx++) {\n` +
    `        const ny = y + dy - ${num(radius)};\n` +
    `        const nx = x + dx - ${num(radius)};\n` +
    `        if (ny >= 0.0 && ny < ${num(H)} && nx >= 0.0 && nx < ${num(W)}) {\n` +
    `          ${into} = Math.max(${into}, ${at(buffer, 'ny', 'nx', num(A), C)});\n` +
    `        } else {\n` +
    `          ${into} = Math.max(${into}, 0.0);\n` +
    `        }\n` +
    `      }\n` +
    `    }\n`;

  // Which cells need the network at all (KernelOptions.skipIdleCells), decided once per cell.
  const idleTests: string[] = [];
  if (options.skipIdleCells && arch.fireGranularity === 'cell') idleTests.push('hCell >= threshold');
  if (options.skipIdleCells && arch.aliveMode === 'max-pool') idleTests.push(`!(near > ${threshold})`);
  const activeSource =
    idleTests.length > 0
      ? `function active(s, ${keyParams}, threshold) {\n` +
        (flat
          ? `    const y = Math.floor((this.thread.x + 0.5) / ${num(W)});\n    const x = this.thread.x - y * ${num(W)};\n`
          : `    const x = this.thread.x;\n    const y = this.thread.y;\n`) +
        keyPrelude +
        (arch.fireGranularity === 'cell' && options.skipIdleCells ? HASH_SCRATCH + fireHashInto('hCell', 'key', 'x', 'y', '0.0') : '') +
        (arch.aliveMode === 'max-pool' && options.skipIdleCells ? maxAlphaInto('s', 'near', 2) : '') +
        `    if (${idleTests.join(' || ')}) { return 0.0; }\n` +
        `    return 1.0;\n}`
      : undefined;
  // NOTE: an if-block, not an early return: webasm's SIMD code runs past a return with the lanes
  // masked off, but takes a real branch on a condition uniform across the quad (one cell).
  const ifActive = activeSource ? `    if (${at('act', 'y', 'x', '0.0', 1)} > 0.5) {\n` : '';
  const endActive = activeSource ? `    }\n` : '';

  const perceptionIndex =
    arch.perceptionOrder === 'channel-major'
      ? `    const c = Math.floor((d + 0.5) / ${num(K)});\n    const k = d - c * ${num(K)};\n`
      : `    const k = Math.floor((d + 0.5) / ${num(C)});\n    const c = d - k * ${num(C)};\n`;
  const perceiveSource =
    `function perceive(s) {\n${threadOf(K * C)}${perceptionIndex}` +
    `    let sum = 0.0;\n` +
    `    for (let dy = 0; dy < 3; dy++) {\n` +
    `      const ny = y + dy - 1.0;\n` +
    `      if (ny >= 0.0 && ny < ${num(H)}) {\n` +
    `        for (let dx = 0; dx < 3; dx++) {\n` +
    `          const nx = x + dx - 1.0;\n` +
    `          if (nx >= 0.0 && nx < ${num(W)}) {\n` +
    `            sum += this.constants.kern[k * 9.0 + dy * 3.0 + dx] * ${at('s', 'ny', 'nx', 'c', C)};\n` +
    `          }\n` +
    `        }\n` +
    `      }\n` +
    `    }\n` +
    `    return sum;\n}`;

  const hidden = layers.slice(0, -1).map(
    (layer, l) =>
      `function dense${l}(v${activeSource ? ', act' : ''}) {\n${threadOf(layer.outputs)}` +
      `    let result = 0.0;\n` +
      ifActive +
      `    let sum = 0.0;\n` +
      dotInto(at, 'sum', layer.inputs, layer.outputs, 'd', 'v', options.unrollLimit) +
      `    sum = sum + this.constants.b[d];\n` +
      activate(layer.activation, 'sum', options.inlineAtan) +
      `    result = sum;\n` +
      endActive +
      `    return result;\n}`,
  );

  const I = last.inputs;
  const firesImplied = options.skipIdleCells && arch.fireGranularity === 'cell';
  const update = (o: string, old: string): string => (arch.update === 'replace' ? o : `${old} + ${o}`);
  const outputDot =
    `      let sum = 0.0;\n` +
    dotInto(at, 'sum', I, C, 'd', 'h', options.unrollLimit).replace(/^ {4}/gm, '      ') +
    `      sum = sum + this.constants.b[d];\n` +
    activate(last.activation, 'sum', options.inlineAtan).replace(/^ {4}/gm, '      ') +
    `      result = ${update('sum', 'old')};\n`;
  const outputSource =
    `function output(h, s, ${activeSource ? 'act, ' : ''}${keyParams}, threshold) {\n${prologue}${keyPrelude}` +
    `    const old = ${at('s', 'y', 'x', 'd', C)};\n` +
    `    let result = old;\n` +
    // An idle cell keeps its state (no fire) or is zeroed by the alive pass (dead before).
    ifActive +
    // Per-cell draws were already taken by the active mask when it skips cells that do not fire.
    (firesImplied
      ? outputDot
      : HASH_SCRATCH +
        fireHashInto('hFire', 'key', 'x', 'y', arch.fireGranularity === 'cell' ? '0.0' : 'd') +
        `    if (hFire < threshold) {\n${outputDot}    }\n`) +
    endActive +
    `    return result;\n}`;

  const aliveSource =
    arch.aliveMode === 'max-pool'
      ? `function alive(s, prev) {\n${prologue}` +
        maxAlphaInto('prev', 'before') +
        maxAlphaInto('s', 'after') +
        `    if (before > ${threshold} && after > ${threshold}) { return ${at('s', 'y', 'x', 'd', C)}; }\n` +
        `    return 0.0;\n}`
      : `function alive(s, prev) {\n${prologue}` +
        `    if (${at('s', 'y', 'x', num(A), C)} > ${threshold}) { return ${at('s', 'y', 'x', 'd', C)}; }\n` +
        `    return 0.0;\n}`;

  // The reference's damageDisc: cleared iff the cell's centre is strictly inside the disc.
  const damageSource =
    `function damage(s, cx, cy, r) {\n${prologue}` +
    `    const ddx = x + 0.5 - cx;\n    const ddy = y + 0.5 - cy;\n` +
    `    if (ddx * ddx + ddy * ddy < r * r) { return 0.0; }\n` +
    `    return ${at('s', 'y', 'x', 'd', C)};\n}`;

  // The reference's plantSeed: channels below alpha become 0, alpha and above 1.
  const plantSource =
    `function plant(s, px, py) {\n${prologue}` +
    `    if (x === px && y === py) {\n` +
    `      if (d >= ${num(A)}) { return 1.0; }\n` +
    `      return 0.0;\n` +
    `    }\n` +
    `    return ${at('s', 'y', 'x', 'd', C)};\n}`;

  const copySource = `function copy(s) {\n${prologue}    return ${at('s', 'y', 'x', 'd', C)};\n}`;

  const flattenSource =
    `function flatten(s) {\n` +
    `    const i = this.thread.x;\n` +
    `    const cell = Math.floor((i + 0.5) / ${num(C)});\n` +
    `    const y = Math.floor((cell + 0.5) / ${num(W)});\n` +
    (flat ? `    return s[i];\n}` : `    return s[y][cell - y * ${num(W)}][i - cell * ${num(C)}];\n}`);

  // The reference's toRgba, straight alpha: colour = clamp(channel / clamp(alpha), 0, 1); a
  // dead cell (alpha <= 0) is transparent black. A canvas is addressed bottom-up, hence H-1-y.
  const colours = Math.min(3, A);
  const colour = (c: number): string => (c < colours ? `Math.min(Math.max(${at('s', 'y', 'x', num(c), C)} / cov, 0.0), 1.0)` : '0.0');
  const renderSource =
    `function render(s) {\n` +
    `    const x = this.thread.x;\n` +
    `    const y = ${num(H - 1)} - this.thread.y;\n` +
    `    const alpha = ${at('s', 'y', 'x', num(A), C)};\n` +
    `    if (alpha > 0.0) {\n` +
    `      const cov = Math.min(alpha, 1.0);\n` +
    `      this.color(${colour(0)}, ${colour(1)}, ${colour(2)}, cov);\n` +
    `    } else {\n` +
    `      this.color(0.0, 0.0, 0.0, 0.0);\n` +
    `    }\n}`;

  const byteOf = (v: string): string => `Math.floor(Math.min(Math.max(${v}, 0.0), 1.0) * 255.0 + 0.5)`;
  const rgbaSource =
    `function rgba(s) {\n` +
    `    const i = this.thread.x;\n` +
    `    const cell = Math.floor((i + 0.5) / 4.0);\n` +
    `    const d = i - cell * 4.0;\n` +
    `    const y = Math.floor((cell + 0.5) / ${num(W)});\n` +
    `    const x = cell - y * ${num(W)};\n` +
    `    const alpha = ${at('s', 'y', 'x', num(A), C)};\n` +
    `    if (!(alpha > 0.0)) { return 0.0; }\n` +
    `    const cov = Math.min(alpha, 1.0);\n` +
    `    if (d > 2.5) { return ${byteOf('cov')}; }\n` +
    `    if (d < ${num(colours)} - 0.5) { return ${byteOf(`${at('s', 'y', 'x', 'd', C)} / cov`)}; }\n` +
    `    return 0.0;\n}`;

  return {
    perceive: perceiveSource,
    active: activeSource,
    hidden,
    output: outputSource,
    alive: aliveSource,
    damage: damageSource,
    plant: plantSource,
    copy: copySource,
    flatten: flattenSource,
    render: renderSource,
    rgba: rgbaSource,
  };
}
