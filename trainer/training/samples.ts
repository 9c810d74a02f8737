/**
 * Start states of the three tasks and their perturbations (noise, truncation, bites), drawn
 * from the run's RNG on plain Float32Arrays.
 */
import type { Architecture, Task } from '../../runtime/format/types.js';
import { damageDisc, plantSeed, seedState, stateFromImage, type CaState } from '../../runtime/reference/index.js';
import type { Difficulty } from './curriculum.js';
import type { Rng } from './rng.js';
import type { TargetImage } from '../io/target.js';

/** Everything fixed about a run's grid: start states, the target's place, sizes. */
export class TaskSetting {
  readonly arch: Architecture;
  readonly task: Task;
  readonly width: number;
  readonly height: number;
  /** The target on the grid as a state: RGBA from the image, hidden channels 0. */
  readonly image: CaState;
  /** The seed state (growth's start). */
  readonly seed: CaState;
  /** The target's box on the grid, cell coordinates [x0, x1) x [y0, y1). */
  readonly box: { readonly x0: number; readonly y0: number; readonly x1: number; readonly y1: number };
  /** Half the target's diagonal: the unit of truncation and bite radii. */
  readonly radius: number;
  /**
   * Growth from a crop (the essay's start): the target kept within this fraction of its radius
   * around the centre, no seed; 0: growth from the seed.
   */
  readonly crop: number;
  /** With a crop: the cropped target as an RGBA image (the model's embedded start). */
  readonly cropImage: Uint8Array | undefined;
  private readonly cropState: CaState | undefined;

  constructor(
    arch: Architecture,
    task: Task,
    target: Pick<TargetImage, 'width' | 'height' | 'rgba'>,
    width: number,
    height: number,
    crop = 0,
    /** `--background-weight`: the loss's weight on the alpha of cells the target leaves transparent. */
    readonly backgroundWeight = 1,
  ) {
    this.arch = arch;
    this.task = task;
    this.width = width;
    this.height = height;
    // The same call the runtime's `startState` makes for an embedded start image.
    this.image = stateFromImage(arch, width, height, target.rgba, target.width, target.height, { premultiplied: true });
    this.seed = seedState(arch, width, height);
    const x0 = Math.floor((width - target.width) / 2);
    const y0 = Math.floor((height - target.height) / 2);
    this.box = { x0, y0, x1: x0 + target.width, y1: y0 + target.height };
    this.radius = Math.hypot(target.width, target.height) / 2;
    this.crop = task === 'growth' ? crop : 0;
    if (this.crop > 0) {
      // Pixels whose grid cell lies outside the crop disc are cleared, so the runtime's
      // stateFromImage of this image is exactly the training's hardest start.
      // Uint8Array.from copies; a Buffer's slice() (a decoded model's start, say) would be a view.
      const rgba = Uint8Array.from(target.rgba);
      const limit = (this.crop * this.radius) ** 2;
      for (let py = 0; py < target.height; py++) {
        for (let px = 0; px < target.width; px++) {
          const gx = x0 + px;
          const gy = y0 + py;
          if ((gx + 0.5 - width / 2) ** 2 + (gy + 0.5 - height / 2) ** 2 < limit) continue;
          rgba.fill(0, (py * target.width + px) * 4, (py * target.width + px + 1) * 4);
        }
      }
      this.cropImage = rgba;
      this.cropState = stateFromImage(arch, width, height, rgba, target.width, target.height, { premultiplied: true });
    }
  }

  get cellValues(): number {
    return this.width * this.height * this.arch.channels;
  }

  /** The model's unperturbed start: the seed or the crop (growth), or the target image. */
  get modelStart(): CaState {
    return this.task === 'growth' ? (this.cropState ?? this.seed) : this.image;
  }

  private state(data: Float32Array): CaState {
    return { width: this.width, height: this.height, channels: this.arch.channels, data };
  }

  /** A fresh start for a training sample at `difficulty`. */
  start(difficulty: Difficulty, rng: Rng): Float32Array {
    let data: Float32Array;
    if (this.task === 'growth' && this.cropState) {
      // Easier levels keep more of the target; the hardest is the crop itself.
      data = new Float32Array(this.cellValues);
      this.copyTargetWithin(data, Math.max(difficulty.truncation, this.crop) * this.radius, false);
    } else if (this.task === 'growth') {
      data = this.seed.data.slice();
      if (difficulty.truncation > 0) this.copyTargetWithin(data, difficulty.truncation * this.radius);
    } else {
      data = this.image.data.slice();
    }
    for (let i = 0; i < difficulty.bites; i++) this.bite(data, difficulty.biteRadius, rng);
    if (difficulty.noise > 0) this.addNoise(data, difficulty.noise, rng);
    return data;
  }

  /** Growth's easier starts: the target's cells within `radius` of the centre, plus the seed. */
  private copyTargetWithin(data: Float32Array, radius: number, seed = true): void {
    const { width, height } = this;
    const channels = this.arch.channels;
    const cx = width / 2;
    const cy = height / 2;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 >= radius * radius) continue;
        const base = (y * width + x) * channels;
        data.set(this.image.data.subarray(base, base + channels), base);
      }
    }
    if (seed) plantSeed(this.state(data), this.arch, Math.floor(width / 2), Math.floor(height / 2));
  }

  /** Cuts a disc of `fraction` x radius at a uniform position over the target's box. */
  bite(data: Float32Array, fraction: number, rng: Rng): void {
    const { x0, y0, x1, y1 } = this.box;
    const cx = rng.range(x0, x1);
    const cy = rng.range(y0, y1);
    damageDisc(this.state(data), cx, cy, fraction * this.radius);
  }

  /** Gaussian noise of standard deviation `std` on every channel of the living cells. */
  addNoise(data: Float32Array, std: number, rng: Rng): void {
    const channels = this.arch.channels;
    const alpha = this.arch.alphaChannel;
    for (let base = 0; base < data.length; base += channels) {
      if (!(data[base + alpha]! > 0)) continue;
      for (let c = 0; c < channels; c++) data[base + c] = data[base + c]! + std * rng.normal();
    }
  }

  /** A keep mask (1 = untouched, 0 = bitten) of one cell per value, W*H, with one disc cut. */
  keepMask(fraction: number, rng: Rng): Float32Array {
    const keep: CaState = { width: this.width, height: this.height, channels: 1, data: new Float32Array(this.width * this.height).fill(1) };
    const { x0, y0, x1, y1 } = this.box;
    damageDisc(keep, rng.range(x0, x1), rng.range(y0, y1), fraction * this.radius);
    return keep.data;
  }

  /** The (weighted, see loss-weights.ts) mean squared RGBA error of one sample against the target, as the training loss. */
  loss(data: Float32Array): number {
    const channels = this.arch.channels;
    const rgba = this.arch.alphaChannel + 1;
    const target = this.image.data;
    let sum = 0;
    const alpha = rgba - 1;
    for (let base = 0; base < data.length; base += channels) {
      for (let c = 0; c < rgba; c++) {
        const weight = c === alpha && target[base + alpha] === 0 ? this.backgroundWeight : 1;
        sum += weight * (data[base + c]! - target[base + c]!) ** 2;
      }
    }
    return sum / ((data.length / channels) * rgba);
  }

  /** The loss of an empty grid: the scale the curriculum threshold is relative to. */
  get trivialLoss(): number {
    return this.loss(new Float32Array(this.cellValues));
  }
}
