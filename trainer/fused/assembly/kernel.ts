// The fused training step of a two-layer NCA, in AssemblyScript compiled to WebAssembly with
// SIMD128 (see ../README.md for why it exists and how it is built). One call runs a whole step
// of the rollout over every cell of this worker's samples, forward or backward, in one pass per
// cell: perception -> dense -> activation -> dense -> activation -> update -> alive mask, with
// the fire mask drawn from a counter-based hash in place. Nothing is allocated here: the host
// (fused/engine.ts) lays out every buffer in this module's memory and passes the offsets.
//
// Semantics are those of trainer/model/step.ts (the tfjs oracle), which docs/format.md defines; the
// layout differs in one way: the perception is kernel-major here (p[k*C + c], so four channels
// are one SIMD vector) and the host permutes the first layer's rows accordingly.

// ---- configuration (set by configure / setLayout) ----
let C: i32 = 16; // channels, a multiple of 16
let P: i32 = 48; // perception values per cell (kernels x channels)
let HID: i32 = 64; // hidden units, a multiple of 16
let ALPHA: i32 = 3; // alpha channel
let WIDTH: i32 = 1;
let HEIGHT: i32 = 1;
let N: i32 = 1; // cells in this engine's samples
let HIDDEN_ATAN: bool = true; // else relu
let OUT_SIGMOID: bool = true; // else identity
let REPLACE: bool = true; // else residual
let PER_CELL_FIRE: bool = false; // else one draw per channel
let MAX_POOL: bool = false; // else own alpha
let RAMP: bool = false; // the ramp surrogate gradient of own-alpha masks
let THRESHOLD: f32 = 0.1;
let FIRE_BELOW: u32 = 0; // fire when (hash >> 8) < FIRE_BELOW (a 24-bit rate)
let TAPS: i32 = 0; // non-zero perception taps

// ---- memory layout (byte offsets) ----
let tapPtr: usize = 0; // TAPS x {i32 k, i32 pos, i32 unused, f32 w}, sorted by k; pos = (dy+1)*3 + dx+1
let w0Ptr: usize = 0; // [P, HID]
let w0tPtr: usize = 0; // [HID, P]
let b0Ptr: usize = 0; // [HID]
let w1Ptr: usize = 0; // [HID, C]
let w1tPtr: usize = 0; // [C, HID]
let b1Ptr: usize = 0; // [C]
let gw0Ptr: usize = 0;
let gb0Ptr: usize = 0;
let gw1Ptr: usize = 0;
let gb1Ptr: usize = 0;
let statesPtr: usize = 0; // (steps + 1) x [N, C]
let hiddenPtr: usize = 0; // steps x [N, HID]: the hidden layer's output
let slopePtr: usize = 0; // steps x [N, HID]: atan'(z) (atan only)
let outPtr: usize = 0; // steps x [N, C]: the network's output
let ranPtr: usize = 0; // steps x [N] u8: the network ran on the cell
let alivePtr: usize = 0; // steps x [N] u8: alive after the step (and before, for max-pool)
let dpPtr: usize = 0; // [N, P] scratch: dL/d perception
let scratchPtr: usize = 0; // per-cell scratch (see below)
let constPtr: usize = 0; // own alpha: the output of an all-zero perception: h0 [HID], slope0 [HID], y0 [C]
let occupiedPtr: usize = 0; // [N] u8 scratch: some channel of the cell is non-zero (or NaN)
let listPtr: usize = 0; // [N] i32 scratch: the cells the network runs on
// The tail of the scratch (see setRecords):
let zeroRowPtr: usize = 0; // P zero floats: what a neighbour outside the grid reads
let nbPtr: usize = 0; // 9 x i32: the 3x3 neighbourhood of a border cell (see neighbours)
let interiorStatePtr: usize = 0; // 9 x i32: the neighbourhood of an interior cell, rows of C floats
let interiorDpPtr: usize = 0; // 9 x i32: the same for rows of P floats
let pairPtr: usize = 0; // HID floats: the second cell's dL/dz1 when the backward pass pairs cells

/** `ran` flags: the network ran on the cell's own perception, or the cell saw only zeros. */
const RAN_OWN: u8 = 1;
const RAN_CONSTANT: u8 = 2;

const TILE: i32 = 8; // rows per weight-gradient flush

/**
 * c + a b. Built with relaxed SIMD (build-kernel.ts's second binary), one fused multiply-add
 * where the CPU has one (x86 FMA3, Arm): the dense layers' inner loops are these, and the
 * plain SIMD128 build spends two instructions on each. relaxed_madd may or may not round once,
 * by the host's choice: sums differ in their last bits from the plain build, within the
 * tolerances by which the fused engine is tested equal to the tfjs step.
 */
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

export function configure(
  channels: i32,
  perception: i32,
  hidden: i32,
  alpha: i32,
  width: i32,
  height: i32,
  cells: i32,
  hiddenAtan: bool,
  outSigmoid: bool,
  replace: bool,
  perCellFire: bool,
  maxPool: bool,
  ramp: bool,
  threshold: f32,
  fireBelow: u32,
  taps: i32,
): void {
  C = channels;
  P = perception;
  HID = hidden;
  ALPHA = alpha;
  WIDTH = width;
  HEIGHT = height;
  N = cells;
  HIDDEN_ATAN = hiddenAtan;
  OUT_SIGMOID = outSigmoid;
  REPLACE = replace;
  PER_CELL_FIRE = perCellFire;
  MAX_POOL = maxPool;
  RAMP = ramp;
  THRESHOLD = threshold;
  FIRE_BELOW = fireBelow;
  TAPS = taps;
}

export function setWeights(taps: usize, w0: usize, w0t: usize, b0: usize, w1: usize, w1t: usize, b1: usize, gw0: usize, gb0: usize, gw1: usize, gb1: usize): void {
  tapPtr = taps;
  w0Ptr = w0;
  w0tPtr = w0t;
  b0Ptr = b0;
  w1Ptr = w1;
  w1tPtr = w1t;
  b1Ptr = b1;
  gw0Ptr = gw0;
  gb0Ptr = gb0;
  gw1Ptr = gw1;
  gb1Ptr = gb1;
}

