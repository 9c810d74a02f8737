/**
 * The fused training engine: a rollout and its back-propagation through time for one group of
 * samples, run by the WebAssembly SIMD kernel of assembly/kernel.ts (one call per step and
 * direction over every cell) instead of tfjs ops. It computes what `rolloutGradients` computes
 * with the tfjs step (trainer/model/step.ts, the oracle it is tested against) for the two-layer rules
 * it supports (`fusedSupport`), with the fire masks of fire-mask.ts.
 *
 * Plain arrays in and out: no tfjs here, so a worker thread can run it (parallel.ts).
 */
import type { Architecture } from '../../runtime/format/types.js';
import { fireBound, stepKey } from './fire-mask.js';
import { chosenKernelVariant, kernelModule, type KernelVariant } from './kernel-variant.js';

/** Why an architecture cannot run fused (undefined: it can). */
export function fusedSupport(arch: Architecture): string | undefined {
  const [first, second] = arch.layers;
  if (arch.layers.length !== 2 || !first || !second) return `the fused kernel runs two dense layers, this model has ${arch.layers.length}`;
  if (first.activation !== 'atan' && first.activation !== 'relu') return `hidden activation ${first.activation} (fused: atan or relu)`;
  if (second.activation !== 'sigmoid' && second.activation !== 'identity') return `output activation ${second.activation} (fused: sigmoid or identity)`;
  if (arch.channels % 16 !== 0) return `${arch.channels} channels (fused: a multiple of 16)`;
  if (first.outputs % 16 !== 0) return `hidden width ${first.outputs} (fused: a multiple of 16)`;
  if (arch.update === 'replace' && arch.aliveMode !== 'own-alpha') return 'replace updates with a max-pool alive mask';
  return undefined;
}

/** One group's rollout: the states and what the loss compares them with. */
export interface FusedRollout {
  /** Start states of this group's samples, [batch, height, width, channels]. */
  readonly start: Float32Array;
  readonly batch: number;
  readonly height: number;
  readonly width: number;
  readonly steps: number;
  /** The iteration's fire-mask seed (uint32) and this group's first cell in the whole batch. */
  readonly maskSeed: number;
  readonly cellOffset: number;
  /** Damage: the state entering `step` (>= 1) is multiplied by `keep`, [batch, height, width]. */
  readonly damage?: { readonly step: number; readonly keep: Float32Array };
  /** Premultiplied RGBA target, [height, width, alphaChannel + 1]. */
  readonly target: Float32Array;
  /** Per-value loss weights like `target` (training/loss-weights.ts); absent: all 1. */
  readonly weights?: Float32Array;
  readonly lossSteps: number;
  /** The whole batch's size (the loss is a mean over it, so gradients of groups add up). */
  readonly lossBatch: number;
  /** Multiply the start by NaN (the divergence guard's fault-injection hook). */
  readonly poison?: boolean;
}

export interface FusedResult {
  /** Each sample's loss (mean over the loss steps). */
  readonly perSample: Float32Array;
  /** The last state, [batch, height, width, channels]. */
  readonly final: Float32Array;
  /** d loss / d variable in the trainer's variable order and layout ([W0, b0, W1, b1]). */
  readonly gradients: Float32Array[];
}

interface KernelExports {
  readonly memory: WebAssembly.Memory;
  configure(...args: number[]): void;
  setWeights(...pointers: number[]): void;
  setRecords(...pointers: number[]): void;
  scratchBytes(channels: number, perception: number, hidden: number): number;
  heapBase(): number;
  setConstant(constant: number, occupied: number, list: number): void;
  prepareConstant(): void;
  forwardStep(step: number, key: number, cellOffset: number): void;
  backwardStep(step: number, key: number, cellOffset: number, gradNext: number, gradState: number, needInput: number): void;
}

const PAGE = 65536;
/** Steps per kernel pass of `advance` (the records of this many steps are kept, then dropped). */
const FORWARD_CHUNK = 25;

/** values[n, c] *= keep[n]: a bite on a state, and its adjoint on that state's gradient. */
function scaleCells(values: Float32Array, keep: Float32Array, channels: number): void {
  for (let n = 0; n < keep.length; n++) {
    const k = keep[n]!;
    if (k !== 1) for (let c = 0; c < channels; c++) values[n * channels + c] = values[n * channels + c]! * k;
  }
}
const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/** A bump allocator over the module's memory, rebuilt per layout. */
class Layout {
  private end: number;
  constructor(base: number) {
    this.end = align(base);
  }
  take(bytes: number): number {
    const at = this.end;
    this.end = align(at + bytes);
    return at;
  }
  get size(): number {
    return this.end;
  }
}

/** The byte offsets of one rollout size's buffers. */
interface Buffers {
  readonly cells: number;
  readonly steps: number;
  readonly states: number;
  readonly gradA: number;
  readonly gradB: number;
}

