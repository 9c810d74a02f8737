/**
 * Row gather and scatter for [rows, width] float32 matrices, so the dense layers run only on the
 * cells that matter (fired and alive). tfjs's own `gather` on wasm is a slow generic loop (~75 ms
 * for 20k x 128); these are one memcpy-like `TypedArray.set` per row on the backend's memory,
 * registered as kernels for 'wasm' and 'cpu' (as the project notes suggest). Other backends
 * (tfjs-node) use tf.gather / tf.scatterND, which are native there.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

const GATHER = 'NcaGatherRows';
const SCATTER = 'NcaScatterRows';

interface RowAttrs {
  readonly rows: Int32Array;
  /** Scatter only: the row count of the output. */
  readonly total?: number;
}

/** Copies rows `rows[i]` of `src` (width values each) to row i of `dst`, or the reverse. */
function copyRows(src: Float32Array, dst: Float32Array, rows: Int32Array, width: number, scatter: boolean): void {
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]! * width;
    if (scatter) dst.set(src.subarray(i * width, (i + 1) * width), row);
    else dst.set(src.subarray(row, row + width), i * width);
  }
}

function outputShape(x: tf.TensorInfo, attrs: RowAttrs, scatter: boolean): [number, number] {
  return [scatter ? attrs.total! : attrs.rows.length, x.shape[1]!];
}

function register(): void {
  for (const scatter of [false, true]) {
    const kernelName = scatter ? SCATTER : GATHER;
    if (!tf.getKernel(kernelName, 'wasm')) {
      tf.registerKernel({
        kernelName,
        backendName: 'wasm',
        kernelFunc: ({ inputs, backend, attrs }) => {
          const wasm = backend as unknown as BackendWasm;
          const x = inputs['x']!;
          const rowAttrs = attrs as unknown as RowAttrs;
          const shape = outputShape(x, rowAttrs, scatter);
          const out = wasm.makeOutput(shape, 'float32');
          if (shape[0] * shape[1] === 0) return out;
          // NOTE: views taken after makeOutput, which may grow (and so detach) the heap.
          const dst = wasm.typedArrayFromHeap(out) as Float32Array;
          if (scatter) dst.fill(0);
          copyRows(wasm.typedArrayFromHeap(x) as Float32Array, dst, rowAttrs.rows, shape[1], scatter);
          return out;
        },
      });
    }
    if (!tf.getKernel(kernelName, 'cpu')) {
      tf.registerKernel({
        kernelName,
        backendName: 'cpu',
        kernelFunc: ({ inputs, backend, attrs }) => {
          const cpu = backend as unknown as MathBackendCPU;
          const x = inputs['x']!;
          const rowAttrs = attrs as unknown as RowAttrs;
          const shape = outputShape(x, rowAttrs, scatter);
          const dst = new Float32Array(shape[0] * shape[1]);
          copyRows(cpu.data.get(x.dataId)!.values as Float32Array, dst, rowAttrs.rows, shape[1], scatter);
          return cpu.makeTensorInfo(shape, 'float32', dst);
        },
      });
    }
  }
}

let registered = false;

function hasKernel(name: string): boolean {
  if (!registered) {
    register();
    registered = true;
  }
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** Rows `rows` of `x` [R, W], in that order: [rows.length, W]. */
export function gatherRows(x: tf.Tensor2D, rows: Int32Array): tf.Tensor2D {
  if (hasKernel(GATHER)) return tf.engine().runKernel(GATHER, { x }, { rows } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
  return tf.tidy(() => tf.gather(x, tf.tensor1d(rows, 'int32')));
}

/** A [total, W] matrix of zeros with row i of `x` at row `rows[i]` (rows distinct). */
export function scatterRows(x: tf.Tensor2D, rows: Int32Array, total: number): tf.Tensor2D {
  if (hasKernel(SCATTER)) return tf.engine().runKernel(SCATTER, { x }, { rows, total } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
  return tf.tidy(() => tf.scatterND(tf.tensor2d(rows, [rows.length, 1], 'int32'), x, [total, x.shape[1]]));
}

/** Indices i where `flags[i]` (and `also[i]`, if given) is non-zero. */
export function rowsWhere(flags: ArrayLike<number>, also?: ArrayLike<number>): Int32Array {
  const rows = new Int32Array(flags.length);
  let count = 0;
  for (let i = 0; i < flags.length; i++) if (flags[i] !== 0 && (also === undefined || also[i] !== 0)) rows[count++] = i;
  return rows.subarray(0, count);
}