export function setRecords(states: usize, hiddenOut: usize, slope: usize, out: usize, ran: usize, alive: usize, dp: usize, scratch: usize): void {
  statesPtr = states;
  hiddenPtr = hiddenOut;
  slopePtr = slope;
  outPtr = out;
  ranPtr = ran;
  alivePtr = alive;
  dpPtr = dp;
  scratchPtr = scratch;
  zeroRowPtr = scratch + (<usize>scratchHead(C, P, HID) << 2);
  nbPtr = zeroRowPtr + (<usize>P << 2);
  interiorStatePtr = nbPtr + 36;
  interiorDpPtr = interiorStatePtr + 36;
  pairPtr = nbPtr + 112;
  for (let i = 0; i < 9; i++) {
    const offset = (i / 3 - 1) * WIDTH + i % 3 - 1;
    store<i32>(interiorStatePtr + (<usize>i << 2), offset * C * 4);
    store<i32>(interiorDpPtr + (<usize>i << 2), offset * P * 4);
  }
  // The layout may reuse memory an earlier layout wrote: the zero row is cleared here, once.
  memory.fill(zeroRowPtr, 0, <usize>P << 2);
}

export function setConstant(constant: usize, occupied: usize, list: usize): void {
  constPtr = constant;
  occupiedPtr = occupied;
  listPtr = list;
}

/**
 * The network's output for an all-zero perception (own-alpha models: every cell whose 3x3
 * neighbourhood is empty outputs it), computed once per rollout after the weights are loaded.
 */
export function prepareConstant(): void {
  const h = constPtr;
  const d = h + (<usize>HID << 2);
  const y = d + (<usize>HID << 2);
  // A zero perception leaves the first layer its bias.
  memory.copy(h, b0Ptr, <usize>HID << 2);
  activateHidden(h, d);
  denseRow(h, HID, w1Ptr, C, b1Ptr, y);
  activateOutput(y);
}

/** Bytes of per-cell scratch the host must reserve at `scratch`. */
export function scratchBytes(channels: i32, perception: i32, hidden: i32): i32 {
  // The head (per-step buffers, see forwardStep and backwardStep), then the tail: the zero row,
  // three neighbour tables (28 words with padding: the pair row stays 16-byte aligned) and the
  // pair row.
  return 4 * (scratchHead(channels, perception, hidden) + perception + 28 + hidden);
}


export function heapBase(): usize {
  return __heap_base;
}

// ---- the counter-based fire mask (mirrored by fused/fire-mask.ts) ----

/** Chris Wellons' lowbias32: a 32-bit integer hash with good avalanche. */
// @ts-ignore: decorator
@inline function mix(v: u32): u32 {
  let x = v;
  x ^= x >> 16;
  x *= 0x7feb352d;
  x ^= x >> 15;
  x *= 0x846ca68b;
  x ^= x >> 16;
  return x;
}

// @ts-ignore: decorator
@inline function fires(stepKey: u32, index: u32): bool {
  return mix(index ^ stepKey) >> 8 < FIRE_BELOW;
}

// ---- SIMD maths ----

// @ts-ignore: decorator
@inline function splat(x: f32): v128 {
  return f32x4.splat(x);
}

// The constants of the SIMD maths below, each splatted to a vector, in a data segment: V8 builds
// a v128 constant afresh at every use (three instructions, in the loop), while a load from here
// is one. Offsets in bytes.
// @ts-ignore: memory.data with an alignment
const MATH: usize = memory.data<f32>([
  2.414213562373095, 2.414213562373095, 2.414213562373095, 2.414213562373095,
  0.41421356237309503, 0.41421356237309503, 0.41421356237309503, 0.41421356237309503,
  1.0, 1.0, 1.0, 1.0,
  1e12, 1e12, 1e12, 1e12,
  -1.0, -1.0, -1.0, -1.0,
  1.5707963267948966, 1.5707963267948966, 1.5707963267948966, 1.5707963267948966,
  0.7853981633974483, 0.7853981633974483, 0.7853981633974483, 0.7853981633974483,
  8.05374449538e-2, 8.05374449538e-2, 8.05374449538e-2, 8.05374449538e-2,
  1.38776856032e-1, 1.38776856032e-1, 1.38776856032e-1, 1.38776856032e-1,
  1.99777106478e-1, 1.99777106478e-1, 1.99777106478e-1, 1.99777106478e-1,
  3.33329491539e-1, 3.33329491539e-1, 3.33329491539e-1, 3.33329491539e-1,
  -87.0, -87.0, -87.0, -87.0,
  87.0, 87.0, 87.0, 87.0,
  1.4426950408889634, 1.4426950408889634, 1.4426950408889634, 1.4426950408889634,
  0.693359375, 0.693359375, 0.693359375, 0.693359375,
  -2.12194440e-4, -2.12194440e-4, -2.12194440e-4, -2.12194440e-4,
  1.3888889e-3, 1.3888889e-3, 1.3888889e-3, 1.3888889e-3,
  8.3333333e-3, 8.3333333e-3, 8.3333333e-3, 8.3333333e-3,
  4.1666667e-2, 4.1666667e-2, 4.1666667e-2, 4.1666667e-2,
  1.6666667e-1, 1.6666667e-1, 1.6666667e-1, 1.6666667e-1,
  0.5, 0.5, 0.5, 0.5,
  -0.0, -0.0, -0.0, -0.0,
], 16);
const TAN_3PI_8: usize = 0;
const TAN_PI_8: usize = 16;
const ONE: usize = 32;
const BIG: usize = 48;
const MINUS_ONE: usize = 64;
const HALF_PI: usize = 80;
const QUARTER_PI: usize = 96;
const AT0: usize = 112;
const AT1: usize = 128;
const AT2: usize = 144;
const AT3: usize = 160;
const EXP_LO: usize = 176;
const EXP_HI: usize = 192;
const LOG2E: usize = 208;
const LN2_HI: usize = 224;
const LN2_LO: usize = 240;
const EX0: usize = 256;
const EX1: usize = 272;
const EX2: usize = 288;
const EX3: usize = 304;
const HALF: usize = 320;
const SIGN: usize = 336;
const EXP_BIAS: usize = memory.data<i32>([127, 127, 127, 127], 16);
// lowbias32's two multipliers (splatted), then the lane numbers 0..3 (see drawFire).
// @ts-ignore: memory.data with an alignment
const HASH: usize = memory.data<u32>([0x7feb352d, 0x7feb352d, 0x7feb352d, 0x7feb352d, 0x846ca68b, 0x846ca68b, 0x846ca68b, 0x846ca68b, 0, 1, 2, 3], 16);