export class FusedEngine {
  readonly arch: Architecture;
  private readonly kernel: KernelExports;
  private readonly hidden: number;
  private readonly perception: number;
  /** Trainer row (channel-major c*K + k) of each kernel-major perception index k*C + c. */
  private readonly trainerRow: Int32Array;
  private readonly weightsAt: {
    taps: number;
    w0: number;
    w0t: number;
    b0: number;
    w1: number;
    w1t: number;
    b1: number;
    gw0: number;
    gb0: number;
    gw1: number;
    gb1: number;
    /** The network's output for a zero perception (see prepareConstant in the kernel). */
    constant: number;
  };
  private readonly recordsFrom: number;
  /** Non-zero perception taps in the kernel's table. */
  private readonly taps: number;
  private buffers: Buffers | undefined;
  private readonly ramp: boolean;

  /** The kernel build this engine runs (kernel-variant.ts). */
  readonly variant: KernelVariant;

  constructor(arch: Architecture, options: { readonly aliveGradient?: 'constant' | 'ramp'; readonly kernel?: KernelVariant } = {}) {
    const unsupported = fusedSupport(arch);
    if (unsupported) throw new RangeError(`the fused engine cannot run this model: ${unsupported}`);
    this.arch = arch;
    this.variant = options.kernel ?? chosenKernelVariant();
    this.kernel = new WebAssembly.Instance(kernelModule(this.variant), {}).exports as unknown as KernelExports;
    const { channels } = arch;
    const kernels = arch.kernels.length;
    this.hidden = arch.layers[0]!.outputs;
    this.perception = kernels * channels;
    this.ramp = options.aliveGradient === 'ramp' && arch.aliveMode === 'own-alpha' && arch.aliveThreshold > 0;
    this.trainerRow = new Int32Array(this.perception);
    for (let k = 0; k < kernels; k++) for (let c = 0; c < channels; c++) this.trainerRow[k * channels + c] = c * kernels + k;

    // The kernel's tap table: {k, pos, 0, w}, sorted by k, pos = the 3x3 entry (dy+1)*3 + dx+1.
    const taps: { k: number; pos: number; w: number }[] = [];
    arch.kernels.forEach((kernel, k) => {
      for (let tap = 0; tap < 9; tap++) if (kernel[tap] !== 0) taps.push({ k, pos: tap, w: kernel[tap]! });
    });
    const layout = new Layout(this.kernel.heapBase());
    const P = this.perception;
    const H = this.hidden;
    const C = channels;
    this.weightsAt = {
      taps: layout.take(16 * taps.length),
      w0: layout.take(4 * P * H),
      w0t: layout.take(4 * P * H),
      b0: layout.take(4 * H),
      w1: layout.take(4 * H * C),
      w1t: layout.take(4 * H * C),
      b1: layout.take(4 * C),
      gw0: layout.take(4 * P * H),
      gb0: layout.take(4 * H),
      gw1: layout.take(4 * H * C),
      gb1: layout.take(4 * C),
      constant: layout.take(4 * (2 * H + C)),
    };
    this.recordsFrom = layout.size;
    this.ensureMemory(layout.size);
    const view = new DataView(this.kernel.memory.buffer);
    taps.forEach(({ k, pos, w }, i) => {
      const at = this.weightsAt.taps + 16 * i;
      view.setInt32(at, k, true);
      view.setInt32(at + 4, pos, true);
      view.setFloat32(at + 12, w, true);
    });
    const at = this.weightsAt;
    this.kernel.setWeights(at.taps, at.w0, at.w0t, at.b0, at.w1, at.w1t, at.b1, at.gw0, at.gb0, at.gw1, at.gb1);
    this.taps = taps.length;
  }

  private ensureMemory(bytes: number): void {
    const memory = this.kernel.memory;
    if (bytes > 4 * 1024 ** 3) throw new RangeError(`the fused engine needs ${(bytes / 1024 ** 3).toFixed(1)} GB, more than WebAssembly's 4 GB`);
    const missing = Math.ceil((bytes - memory.buffer.byteLength) / PAGE);
    if (missing > 0) memory.grow(missing);
  }

  private f32(at: number, length: number): Float32Array {
    return new Float32Array(this.kernel.memory.buffer, at, length);
  }

