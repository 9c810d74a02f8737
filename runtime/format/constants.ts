/** Fixed numbers of the `.nca` layout (docs/format.md). */
import type {
  Activation,
  AliveMode,
  FireGranularity,
  PerceptionOrder,
  Task,
  TensorDType,
  UpdateMode,
} from './types.js';

/** "\x89NCA\r\n\x1a\n": the high byte and CR LF / LF / ^Z catch text-mode and 7-bit damage, as in PNG. */
export const MAGIC: readonly number[] = [0x89, 0x4e, 0x43, 0x41, 0x0d, 0x0a, 0x1a, 0x0a];
export const FORMAT_VERSION = 1;
/** magic 8 + version 2 + flags 2 + total length 4 + CRC-32 4. */
export const HEADER_SIZE = 20;
/** The CRC covers everything after the header. */
export const CRC_START = HEADER_SIZE;
/** u32 type + u32 length. */
export const CHUNK_HEADER_SIZE = 8;

export const CHUNK_ARCH = 'ARCH';
export const CHUNK_LAYR = 'LAYR';
export const CHUNK_META = 'META';
export const CHUNK_STRT = 'STRT';

/** ARCH without its kernels; each kernel adds 9 f32. */
export const ARCH_FIXED_SIZE = 18;
export const KERNEL_SIZE = 9;
export const KERNEL_BYTES = KERNEL_SIZE * 4;
export const LAYR_FIXED_SIZE = 8;
/** META without the bytes of its two strings (their u16 lengths are included). */
export const META_FIXED_SIZE = 22;
export const STRT_FIXED_SIZE = 4;

export const MAX_CHANNELS = 64;
export const MAX_KERNELS = 8;
export const MAX_LAYERS = 8;
export const MAX_LAYER_WIDTH = 1024;
export const MAX_PARAMETERS = 4_194_304;
export const MAX_IMAGE_SIDE = 1024;
/** Largest grid side: META's suggested grid, and every grid the engine, element or trainer runs. */
export const MAX_GRID_SIDE = 1024;
export const MAX_NAME_BYTES = 256;
export const MAX_ATTRIBUTION_BYTES = 4096;
export const MAX_ITERATIONS = 0xffff_ffff;

/** Byte codes of each enum, index = code. */
export const ACTIVATIONS: readonly Activation[] = ['identity', 'relu', 'sigmoid', 'tanh', 'atan'];
export const DTYPES: readonly TensorDType[] = ['f32', 'f16', 'int8'];
export const PERCEPTION_ORDERS: readonly PerceptionOrder[] = ['channel-major', 'kernel-major'];
export const UPDATE_MODES: readonly UpdateMode[] = ['replace', 'residual'];
export const FIRE_GRANULARITIES: readonly FireGranularity[] = ['cell', 'element'];
export const ALIVE_MODES: readonly AliveMode[] = ['own-alpha', 'max-pool'];
export const TASKS: readonly Task[] = ['growth', 'persistence', 'healing'];
/** 0 seed cell in the centre, 1 image (a STRT chunk follows). */
export const START_KINDS: readonly ('seed' | 'image')[] = ['seed', 'image'];

/** Bytes of a stored tensor of `rows` rows and `count` values in all. */
export function tensorByteLength(dtype: TensorDType, rows: number, count: number): number {
  switch (dtype) {
    case 'f32':
      return count * 4;
    case 'f16':
      return count * 2;
    case 'int8':
      return rows * 2 + count;
  }
}