// @ts-ignore: decorator
@inline function k4(offset: usize): v128 {
  return v128.load(MATH + offset);
}

/**
 * atan on four lanes, Cephes' atanf (range reduction to |t| <= tan(pi/8), degree-9 odd
 * polynomial), and its slope 1 / (1 + x^2) stored at `slope`: both divisions share one. A NaN
 * stays NaN (pmin keeps its first operand when the comparison fails).
 */
function atan4(x: v128, slope: usize): v128 {
  const sign = v128.and(x, k4(SIGN));
  const a = v128.andnot(x, k4(SIGN));
  const big = f32x4.gt(a, k4(TAN_3PI_8));
  const mid = f32x4.gt(a, k4(TAN_PI_8));
  const one = k4(ONE);
  // Clamped so den * q stays finite; beyond 1e12, atan is pi/2 and the slope 0 in float32.
  const ac = f32x4.pmin(a, k4(BIG));
  // t = big ? -1/a : mid ? (a-1)/(a+1) : a, as num / den.
  const num = v128.bitselect(k4(MINUS_ONE), v128.bitselect(f32x4.sub(a, one), a, mid), big);
  const den = v128.bitselect(ac, v128.bitselect(f32x4.add(a, one), one, mid), big);
  // One division: r = 1 / (den q), so 1 / den = r q and 1 / q = r den.
  const q = f32x4.add(one, f32x4.mul(ac, ac));
  const r = f32x4.div(one, f32x4.mul(den, q));
  v128.store(slope, f32x4.mul(r, den));
  const t = f32x4.mul(num, f32x4.mul(r, q));
  const base = v128.bitselect(k4(HALF_PI), v128.and(k4(QUARTER_PI), mid), big);
  const z = f32x4.mul(t, t);
  let poly = f32x4.sub(f32x4.mul(k4(AT0), z), k4(AT1));
  poly = f32x4.add(f32x4.mul(poly, z), k4(AT2));
  poly = f32x4.sub(f32x4.mul(poly, z), k4(AT3));
  const result = f32x4.add(base, f32x4.add(t, f32x4.mul(f32x4.mul(poly, z), t)));
  return v128.xor(result, sign);
}

/** exp on four lanes (inputs clamped to [-87, 87], a NaN stays NaN): 2^n x a degree-6 polynomial of the rest. */
function exp4(x: v128): v128 {
  const c = f32x4.pmin(f32x4.pmax(x, k4(EXP_LO)), k4(EXP_HI));
  const n = f32x4.nearest(f32x4.mul(c, k4(LOG2E)));
  // Cody-Waite: ln 2 in two parts so r is exact enough.
  const r = f32x4.sub(f32x4.sub(c, f32x4.mul(n, k4(LN2_HI))), f32x4.mul(n, k4(LN2_LO)));
  let p = f32x4.add(f32x4.mul(k4(EX0), r), k4(EX1));
  p = f32x4.add(f32x4.mul(p, r), k4(EX2));
  p = f32x4.add(f32x4.mul(p, r), k4(EX3));
  p = f32x4.add(f32x4.mul(p, r), k4(HALF));
  p = f32x4.add(f32x4.mul(p, r), k4(ONE));
  p = f32x4.add(f32x4.mul(p, r), k4(ONE));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), v128.load(EXP_BIAS)), 23);
  return f32x4.mul(p, scale);
}

// @ts-ignore: decorator
@inline function sigmoid4(x: v128): v128 {
  return f32x4.div(k4(ONE), f32x4.add(k4(ONE), exp4(f32x4.neg(x))));
}

// ---- pieces of the step ----

// @ts-ignore: decorator
@inline function cellPtr(base: usize, n: i32, width: i32): usize {
  return base + (<usize>n * <usize>width << 2);
}

// Cell n of a sample sits at column x, row y. The loops over cells count them along with n
// (firstCell, then nextCell at the top of each turn) instead of dividing for them.
let cellX: i32 = 0;
let cellY: i32 = 0;

/** Before a loop over the cells: nextCell then moves to cell 0. */
function firstCell(): void {
  cellX = -1;
  cellY = 0;
}

/** The next cell's column and row (rows wrap at HEIGHT: the next sample starts at row 0). */
// @ts-ignore: decorator
@inline function nextCell(): void {
  if (++cellX == WIDTH) {
    cellX = 0;
    if (++cellY == HEIGHT) cellY = 0;
  }
}

/** The 3x3 max of alpha around cell n (at x, y) of `state` (zero outside the grid) > threshold. */
function maxPoolAlive(state: usize, n: i32, x: i32, y: i32): bool {
  let best: f32 = -Infinity;
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      const yy = y + dy;
      const xx = x + dx;
      const inside = yy >= 0 && yy < HEIGHT && xx >= 0 && xx < WIDTH;
      best = max(best, inside ? load<f32>(cellPtr(state, n + dy * WIDTH + dx, C) + (<usize>ALPHA << 2)) : 0);
    }
  }
  return best > THRESHOLD;
}

/** Whether any cell of the 3x3 neighbourhood of n (at x, y) is occupied (see occupiedPtr). */
function neighbourhoodOccupied(n: i32, x: i32, y: i32): bool {
  for (let dy = -1; dy <= 1; dy++) {
    const yy = y + dy;
    if (yy < 0 || yy >= HEIGHT) continue;
    for (let dx = -1; dx <= 1; dx++) {
      const xx = x + dx;
      if (xx >= 0 && xx < WIDTH && load<u8>(occupiedPtr + n + dy * WIDTH + dx) != 0) return true;
    }
  }
  return false;
}

/**
 * The 3x3 neighbourhood of the cell at x, y, whose row (of `width` floats) is at `cell`, as 9 byte offsets
 * from `cell`, row-major (entry (dy+1)*3 + dx+1): the shared `interior` table for a cell off the
 * border, else a table written to nbPtr where a neighbour outside the grid points at the zero
 * row (offsets wrap, as addresses do). Perception and adjoint then read without bounds tests.
 */
