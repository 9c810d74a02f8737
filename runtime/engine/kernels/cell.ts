/**
 * The cell-local pieces of a step, written once for every formulation, each as the reference
 * defines it: the alpha max over a neighbourhood, the idle/active test, the fire mask and the
 * update rule, the alive mask, damage, plant and toRgba's straight-alpha colours.
 *
 * A formulation says how its kernel thread reads and writes the state (`Lanes`): one channel
 * per thread in the scalar layouts (kernels/scalar.ts), four (one RGBA texel) in the GL one
 * (kernels/vec4.ts). Everything else here is the same text for both.
 */
import type { Architecture } from '../../format/types.js';
import { fireHashInto, HASH_SCRATCH, num } from './text.js';

export interface Grid {
  readonly width: number;
  readonly height: number;
}

export interface Lanes {
  /** Statements declaring the thread's cell `x`, `y` and what `channel` needs (`d`, `b`). */
  readonly prologue: string;
  /** How many channels one thread writes. */
  readonly count: number;
  /** The channel index of the thread's lane u, as an expression. */
  channel(u: number): string;
  /** Statements declaring `${name}${c}`: channel c of cell (y, x) of state `buffer`, for each c. */
  read(buffer: string, y: string, x: string, channels: readonly number[], name: string): string;
  /** A return statement of the thread's lanes, lane u's value being `value(u)`. */
  write(value: (u: number) => string): string;
  /** Statements returning the thread's lanes of `buffer` at its own cell unchanged. */
  keep(buffer: string): string;
}

/** Every lane index of a thread. */
function lanesOf(lanes: Lanes): number[] {
  return Array.from({ length: lanes.count }, (_, u) => u);
}

/** Statements leaving in `into` the max of alpha over the (2r+1)^2 cells around (x, y), zero padded. */
export function maxAlphaInto(arch: Architecture, grid: Grid, lanes: Lanes, buffer: string, into: string, radius: number): string {
  const A = arch.alphaChannel;
  return (
    `    let ${into} = -3.0e38;\n` +
    `    for (let dy = 0; dy < ${2 * radius + 1}; dy++) {\n` +
    `      for (let dx = 0; dx < ${2 * radius + 1}; dx++) {\n` +
    `        const ny = y + dy - ${num(radius)};\n` +
    `        const nx = x + dx - ${num(radius)};\n` +
    `        if (ny >= 0.0 && ny < ${num(grid.height)} && nx >= 0.0 && nx < ${num(grid.width)}) {\n` +
    lanes.read(buffer, 'ny', 'nx', [A], 'av') +
    `          ${into} = Math.max(${into}, av${A});\n` +
    `        } else {\n` +
    `          ${into} = Math.max(${into}, 0.0);\n` +
    `        }\n` +
    `      }\n` +
    `    }\n`
  );
}

export interface ActiveOptions {
  readonly skipIdleCells: boolean;
  /** The fire key's parameters (`key`, or `keys, n` for webasm pipelines) and the statements reading it. */
  readonly keyParams: string;
  readonly keyPrelude: string;
  /** Statements declaring `x`, `y` of a thread of the per-cell mask. */
  readonly maskThread: string;
}

/**
 * active(s, key, threshold): 1 where a cell needs the network, 0 where its result cannot depend
 * on it: a per-cell fire mask that does not fire (the state is kept) and, under max-pool, no
 * alpha above the threshold within two cells (the cell dies, and so does every neighbour, so even
 * its new alpha, which enters the neighbours' "after" max, cannot matter; one cell nearer and it
 * would). Undefined when nothing can be skipped.
 */
export function activeKernel(arch: Architecture, grid: Grid, lanes: Lanes, options: ActiveOptions): string | undefined {
  const cellFire = options.skipIdleCells && arch.fireGranularity === 'cell';
  const maxPool = options.skipIdleCells && arch.aliveMode === 'max-pool';
  const idle: string[] = [];
  if (cellFire) idle.push('hCell >= threshold');
  if (maxPool) idle.push(`!(near > ${num(arch.aliveThreshold)})`);
  if (idle.length === 0) return undefined;
  return (
    `function active(s, ${options.keyParams}, threshold) {\n` +
    options.maskThread +
    options.keyPrelude +
    (cellFire ? HASH_SCRATCH + fireHashInto('hCell', 'key', 'x', 'y', '0.0') : '') +
    (maxPool ? maxAlphaInto(arch, grid, lanes, 's', 'near', 2) : '') +
    `    if (${idle.join(' || ')}) { return 0.0; }\n` +
    `    return 1.0;\n}`
  );
}

