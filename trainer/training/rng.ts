/**
 * The trainer's only source of randomness: xoshiro128** (Blackman & Vigna), 128 bits of state
 * that a checkpoint stores, so `--resume` continues the very same stream. Fire masks, noise,
 * damage positions and pool draws all come from here and are fed to TensorFlow.js as tensors;
 * tf.random* (hidden global state) is never used.
 */

/** The four 32-bit words of a generator's state, as stored in a checkpoint. */
export type RngState = readonly [number, number, number, number];

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** splitmix32: spreads a small integer seed over the 128-bit state (never all zero). */
function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(state: RngState) {
    [this.s0, this.s1, this.s2, this.s3] = state;
  }

  /** A generator seeded from a uint32. */
  static fromSeed(seed: number): Rng {
    const next = splitmix32(seed);
    return new Rng([next(), next(), next(), next()]);
  }

  /** A generator continuing from a saved state. */
  static fromState(state: RngState): Rng {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffff_ffff)) {
      throw new RangeError(`RNG state must be four uint32 words, got ${JSON.stringify(state)}`);
    }
    if (state.every((w) => w === 0)) throw new RangeError('RNG state must not be all zero');
    return new Rng(state);
  }

  get state(): RngState {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  /** The next uint32. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.uniform() * (hi - lo + 1));
  }

  /** Standard normal (Box-Muller; both uniforms drawn every call so the stream is stateless). */
  normal(): number {
    const u = 1 - this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /**
   * Fills `out` with 1 (probability `rate`) or 0, two draws per uint32 (16 bits each, so the
   * rate is resolved to 1/65536; 0 and 1 are exact).
   */
  bernoulli(out: Float32Array, rate: number): Float32Array {
    const threshold = Math.round(rate * 65536);
    let i = 0;
    for (; i + 1 < out.length; i += 2) {
      const bits = this.nextUint32();
      out[i] = (bits & 0xffff) < threshold ? 1 : 0;
      out[i + 1] = bits >>> 16 < threshold ? 1 : 0;
    }
    if (i < out.length) out[i] = (this.nextUint32() & 0xffff) < threshold ? 1 : 0;
    return out;
  }

  /** Fisher-Yates sample of `count` distinct integers from [0, n). */
  sample(n: number, count: number): number[] {
    const indices = Array.from({ length: n }, (_, i) => i);
    const take = Math.min(count, n);
    for (let i = 0; i < take; i++) {
      const j = i + Math.floor(this.uniform() * (n - i));
      [indices[i], indices[j]] = [indices[j]!, indices[i]!];
    }
    return indices.slice(0, take);
  }
}