function neighbours(cell: usize, x: i32, y: i32, width: i32, interior: usize): usize {
  if (x > 0 && x < WIDTH - 1 && y > 0 && y < HEIGHT - 1) return interior;
  for (let dy = -1; dy <= 1; dy++) {
    const yy = y + dy;
    for (let dx = -1; dx <= 1; dx++) {
      const xx = x + dx;
      const inside = yy >= 0 && yy < HEIGHT && xx >= 0 && xx < WIDTH;
      const at = nbPtr + (<usize>((dy + 1) * 3 + dx + 1) << 2);
      store<i32>(at, inside ? (dy * WIDTH + dx) * width * 4 : <i32>(zeroRowPtr - cell));
    }
  }
  return nbPtr;
}

/**
 * The kernel-major perception of cell n of `state` into p (P floats). Each value sums its taps
 * in the table's order from zero (a neighbour outside the grid adds w x 0), sixteen channels at
 * a time in four registers: four independent add chains per tap.
 */
function perceive(state: usize, n: i32, x: i32, y: i32, p: usize): void {
  const cell = cellPtr(state, n, C);
  const table = neighbours(cell, x, y, C, interiorStatePtr);
  const kernels = P / C;
  for (let c = 0; c < C; c += 16) {
    const base = cell + (<usize>c << 2);
    let t = 0;
    for (let k = 0; k < kernels; k++) {
      let a0 = f32x4.splat(0);
      let a1 = a0;
      let a2 = a0;
      let a3 = a0;
      for (; t < TAPS; t++) {
        const tap = tapPtr + (<usize>t << 4);
        if (load<i32>(tap) != k) break;
        const src = base + <usize>load<i32>(table + (<usize>load<i32>(tap, 4) << 2));
        const w = v128.load32_splat(tap, 12);
        a0 = madd(w, v128.load(src), a0);
        a1 = madd(w, v128.load(src, 16), a1);
        a2 = madd(w, v128.load(src, 32), a2);
        a3 = madd(w, v128.load(src, 48), a3);
      }
      const dst = p + (<usize>(k * C + c) << 2);
      v128.store(dst, a0);
      v128.store(dst, a1, 16);
      v128.store(dst, a2, 32);
      v128.store(dst, a3, 48);
    }
  }
}

/**
 * out[0..cols) = bias + sum_r x[r] * m[r, 0..cols) for a row-major [rows, cols] m, cols % 16 == 0
 * (bias 0: none). Even and odd rows sum apart: eight independent chains hide the add latency.
 */
function denseRow(x: usize, rows: i32, m: usize, cols: i32, bias: usize, out: usize): void {
  const stride = <usize>cols << 2;
  const zero = f32x4.splat(0);
  for (let j = 0; j < cols; j += 16) {
    const jo = <usize>j << 2;
    let a0 = bias ? v128.load(bias + jo) : zero;
    let a1 = bias ? v128.load(bias + jo, 16) : zero;
    let a2 = bias ? v128.load(bias + jo, 32) : zero;
    let a3 = bias ? v128.load(bias + jo, 48) : zero;
    let e0 = zero;
    let e1 = zero;
    let e2 = zero;
    let e3 = zero;
    let row = m + jo;
    let r = 0;
    for (; r + 1 < rows; r += 2) {
      const s = v128.load32_splat(x + (<usize>r << 2));
      const t = v128.load32_splat(x + (<usize>r << 2), 4);
      const next = row + stride;
      a0 = madd(s, v128.load(row), a0);
      a1 = madd(s, v128.load(row, 16), a1);
      a2 = madd(s, v128.load(row, 32), a2);
      a3 = madd(s, v128.load(row, 48), a3);
      e0 = madd(t, v128.load(next), e0);
      e1 = madd(t, v128.load(next, 16), e1);
      e2 = madd(t, v128.load(next, 32), e2);
      e3 = madd(t, v128.load(next, 48), e3);
      row = next + stride;
    }
    if (r < rows) {
      const s = v128.load32_splat(x + (<usize>r << 2));
      a0 = madd(s, v128.load(row), a0);
      a1 = madd(s, v128.load(row, 16), a1);
      a2 = madd(s, v128.load(row, 32), a2);
      a3 = madd(s, v128.load(row, 48), a3);
    }
    v128.store(out + jo, f32x4.add(a0, e0));
    v128.store(out + jo, f32x4.add(a1, e1), 16);
    v128.store(out + jo, f32x4.add(a2, e2), 32);
    v128.store(out + jo, f32x4.add(a3, e3), 48);
  }
}

/**
 * denseRow for two inputs at once (x0 -> out0, x1 -> out1), cols % 16 == 0: each weight vector is
 * loaded once for both, which is what bounds denseRow.
 */
function denseRow2(x0: usize, x1: usize, rows: i32, m: usize, cols: i32, bias: usize, out0: usize, out1: usize): void {
  const stride = <usize>cols << 2;
  const zero = f32x4.splat(0);
  for (let j = 0; j < cols; j += 16) {
    const jo = <usize>j << 2;
    let a0 = bias ? v128.load(bias + jo) : zero;
    let a1 = bias ? v128.load(bias + jo, 16) : zero;
    let a2 = bias ? v128.load(bias + jo, 32) : zero;
    let a3 = bias ? v128.load(bias + jo, 48) : zero;
    let e0 = a0;
    let e1 = a1;
    let e2 = a2;
    let e3 = a3;
    let row = m + jo;
    for (let r = 0; r < rows; r++) {
      const s = v128.load32_splat(x0 + (<usize>r << 2));
      const t = v128.load32_splat(x1 + (<usize>r << 2));
      const w0 = v128.load(row);
      const w1 = v128.load(row, 16);
      const w2 = v128.load(row, 32);
      const w3 = v128.load(row, 48);
      a0 = madd(s, w0, a0);
      a1 = madd(s, w1, a1);
      a2 = madd(s, w2, a2);
      a3 = madd(s, w3, a3);
      e0 = madd(t, w0, e0);
      e1 = madd(t, w1, e1);
      e2 = madd(t, w2, e2);
      e3 = madd(t, w3, e3);
      row += stride;
    }
    v128.store(out0 + jo, a0);
    v128.store(out0 + jo, a1, 16);
    v128.store(out0 + jo, a2, 32);
    v128.store(out0 + jo, a3, 48);
    v128.store(out1 + jo, e0);
    v128.store(out1 + jo, e1, 16);
    v128.store(out1 + jo, e2, 32);
    v128.store(out1 + jo, e3, 48);
  }
}

