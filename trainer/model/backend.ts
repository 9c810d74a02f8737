/**
 * TensorFlow.js backends for training, tried in order of speed like onnxruntime-web's registry:
 * the first that initialises wins and every other one is kept with the reason it was skipped.
 * tfjs-node and tfjs-node-gpu are optional peer dependencies (their install downloads
 * libtensorflow), so they are loaded with a dynamic `import()` and their absence is a reason,
 * not an error.
 */
import * as tf from '@tensorflow/tfjs-core';
import { TrainerError } from '../errors.js';

export type TrainBackend = 'cuda' | 'native' | 'wasm' | 'cpu';
export type TrainBackendRequest = TrainBackend | 'auto';

export const TRAIN_BACKENDS: readonly TrainBackend[] = ['cuda', 'native', 'wasm', 'cpu'];

export interface SkippedTrainBackend {
  readonly backend: TrainBackend;
  readonly reason: string;
}

export interface TrainBackendSelection {
  readonly chosen: TrainBackend;
  /** The tfjs backend name that `tf.getBackend()` reports ('tensorflow', 'wasm', 'cpu'). */
  readonly tfBackend: string;
  readonly skipped: readonly SkippedTrainBackend[];
}

/** The npm package behind each backend, named in skip reasons. */
const PACKAGES: Readonly<Record<TrainBackend, string>> = {
  cuda: '@tensorflow/tfjs-node-gpu',
  native: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return 'not installed';
    return error.message.split('\n')[0] ?? error.message;
  }
  return String(error);
}

/** Imports a module by a name TypeScript cannot resolve at compile time (optional peers). */
async function importOptional(name: string): Promise<unknown> {
  return import(name);
}

async function tryBackend(backend: TrainBackend): Promise<string> {
  switch (backend) {
    case 'cuda':
    case 'native': {
      await importOptional(PACKAGES[backend]);
      // NOTE: tfjs-node registers 'tensorflow' with the tfjs-core it resolves; if that is another
      // copy than ours, our engine never sees it.
      if (tf.findBackendFactory('tensorflow') === null) {
        throw new Error(`${PACKAGES[backend]} loaded, but registered its backend with another copy of @tensorflow/tfjs-core (need ${tf.version_core})`);
      }
      if (!(await tf.setBackend('tensorflow'))) throw new Error('the tensorflow backend failed to initialise');
      if (backend === 'cuda' && tf.env().getBool('IS_NODE') && !(await hasCudaDevice())) {
        throw new Error('no CUDA device visible to libtensorflow');
      }
      return 'tensorflow';
    }
    case 'wasm':
      await import('@tensorflow/tfjs-backend-wasm');
      if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
      return 'wasm';
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to initialise');
      // NOTE: the cpu backend prints a banner recommending tfjs-node on its first write; the
      // selection already says why that was skipped.
      (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
      return 'cpu';
  }
}

/** tfjs-node-gpu falls back to the CPU silently when CUDA is missing; ask the binding. */
async function hasCudaDevice(): Promise<boolean> {
  const backend = tf.backend() as unknown as { binding?: { isUsingGpuDevice?: () => boolean } };
  return backend.binding?.isUsingGpuDevice?.() ?? true;
}

/**
 * Makes `request` the active tfjs backend. `auto` tries cuda, native, wasm, cpu in that order
 * (fastest first) and records why each faster one was skipped and that slower ones were not
 * tried. An explicit request that fails throws `TrainerError('backend-unavailable')`.
 */
export async function selectBackend(request: TrainBackendRequest): Promise<TrainBackendSelection> {
  const candidates = request === 'auto' ? TRAIN_BACKENDS : [request];
  const skipped: SkippedTrainBackend[] = [];
  for (const backend of candidates) {
    try {
      const tfBackend = await tryBackend(backend);
      const rest = candidates.slice(candidates.indexOf(backend) + 1);
      for (const slower of rest) skipped.push({ backend: slower, reason: `not tried: ${backend} is faster` });
      return { chosen: backend, tfBackend, skipped };
    } catch (error) {
      skipped.push({ backend, reason: `${PACKAGES[backend]}: ${describe(error)}` });
    }
  }
  const reasons = skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
  throw new TrainerError('backend-unavailable', `no usable TensorFlow.js backend for --backend ${request} (${reasons})`);
}
