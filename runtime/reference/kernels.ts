import type { Architecture } from '../format/types.js';

/** Kernel entry at row dy+1, column dx+1 (row-major [dy+1][dx+1]). */
function at(kernel: Float32Array, row: number, column: number): number {
  return kernel[row * 3 + column] ?? 0;
}

/** K[r][2-c] === -K[r][c] for every entry (so the middle column is zero), like sobel_x. */
function isAntisymmetricInX(kernel: Float32Array): boolean {
  for (let row = 0; row < 3; row++) {
    for (let column = 0; column < 3; column++) {
      if (at(kernel, row, 2 - column) !== -at(kernel, row, column)) return false;
    }
  }
  return true;
}

function isTransposeOf(candidate: Float32Array, kernel: Float32Array): boolean {
  for (let row = 0; row < 3; row++) {
    for (let column = 0; column < 3; column++) {
      if (at(candidate, row, column) !== at(kernel, column, row)) return false;
    }
  }
  return true;
}

/**
 * The gradient pairs among `kernels`: consecutive kernels (k, k+1) where K_k is antisymmetric
 * under x-mirroring (`K[r][2-c] = -K[r][c]`, as sobel_x) and K_{k+1} is exactly its transpose (as
 * sobel_y). Pairs are found left to right and do not overlap. Distill's kernels
 * [identity, sobel_x/8, sobel_y/8] give [[1, 2]]; the essay's single `sobel_x + sobel_y` kernel
 * gives none, so rotation does not affect the essay's rule.
 */
export function gradientPairs(kernels: readonly Float32Array[]): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  let k = 0;
  while (k + 1 < kernels.length) {
    const first = kernels[k];
    const second = kernels[k + 1];
    if (first && second && isAntisymmetricInX(first) && isTransposeOf(second, first)) {
      pairs.push([k, k + 1]);
      k += 2;
    } else {
      k += 1;
    }
  }
  return pairs;
}

/**
 * The kernels a step actually applies: copies of `arch.kernels`, with every gradient pair
 * (kx, ky) rotated by `rotation` radians as in Distill's demo:
 * `kx' = cos θ·kx − sin θ·ky`, `ky' = sin θ·kx + cos θ·ky`, computed in doubles and stored as
 * float32. Other kernels are unchanged; a rotation of 0 or undefined returns the stored kernels.
 * @throws RangeError for a non-finite rotation.
 */
export function perceptionKernels(arch: Architecture, rotation?: number): Float32Array[] {
  const kernels = arch.kernels.map((kernel) => Float32Array.from(kernel));
  if (rotation === undefined || rotation === 0) return kernels;
  if (!Number.isFinite(rotation)) throw new RangeError(`rotation must be finite, got ${rotation}`);
  const cos = Math.cos(rotation);
  const sin = Math.sin(rotation);
  for (const [ix, iy] of gradientPairs(arch.kernels)) {
    const kx = arch.kernels[ix];
    const ky = arch.kernels[iy];
    const rx = kernels[ix];
    const ry = kernels[iy];
    if (!kx || !ky || !rx || !ry) continue;
    for (let i = 0; i < 9; i++) {
      const x = kx[i] ?? 0;
      const y = ky[i] ?? 0;
      rx[i] = cos * x - sin * y;
      ry[i] = sin * x + cos * y;
    }
  }
  return kernels;
}