/** The fire mask of one cell into `fire` (C floats, 0 or 1); true when any element fires. */
function drawFire(stepKey: u32, index: u32, fire: usize): bool {
  if (PER_CELL_FIRE) {
    const f = splat(fires(stepKey, index) ? 1 : 0);
    for (let c = 0; c < C; c += 4) v128.store(fire + (<usize>c << 2), f);
    return v128.any_true(f);
  }
  // Four hashes at once: lanes are elements index*C + c .. + 3 (see fires()).
  const key = i32x4.splat(stepKey);
  const bound = i32x4.splat(FIRE_BELOW);
  const ones = k4(ONE);
  let any = i32x4.splat(0);
  const base = index * <u32>C;
  for (let c = 0; c < C; c += 4) {
    let x = v128.xor(i32x4.add(i32x4.splat(base + <u32>c), v128.load(HASH, 32)), key);
    x = v128.xor(x, i32x4.shr_u(x, 16));
    x = i32x4.mul(x, v128.load(HASH));
    x = v128.xor(x, i32x4.shr_u(x, 15));
    x = i32x4.mul(x, v128.load(HASH, 16));
    x = v128.xor(x, i32x4.shr_u(x, 16));
    const hit = i32x4.lt_u(i32x4.shr_u(x, 8), bound);
    any = v128.or(any, hit);
    v128.store(fire + (<usize>c << 2), v128.and(hit, ones));
  }
  return v128.any_true(any);
}

// ---- forward ----

/** The hidden activation in place on z (HID values), keeping atan's slope 1 / (1 + z^2). */
function activateHidden(h: usize, slope: usize): void {
  if (HIDDEN_ATAN) {
    for (let j = 0; j < HID; j += 4) {
      const o = <usize>j << 2;
      v128.store(h + o, atan4(v128.load(h + o), slope + o));
    }
  } else {
    const zero = f32x4.splat(0);
    for (let j = 0; j < HID; j += 4) {
      const o = <usize>j << 2;
      // pmax: one instruction (max is five), and a NaN stays NaN (see atan4).
      v128.store(h + o, f32x4.pmax(v128.load(h + o), zero));
    }
  }
}

/** The output activation on y (C values) in place. */
function activateOutput(y: usize): void {
  if (!OUT_SIGMOID) return;
  for (let c = 0; c < C; c += 4) v128.store(y + (<usize>c << 2), sigmoid4(v128.load(y + (<usize>c << 2))));
}

/** The output activation on y in place, then the update of state s into u with fire mask f. */
function updateCell(s: usize, y: usize, fire: usize, u: usize): void {
  activateOutput(y);
  const one = splat(1.0);
  for (let c = 0; c < C; c += 4) {
    const o = <usize>c << 2;
    const v = v128.load(y + o);
    const f = v128.load(fire + o);
    const old = v128.load(s + o);
    // replace: y f + s (1 - f); residual: s + y f. Arithmetic, not a select, so a NaN state
    // stays NaN as in the tfjs step (the divergence guard relies on it).
    const fired = f32x4.mul(v, f);
    v128.store(u + o, REPLACE ? f32x4.add(fired, f32x4.mul(old, f32x4.sub(one, f))) : f32x4.add(old, fired));
  }
}

/**
 * Step t: states[t] -> states[t + 1], keeping what backward needs. `stepKey` seeds the fire mask
 * of this step; `cellOffset` is the index of this engine's first cell in the whole batch (so a
 * batch split over workers draws the same masks as one engine).
 */
