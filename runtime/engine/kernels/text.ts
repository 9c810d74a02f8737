/**
 * Pieces of kernel source text shared by every formulation: float literals, activations and the
 * fire hash. Kernels are generated as text so every size is a literal (gpu.js silently cuts loops
 * with a variable bound at `loopMaxIterations`) and a minifier never renames what gpu.js parses.
 */
import type { Activation } from '../../format/types.js';

/** The fire-mask hash's modulus (docs/format.md, NCA-Hash-4091). */
const P = 4091;

/** Lane offsets of a vec4 (and the vec4 formulation's four outputs per thread). */
export const U = [0, 1, 2, 3] as const;

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
export function activate(act: Activation, v: string, inlineAtan: boolean): string {
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