/** True when the active mask has already taken every fire draw (per-cell draws, idle cells skipped). */
export function firesImplied(arch: Architecture, skipIdleCells: boolean): boolean {
  return skipIdleCells && arch.fireGranularity === 'cell';
}

/** Statements declaring `f${u}` for each lane: whether the fire mask lets it update (needs `key`, `threshold`). */
export function fireLanes(arch: Architecture, lanes: Lanes): string {
  let s = HASH_SCRATCH;
  if (arch.fireGranularity === 'cell') {
    s += fireHashInto('hCell', 'key', 'x', 'y', '0.0');
    for (const u of lanesOf(lanes)) s += `    const f${u} = hCell < threshold;\n`;
  } else {
    for (const u of lanesOf(lanes)) s += fireHashInto(`hEl${u}`, 'key', 'x', 'y', lanes.channel(u)) + `    const f${u} = hEl${u} < threshold;\n`;
  }
  return s;
}

/** The update rule: a channel's new value from the network's output `o` and its value `old`. */
export function updated(arch: Architecture, o: string, old: string): string {
  return arch.update === 'replace' ? o : `${old} + ${o}`;
}

/** alive(updated, previous): the alive mask of either mode applied to the updated state. */
export function aliveKernel(arch: Architecture, grid: Grid, lanes: Lanes): string {
  const A = arch.alphaChannel;
  const threshold = num(arch.aliveThreshold);
  const lives =
    arch.aliveMode === 'max-pool'
      ? maxAlphaInto(arch, grid, lanes, 'prev', 'before', 1) + maxAlphaInto(arch, grid, lanes, 's', 'after', 1) + `    const lives = before > ${threshold} && after > ${threshold};\n`
      : lanes.read('s', 'y', 'x', [A], 'own') + `    const lives = own${A} > ${threshold};\n`;
  return `function alive(s, prev) {\n${lanes.prologue}${lives}    if (lives) {\n${lanes.keep('s')}    }\n    ${lanes.write(() => '0.0')}\n}`;
}

/** damage(s, cx, cy, r): the reference's damageDisc, a cell cleared iff its centre is strictly inside. */
export function damageKernel(lanes: Lanes): string {
  return (
    `function damage(s, cx, cy, r) {\n${lanes.prologue}` +
    `    const ddx = x + 0.5 - cx;\n    const ddy = y + 0.5 - cy;\n` +
    `    if (ddx * ddx + ddy * ddy < r * r) { ${lanes.write(() => '0.0')} }\n` +
    `${lanes.keep('s')}}`
  );
}

/** plant(s, px, py): the reference's plantSeed at integer (px, py): below alpha 0, alpha and above 1. */
export function plantKernel(arch: Architecture, lanes: Lanes): string {
  const A = num(arch.alphaChannel);
  return (
    `function plant(s, px, py) {\n${lanes.prologue}` +
    `    if (x === px && y === py) { ${lanes.write((u) => `${lanes.channel(u)} >= ${A} ? 1.0 : 0.0`)} }\n` +
    `${lanes.keep('s')}}`
  );
}

/** The colour channels toRgba shows: those below alpha, at most three. */
export function colourChannels(arch: Architecture): number[] {
  return Array.from({ length: Math.min(3, arch.alphaChannel) }, (_, c) => c);
}

/** toRgba's straight colour of a channel value, with `cov` = min(alpha, 1) in scope. */
export function straight(v: string): string {
  return `Math.min(Math.max(${v} / cov, 0.0), 1.0)`;
}

/**
 * Graphical render(s) on [W, H]: the reference's toRgba, straight alpha (a dead cell, alpha <= 0,
 * is transparent black). A canvas is addressed bottom-up, so pixel (x, y) shows cell (x, H-1-y).
 */
export function renderKernel(arch: Architecture, grid: Grid, lanes: Lanes): string {
  const A = arch.alphaChannel;
  const colours = colourChannels(arch);
  const colour = (c: number): string => (c < colours.length ? straight(`c${c}`) : '0.0');
  return (
    `function render(s) {\n` +
    `    const x = this.thread.x;\n` +
    `    const y = ${num(grid.height - 1)} - this.thread.y;\n` +
    lanes.read('s', 'y', 'x', [A], 'a') +
    `    if (a${A} > 0.0) {\n` +
    `      const cov = Math.min(a${A}, 1.0);\n` +
    lanes.read('s', 'y', 'x', colours, 'c') +
    `      this.color(${colour(0)}, ${colour(1)}, ${colour(2)}, cov);\n` +
    `    } else {\n` +
    `      this.color(0.0, 0.0, 0.0, 0.0);\n` +
    `    }\n}`
  );
}