export function forwardStep(t: i32, stepKey: u32, cellOffset: i32): void {
  const cellBytes = <usize>N * <usize>C << 2;
  const state = statesPtr + <usize>t * cellBytes;
  const next = state + cellBytes;
  const hidden = hiddenPtr + (<usize>t * <usize>N * <usize>HID << 2);
  const slope = slopePtr + (<usize>t * <usize>N * <usize>HID << 2);
  const out = outPtr + <usize>t * cellBytes;
  const ran = ranPtr + <usize>t * <usize>N;
  const alive = alivePtr + <usize>t * <usize>N;
  const fire = scratchPtr; // C floats
  const spare = fire + (<usize>C << 2); // HID + C + HID floats for an unpaired cell's partner
  const one = splat(1.0);
  if (!MAX_POOL) {
    // Own alpha: a cell whose neighbourhood is all zero perceives 0 and outputs the constant.
    const zero = f32x4.splat(0);
    for (let n = 0; n < N; n++) {
      const s = cellPtr(state, n, C);
      let any = f32x4.ne(v128.load(s), zero);
      for (let c = 4; c < C; c += 4) any = v128.or(any, f32x4.ne(v128.load(s + (<usize>c << 2)), zero));
      store<u8>(occupiedPtr + n, v128.any_true(any) ? 1 : 0);
    }
  }
  let own = 0; // cells whose network runs on their own perception, listed at listPtr
  firstCell();
  for (let n = 0; n < N; n++) {
    nextCell();
    const index = <u32>(cellOffset + n);
    const any = drawFire(stepKey, index, fire);
    const before = MAX_POOL ? maxPoolAlive(state, n, cellX, cellY) : true;
    store<u8>(alive + n, before ? 1 : 0);
    const run = any && before;
    const s = cellPtr(state, n, C);
    const u = cellPtr(next, n, C);
    if (!run) {
      // Nothing fires (or the cell is dead before, max-pool: masked below): the state stays.
      store<u8>(ran + n, 0);
      for (let c = 0; c < C; c += 4) v128.store(u + (<usize>c << 2), v128.load(s + (<usize>c << 2)));
      continue;
    }
    if (!MAX_POOL && !neighbourhoodOccupied(n, cellX, cellY)) {
      store<u8>(ran + n, RAN_CONSTANT);
      const y0 = constPtr + (<usize>(2 * HID) << 2);
      for (let c = 0; c < C; c += 4) {
        const o = <usize>c << 2;
        const f = v128.load(fire + o);
        v128.store(u + o, f32x4.add(f32x4.mul(v128.load(y0 + o), f), f32x4.mul(v128.load(s + o), f32x4.sub(one, f))));
      }
      continue;
    }
    store<u8>(ran + n, RAN_OWN);
    // The network runs below, two cells at a time: perceive now, into the dp scratch.
    perceive(state, n, cellX, cellY, cellPtr(dpPtr, n, P));
    store<i32>(listPtr + (<usize>own << 2), n);
    own++;
  }
  for (let i = 0; i < own; i += 2) {
    const n0 = load<i32>(listPtr + (<usize>i << 2));
    const n1 = i + 1 < own ? load<i32>(listPtr + (<usize>(i + 1) << 2)) : -1;
    // NOTE: a cell without a partner is computed beside itself (into spare scratch), so every
    // cell's sums run in the same order whatever its partner: a batch split over threads stays
    // bit-identical to one engine.
    const p1 = n1 >= 0 ? cellPtr(dpPtr, n1, P) : cellPtr(dpPtr, n0, P);
    const h0 = cellPtr(hidden, n0, HID);
    const h1 = n1 >= 0 ? cellPtr(hidden, n1, HID) : spare;
    const y1 = n1 >= 0 ? cellPtr(out, n1, C) : spare + (<usize>HID << 2);
    denseRow2(cellPtr(dpPtr, n0, P), p1, P, w0Ptr, HID, b0Ptr, h0, h1);
    activateHidden(h0, cellPtr(slope, n0, HID));
    if (n1 >= 0) activateHidden(h1, cellPtr(slope, n1, HID));
    else activateHidden(h1, spare + (<usize>(HID + C) << 2));
    denseRow2(h0, h1, HID, w1Ptr, C, b1Ptr, cellPtr(out, n0, C), y1);
    for (let k = 0; k < 2; k++) {
      const n = k == 0 ? n0 : n1;
      if (n < 0) break;
      drawFire(stepKey, <u32>(cellOffset + n), fire);
      updateCell(cellPtr(state, n, C), cellPtr(out, n, C), fire, cellPtr(next, n, C));
    }
  }
  // Alive after the update (max-pool reads the neighbours' updated alpha, so flags first).
  firstCell();
  for (let n = 0; n < N; n++) {
    nextCell();
    const wasAlive = load<u8>(alive + n) != 0;
    const after = MAX_POOL ? maxPoolAlive(next, n, cellX, cellY) : load<f32>(cellPtr(next, n, C) + (<usize>ALPHA << 2)) > THRESHOLD;
    store<u8>(alive + n, wasAlive && after ? 1 : 0);
  }
  // Dead cells are multiplied by 0 (not set to 0): NaN stays NaN, as in the tfjs step.
  const zero = f32x4.splat(0);
  for (let n = 0; n < N; n++) {
    if (load<u8>(alive + n) != 0) continue;
    const u = cellPtr(next, n, C);
    for (let c = 0; c < C; c += 4) v128.store(u + (<usize>c << 2), f32x4.mul(v128.load(u + (<usize>c << 2)), zero));
  }
}

// ---- backward ----

let tileRows: i32 = 0;
/** Whether the tile's flush also writes dL/d perception of its cells (dp = W0 dz1). */
let tileNeedsInput: bool = false;
// The tile's parts (set by layTile). The outer products read y interleaved ([j / 4][r]: a
// vector's eight rows are adjacent), so their inner loop loads at constant offsets from one
// pointer; everything else is row-major.
let tileFirst: usize = 0; // HID: a pair's first W1 dz2
let tileP: usize = 0; // [TILE][P]: the perceptions
let tileDz1: usize = 0; // [TILE][HID]: act'(z1) until the flush, then dz1
let tileH: usize = 0; // [TILE][HID]: the hidden outputs
let tileDz2: usize = 0; // [TILE][C]
let tileCells: usize = 0; // [TILE] i32: the tile's cells
let tileSpare: usize = 0; // P: dp of an odd one out's twin
let tileDz1I: usize = 0; // [HID / 4][TILE] v128: dz1 interleaved
let tileDz2I: usize = 0; // [C / 4][TILE] v128: dz2 interleaved

/** Lays the tile out in the scratch after backwardStep's C-float rows (fire, g). */
function layTile(): void {
  tileFirst = scratchPtr + (<usize>(2 * C) << 2);
  tileP = tileFirst + (<usize>HID << 2);
  tileDz1 = tileP + (<usize>(TILE * P) << 2);
  tileH = tileDz1 + (<usize>(TILE * HID) << 2);
  tileDz2 = tileH + (<usize>(TILE * HID) << 2);
  tileCells = tileDz2 + (<usize>(TILE * C) << 2);
  tileSpare = tileCells + (<usize>TILE << 2);
  tileDz1I = tileSpare + (<usize>P << 2);
  tileDz2I = tileDz1I + (<usize>(TILE * HID) << 2);
}

/** Floats of the scratch's head: forward's fire mask and spare row, backward's rows and tile. */
function scratchHead(channels: i32, perception: i32, hidden: i32): i32 {
  const forward = channels + 2 * hidden + channels;
  const backward = 2 * channels + hidden + TILE * (perception + 2 * hidden + channels + 1) + perception + TILE * (hidden + channels);
  return max(forward, backward);
}

/** A row-major [TILE][width] part of the tile into its interleaved copy ([width / 4][TILE] vectors). */
function interleave(rows: usize, width: i32, out: usize): void {
  for (let r = 0; r < TILE; r++) {
    const row = rows + (<usize>(r * width) << 2);
    for (let j = 0; j < width; j += 4) v128.store(out + (<usize>(j * TILE + 4 * r) << 2), v128.load(row + (<usize>j << 2)));
  }
}

/**
 * g[k, j] += sum over the tile's TILE (8) rows r of x[r, k] y[r, j], for x row-major
 * ([TILE][xs]) and y interleaved ([ys / 4][TILE] vectors): each gradient vector is loaded and
 * stored once per tile.
 */