  /** Lays out (and grows memory for) a rollout of `cells` cells over `steps` steps. */
  private prepare(cells: number, steps: number, width: number, height: number): Buffers {
    const { channels, alphaChannel } = this.arch;
    const first = this.arch.layers[0]!;
    const second = this.arch.layers[1]!;
    this.kernel.configure(
      channels,
      this.perception,
      this.hidden,
      alphaChannel,
      width,
      height,
      cells,
      first.activation === 'atan' ? 1 : 0,
      second.activation === 'sigmoid' ? 1 : 0,
      this.arch.update === 'replace' ? 1 : 0,
      this.arch.fireGranularity === 'cell' ? 1 : 0,
      this.arch.aliveMode === 'max-pool' ? 1 : 0,
      this.ramp ? 1 : 0,
      this.arch.aliveThreshold,
      fireBound(this.arch.fireRate),
      this.taps,
    );
    const known = this.buffers;
    if (known && known.cells === cells && known.steps >= steps) return known;
    const layout = new Layout(this.recordsFrom);
    const stateBytes = 4 * cells * channels;
    const states = layout.take(stateBytes * (steps + 1));
    const hiddenOut = layout.take(4 * cells * this.hidden * steps);
    const slope = first.activation === 'atan' ? layout.take(4 * cells * this.hidden * steps) : 0;
    const out = layout.take(stateBytes * steps);
    const ran = layout.take(cells * steps);
    const alive = layout.take(cells * steps);
    const dp = layout.take(4 * cells * this.perception);
    const scratch = layout.take(this.kernel.scratchBytes(channels, this.perception, this.hidden));
    const occupied = layout.take(cells);
    const list = layout.take(4 * cells);
    const gradA = layout.take(stateBytes);
    const gradB = layout.take(stateBytes);
    this.ensureMemory(layout.size);
    this.kernel.setRecords(states, hiddenOut, slope, out, ran, alive, dp, scratch);
    this.kernel.setConstant(this.weightsAt.constant, occupied, list);
    this.buffers = { cells, steps, states, gradA, gradB };
    return this.buffers;
  }

  /** Bytes a rollout of `cells` cells over `steps` steps keeps (for memory planning). */
  static recordBytes(arch: Architecture, cells: number, steps: number): number {
    const hidden = arch.layers[0]!.outputs;
    const slope = arch.layers[0]!.activation === 'atan' ? hidden : 0;
    return cells * steps * (4 * (2 * arch.channels + hidden + slope) + 2);
  }

  /** Writes the trainer-layout weights ([W0, b0, W1, b1]) into the kernel's buffers. */
  private loadWeights(weights: readonly Float32Array[]): void {
    const [w0, b0, w1, b1] = weights;
    const P = this.perception;
    const H = this.hidden;
    const C = this.arch.channels;
    if (!w0 || !b0 || !w1 || !b1 || w0.length !== P * H || b0.length !== H || w1.length !== H * C || b1.length !== C) {
      throw new RangeError(`expected weights [${P}x${H}, ${H}, ${H}x${C}, ${C}], got [${weights.map((w) => w.length).join(', ')}]`);
    }
    const at = this.weightsAt;
    const kw0 = this.f32(at.w0, P * H);
    const kw0t = this.f32(at.w0t, P * H);
    for (let i = 0; i < P; i++) {
      const row = this.trainerRow[i]!;
      kw0.set(w0.subarray(row * H, (row + 1) * H), i * H);
      for (let j = 0; j < H; j++) kw0t[j * P + i] = w0[row * H + j]!;
    }
    this.f32(at.b0, H).set(b0);
    this.f32(at.w1, H * C).set(w1);
    const kw1t = this.f32(at.w1t, H * C);
    for (let j = 0; j < H; j++) for (let c = 0; c < C; c++) kw1t[c * H + j] = w1[j * C + c]!;
    this.f32(at.b1, C).set(b1);
    for (const [ptr, length] of [
      [at.gw0, P * H],
      [at.gb0, H],
      [at.gw1, H * C],
      [at.gb1, C],
    ] as const) {
      this.f32(ptr, length).fill(0);
    }
  }

  private readGradients(): Float32Array[] {
    const at = this.weightsAt;
    const P = this.perception;
    const H = this.hidden;
    const C = this.arch.channels;
    const internal = this.f32(at.gw0, P * H);
    const gw0 = new Float32Array(P * H);
    for (let i = 0; i < P; i++) gw0.set(internal.subarray(i * H, (i + 1) * H), this.trainerRow[i]! * H);
    return [gw0, this.f32(at.gb0, H).slice(), this.f32(at.gw1, H * C).slice(), this.f32(at.gb1, C).slice()];
  }

