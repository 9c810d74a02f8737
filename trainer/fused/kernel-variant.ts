/**
 * Which build of the fused kernel runs. Both come from assembly/kernel.ts (build-kernel.ts):
 * `simd` (SIMD128) and `relaxed-simd` (the same with relaxed SIMD's fused multiply-add in the
 * dense layers' inner loops). Relaxed SIMD is standard WebAssembly and on by default from V8 11.4
 * (Node 22); Node 20's V8 (11.3) implements it behind `--experimental-wasm-relaxed-simd`, which a
 * running process can switch on for the modules it compiles afterwards. `NCA_KERNEL=simd` keeps
 * the plain build (and the flag untouched); `NCA_KERNEL=relaxed-simd` insists on the other.
 */
import v8 from 'node:v8';
import { KERNEL_RELAXED_WASM_BASE64, KERNEL_WASM_BASE64 } from './kernel-binary.js';

export const KERNEL_VARIANTS = ['simd', 'relaxed-simd'] as const;
export type KernelVariant = (typeof KERNEL_VARIANTS)[number];

const BASE64: Record<KernelVariant, string> = { simd: KERNEL_WASM_BASE64, 'relaxed-simd': KERNEL_RELAXED_WASM_BASE64 };
const modules = new Map<KernelVariant, WebAssembly.Module>();
let relaxedAvailable: boolean | undefined;

function bytesOf(variant: KernelVariant): Buffer<ArrayBuffer> {
  return Buffer.from(BASE64[variant], 'base64');
}

/** Whether this process can run the relaxed build, switching V8's flag on where it has to (once). */
export function relaxedSimdAvailable(): boolean {
  if (relaxedAvailable !== undefined) return relaxedAvailable;
  const bytes = bytesOf('relaxed-simd');
  relaxedAvailable = WebAssembly.validate(bytes);
  if (!relaxedAvailable) {
    try {
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
      relaxedAvailable = WebAssembly.validate(bytes);
    } catch {
      relaxedAvailable = false;
    }
  }
  return relaxedAvailable;
}

/** The build to use: NCA_KERNEL's (simd | relaxed-simd | auto), else relaxed where available. */
export function chosenKernelVariant(env: NodeJS.ProcessEnv = process.env): KernelVariant {
  const asked = env['NCA_KERNEL'] ?? 'auto';
  if (asked === 'simd') return 'simd';
  if (asked === 'relaxed-simd') {
    if (!relaxedSimdAvailable()) throw new RangeError('NCA_KERNEL=relaxed-simd: this WebAssembly engine cannot run relaxed SIMD (use simd or auto)');
    return 'relaxed-simd';
  }
  if (asked !== 'auto' && asked !== '') throw new RangeError(`NCA_KERNEL=${asked}: expected simd, relaxed-simd or auto`);
  return relaxedSimdAvailable() ? 'relaxed-simd' : 'simd';
}

/** The compiled module of one build (compiled once per thread). */
export function kernelModule(variant: KernelVariant): WebAssembly.Module {
  let module = modules.get(variant);
  if (!module) {
    if (variant === 'relaxed-simd' && !relaxedSimdAvailable()) throw new RangeError('the relaxed-simd kernel cannot run on this WebAssembly engine');
    module = new WebAssembly.Module(bytesOf(variant));
    modules.set(variant, module);
  }
  return module;
}