function addOuterProducts(x: usize, xs: i32, y: usize, ys: i32, g: usize): void {
  // Two passes of four rows: eight splats and eight row vectors live at once would not fit in
  // V8's fifteen vector registers (it spilled), four and four do.
  addOuterProducts4(x, xs, y, ys, g);
  addOuterProducts4(x + (<usize>(4 * xs) << 2), xs, y + 64, ys, g);
}

/** addOuterProducts over rows 0..3 of x and of the interleaved y (y's vectors 128 bytes apart). */
function addOuterProducts4(x: usize, xs: i32, y: usize, ys: i32, g: usize): void {
  const xRow = <usize>xs << 2;
  let row = g;
  for (let k = 0; k < xs; k++) {
    const at = x + (<usize>k << 2);
    const x0 = v128.load32_splat(at);
    const x1 = v128.load32_splat(at + xRow);
    const x2 = v128.load32_splat(at + 2 * xRow);
    const x3 = v128.load32_splat(at + 3 * xRow);
    let v = y;
    const end = row + (<usize>ys << 2);
    // Two output vectors an iteration (ys is a multiple of 16): half the loop's own overhead.
    for (; row < end; row += 32) {
      const even = madd(x2, v128.load(v, 32), f32x4.mul(x0, v128.load(v)));
      const odd = madd(x3, v128.load(v, 48), f32x4.mul(x1, v128.load(v, 16)));
      v128.store(row, f32x4.add(v128.load(row), f32x4.add(even, odd)));
      const even2 = madd(x2, v128.load(v, 160), f32x4.mul(x0, v128.load(v, 128)));
      const odd2 = madd(x3, v128.load(v, 176), f32x4.mul(x1, v128.load(v, 144)));
      v128.store(row, f32x4.add(v128.load(row, 16), f32x4.add(even2, odd2)), 16);
      v += 256;
    }
  }
}

/** Adds the weight gradients of the buffered rows (TILE of them at most) and empties the tile. */
function flushTile(): void {
  if (tileRows == 0) return;
  const rowsH = <usize>HID << 2;
  const rowsC = <usize>C << 2;
  // dz1 = (W1 dz2) * act'(z1), two cells at a time; an odd one out beside itself (same sums
  // either way), its twin into the pair row.
  for (let r = 0; r < tileRows; r += 2) {
    const pair = r + 1 < tileRows;
    const x1 = pair ? tileDz2 + <usize>(r + 1) * rowsC : tileDz2 + <usize>r * rowsC;
    denseRow2(tileDz2 + <usize>r * rowsC, x1, C, w1tPtr, HID, 0, tileFirst, pairPtr);
    const rows = pair ? 2 : 1;
    for (let k = 0; k < rows; k++) {
      const row = tileDz1 + <usize>(r + k) * rowsH;
      const w = k == 0 ? tileFirst : pairPtr;
      for (let j = 0; j < HID; j += 4) {
        const o = <usize>j << 2;
        v128.store(row + o, f32x4.mul(v128.load(w + o), v128.load(row + o)));
      }
    }
  }
  if (tileNeedsInput) {
    // dp = W0 dz1, two cells at a time (an odd one out beside itself: same sums either way).
    for (let r = 0; r < tileRows; r += 2) {
      const n0 = load<i32>(tileCells + (<usize>r << 2));
      const pair = r + 1 < tileRows;
      const x1 = pair ? tileDz1 + <usize>(r + 1) * rowsH : tileDz1 + <usize>r * rowsH;
      const out1 = pair ? cellPtr(dpPtr, load<i32>(tileCells + (<usize>(r + 1) << 2)), P) : tileSpare;
      denseRow2(tileDz1 + <usize>r * rowsH, x1, HID, w0tPtr, P, 0, cellPtr(dpPtr, n0, P), out1);
    }
  }
  // Unused rows of a partial tile are zero, so every flush does TILE rows. All four parts: a
  // stale NaN (left by a poisoned rollout) times a zero would still be NaN.
  for (let r = tileRows; r < TILE; r++) {
    const zero = f32x4.splat(0);
    for (let k = 0; k < P; k += 4) v128.store(tileP + <usize>r * (<usize>P << 2) + (<usize>k << 2), zero);
    for (let j = 0; j < HID; j += 4) {
      v128.store(tileDz1 + <usize>r * rowsH + (<usize>j << 2), zero);
      v128.store(tileH + <usize>r * rowsH + (<usize>j << 2), zero);
    }
    for (let c = 0; c < C; c += 4) v128.store(tileDz2 + <usize>r * rowsC + (<usize>c << 2), zero);
  }
  interleave(tileDz1, HID, tileDz1I);
  interleave(tileDz2, C, tileDz2I);
  // gw0[k, j] += sum_r p[r, k] dz1[r, j]
  addOuterProducts(tileP, P, tileDz1I, HID, gw0Ptr);
  for (let j = 0; j < HID; j += 4) {
    const o = <usize>j << 2;
    let acc = v128.load(gb0Ptr + o);
    for (let r = 0; r < TILE; r++) acc = f32x4.add(acc, v128.load(tileDz1 + <usize>r * rowsH + o));
    v128.store(gb0Ptr + o, acc);
  }
  // gw1[j, c] += sum_r h[r, j] dz2[r, c]
  addOuterProducts(tileH, HID, tileDz2I, C, gw1Ptr);
  for (let c = 0; c < C; c += 4) {
    const o = <usize>c << 2;
    let acc = v128.load(gb1Ptr + o);
    for (let r = 0; r < TILE; r++) acc = f32x4.add(acc, v128.load(tileDz2 + <usize>r * rowsC + o));
    v128.store(gb1Ptr + o, acc);
  }
  tileRows = 0;
}

/**
 * The backward pass of step t: `gradNext` = dL/d states[t + 1] -> `gradState` = dL/d states[t]
 * (skipped when `needInput` is false), adding into the weight gradients. `stepKey` and
 * `cellOffset` must be those of the forward call (the fire mask is drawn again).
 */