  /**
   * Forward only, for inference (the held-in check's screen): `steps` steps of one grid's
   * `state` ([height, width, channels], changed in place), step t drawing its fire mask from
   * `stepKey(maskSeed, firstStep + t)`. The kernel keeps every step's records for the backward
   * pass, so a long run goes in chunks of FORWARD_CHUNK steps, each starting from the last one's
   * end: memory stays that of a short rollout whatever the length.
   */
  advance(state: Float32Array, width: number, height: number, weights: readonly Float32Array[], maskSeed: number, firstStep: number, steps: number): void {
    const cells = width * height;
    const stateSize = cells * this.arch.channels;
    if (state.length !== stateSize) throw new RangeError(`state has ${state.length} values, expected ${stateSize}`);
    if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`steps must be a non-negative integer, got ${steps}`);
    for (let done = 0; done < steps; ) {
      const chunk = Math.min(FORWARD_CHUNK, steps - done);
      const buffers = this.prepare(cells, chunk, width, height);
      this.loadWeights(weights);
      this.kernel.prepareConstant();
      this.f32(buffers.states, stateSize).set(state);
      for (let t = 0; t < chunk; t++) this.kernel.forwardStep(t, stepKey(maskSeed, firstStep + done + t), 0);
      state.set(this.f32(buffers.states + 4 * chunk * stateSize, stateSize));
      done += chunk;
    }
  }

  /** Forward through the rollout, then back-propagation through time. */
  run(rollout: FusedRollout, weights: readonly Float32Array[]): FusedResult {
    const { batch, height, width, steps, target } = rollout;
    const { channels, alphaChannel } = this.arch;
    if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`a rollout needs at least 1 step, got ${steps}`);
    const plane = height * width;
    const cells = batch * plane;
    if (rollout.start.length !== cells * channels) throw new RangeError(`start has ${rollout.start.length} values, expected ${cells * channels}`);
    const rgba = alphaChannel + 1;
    if (target.length !== plane * rgba) throw new RangeError(`target has ${target.length} values, expected ${plane * rgba}`);
    const buffers = this.prepare(cells, steps, width, height);
    this.loadWeights(weights);
    this.kernel.prepareConstant();
    const stateSize = cells * channels;
    const stateAt = (t: number): Float32Array => this.f32(buffers.states + 4 * t * stateSize, stateSize);
    const keys = Array.from({ length: steps }, (_, t) => stepKey(rollout.maskSeed, t));
    const lossSteps = Math.max(1, Math.min(rollout.lossSteps, steps));
    const firstLossState = steps - lossSteps + 1;
    const scale = 2 / (lossSteps * rollout.lossBatch * plane * rgba);

    const start = stateAt(0);
    start.set(rollout.start);
    if (rollout.poison) start.fill(NaN);
    const perSample = new Float32Array(batch);
    const lossWeight = rollout.weights;
    const addLoss = (state: Float32Array): void => {
      for (let b = 0; b < batch; b++) {
        let sum = 0;
        for (let i = 0; i < plane; i++) {
          const cell = (b * plane + i) * channels;
          for (let c = 0; c < rgba; c++) sum += (lossWeight ? lossWeight[i * rgba + c]! : 1) * (state[cell + c]! - target[i * rgba + c]!) ** 2;
        }
        perSample[b] = perSample[b]! + sum / (plane * rgba) / lossSteps;
      }
    };
    // dL/d state from the loss at one state, added into `grad`.
    const addLossGradient = (state: Float32Array, grad: Float32Array): void => {
      for (let n = 0; n < cells; n++) {
        const i = n % plane;
        for (let c = 0; c < rgba; c++) {
          const w = lossWeight ? lossWeight[i * rgba + c]! : 1;
          grad[n * channels + c] = grad[n * channels + c]! + scale * w * (state[n * channels + c]! - target[i * rgba + c]!);
        }
      }
    };
    const damage = rollout.damage && rollout.damage.step > 0 && rollout.damage.step < steps ? rollout.damage : undefined;
    let undamaged: Float32Array | undefined;
    for (let t = 0; t < steps; t++) {
      if (damage && damage.step === t) {
        const state = stateAt(t);
        // NOTE: the loss (and its gradient) of state t is taken before the bite.
        if (t >= firstLossState) undamaged = state.slice();
        scaleCells(state, damage.keep, channels);
      }
      this.kernel.forwardStep(t, keys[t]!, rollout.cellOffset);
      if (t + 1 >= firstLossState) addLoss(stateAt(t + 1));
    }
    const final = stateAt(steps).slice();

    let gradNext = buffers.gradA;
    let gradState = buffers.gradB;
    const initial = this.f32(gradNext, stateSize);
    initial.fill(0);
    addLossGradient(stateAt(steps), initial);
    for (let t = steps - 1; t >= 0; t--) {
      this.kernel.backwardStep(t, keys[t]!, rollout.cellOffset, gradNext, gradState, t > 0 ? 1 : 0);
      if (t === 0) break;
      const grad = this.f32(gradState, stateSize);
      if (damage && damage.step === t) {
        scaleCells(grad, damage.keep, channels);
      }
      if (t >= firstLossState) addLossGradient(damage?.step === t && undamaged ? undamaged : stateAt(t), grad);
      [gradNext, gradState] = [gradState, gradNext];
    }
    return { perSample, final, gradients: this.readGradients() };
  }
}