export function backwardStep(t: i32, stepKey: u32, cellOffset: i32, gradNext: usize, gradState: usize, needInput: bool): void {
  const cellBytes = <usize>N * <usize>C << 2;
  const state = statesPtr + <usize>t * cellBytes;
  const hidden = hiddenPtr + (<usize>t * <usize>N * <usize>HID << 2);
  const slope = slopePtr + (<usize>t * <usize>N * <usize>HID << 2);
  const out = outPtr + <usize>t * cellBytes;
  const ran = ranPtr + <usize>t * <usize>N;
  const alive = alivePtr + <usize>t * <usize>N;
  const fire = scratchPtr; // C
  const g = fire + (<usize>C << 2); // C: dL/d updated (then the tile, see layTile)
  const zero = f32x4.splat(0);
  const one = splat(1.0);
  layTile();
  tileRows = 0;
  tileNeedsInput = needInput;
  firstCell();
  for (let n = 0; n < N; n++) {
    nextCell();
    const index = <u32>(cellOffset + n);
    drawFire(stepKey, index, fire);
    const gn = cellPtr(gradNext, n, C);
    const isAlive = load<u8>(alive + n) != 0;
    let passing = isAlive;
    if (isAlive) {
      for (let c = 0; c < C; c += 4) v128.store(g + (<usize>c << 2), v128.load(gn + (<usize>c << 2)));
    } else {
      for (let c = 0; c < C; c += 4) v128.store(g + (<usize>c << 2), zero);
      if (RAMP) {
        // The updated (pre-mask) state of a dead cell: replace-update only (own-alpha models).
        const s = cellPtr(state, n, C);
        const how = load<u8>(ran + n);
        const y = how == RAN_CONSTANT ? constPtr + (<usize>(2 * HID) << 2) : cellPtr(out, n, C);
        const didRun = how != 0;
        let reach: f32 = 0;
        let updatedAlpha: f32 = 0;
        for (let c = 0; c < C; c++) {
          const o = <usize>c << 2;
          const uc = didRun && load<f32>(fire + o) != 0 ? load<f32>(y + o) : load<f32>(s + o);
          reach += load<f32>(gn + o) * uc;
          if (c == ALPHA) updatedAlpha = uc;
        }
        if (updatedAlpha >= 0) {
          const push = reach / THRESHOLD;
          if (push != 0) {
            store<f32>(g + (<usize>ALPHA << 2), push);
            passing = true;
          }
        }
      }
    }
    const how = load<u8>(ran + n);
    const runs = how != 0;
    const constant = how == RAN_CONSTANT;
    if (needInput) {
      // The direct path: replace keeps s where nothing fired; residual adds s everywhere.
      const gs = cellPtr(gradState, n, C);
      for (let c = 0; c < C; c += 4) {
        const o = <usize>c << 2;
        const gc = v128.load(g + o);
        v128.store(gs + o, REPLACE && runs ? f32x4.mul(gc, f32x4.sub(one, v128.load(fire + o))) : gc);
      }
    }
    const dp = cellPtr(dpPtr, n, P);
    if (!passing || !runs) {
      if (needInput) for (let k = 0; k < P; k += 4) v128.store(dp + (<usize>k << 2), zero);
      continue;
    }
    // dz2 = g * fire * act'(y); dz1 = (W1 dz2) * act'(z1) follows in flushTile, two cells at a
    // time: the tile's dz1 row holds act'(z1) until then.
    const y = constant ? constPtr + (<usize>(2 * HID) << 2) : cellPtr(out, n, C);
    const rowDz2 = tileDz2 + (<usize>(tileRows * C) << 2);
    for (let c = 0; c < C; c += 4) {
      const o = <usize>c << 2;
      let d = f32x4.mul(v128.load(g + o), v128.load(fire + o));
      if (OUT_SIGMOID) {
        const yv = v128.load(y + o);
        d = f32x4.mul(d, f32x4.mul(yv, f32x4.sub(one, yv)));
      }
      v128.store(rowDz2 + o, d);
    }
    const h = constant ? constPtr : cellPtr(hidden, n, HID);
    const rowSlope = tileDz1 + (<usize>(tileRows * HID) << 2);
    const rowH = tileH + (<usize>(tileRows * HID) << 2);
    const d1 = constant ? constPtr + (<usize>HID << 2) : cellPtr(slope, n, HID);
    for (let j = 0; j < HID; j += 4) {
      const o = <usize>j << 2;
      const hv = v128.load(h + o);
      v128.store(rowSlope + o, HIDDEN_ATAN ? v128.load(d1 + o) : v128.and(f32x4.gt(hv, zero), one));
      v128.store(rowH + o, hv);
    }
    perceive(state, n, cellX, cellY, tileP + (<usize>(tileRows * P) << 2));
    store<i32>(tileCells + (<usize>tileRows << 2), n);
    tileRows++;
    if (tileRows == TILE) flushTile();
  }
  flushTile();
  if (!needInput) return;
  // The perception's adjoint: each cell collects from the cells whose perception read it (cell
  // n - (dy, dx) read n through tap (dy, dx): the opposite entry of n's neighbourhood), in the
  // table's order, sixteen channels at a time in registers.
  firstCell();
  for (let n = 0; n < N; n++) {
    nextCell();
    const row = cellPtr(dpPtr, n, P);
    const table = neighbours(row, cellX, cellY, P, interiorDpPtr);
    const gs = cellPtr(gradState, n, C);
    for (let c = 0; c < C; c += 16) {
      const o = <usize>c << 2;
      let a0 = v128.load(gs + o);
      let a1 = v128.load(gs + o, 16);
      let a2 = v128.load(gs + o, 32);
      let a3 = v128.load(gs + o, 48);
      for (let t = 0; t < TAPS; t++) {
        const tap = tapPtr + (<usize>t << 4);
        const src = row + <usize>load<i32>(table + (<usize>(8 - load<i32>(tap, 4)) << 2)) + (<usize>(load<i32>(tap) * C) << 2) + o;
        const w = v128.load32_splat(tap, 12);
        a0 = madd(w, v128.load(src), a0);
        a1 = madd(w, v128.load(src, 16), a1);
        a2 = madd(w, v128.load(src, 32), a2);
        a3 = madd(w, v128.load(src, 48), a3);
      }
      v128.store(gs + o, a0);
      v128.store(gs + o, a1, 16);
      v128.store(gs + o, a2, 32);
      v128.store(gs + o, a3, 48);
    }
  }
}
