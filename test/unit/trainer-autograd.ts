/**
 * Registers tfjs-core's built-in gradients for the autograd reference in trainer-step.test.ts.
 *
 * NOTE: tfjs-core's Node bundle has no gradients; they ship only as ESM files with extension-less
 * imports (`./gradients/Abs_grad`), which Node's ESM loader refuses. A resolve hook scoped to
 * tfjs-core's dist folder adds the `.js` (or `/index.js`). The gradient registry and engine are
 * process globals in tfjs, so gradients registered from those modules serve the bundle too.
 */
import { register } from 'node:module';

const HOOK = `
export async function resolve(specifier, context, next) {
  const inTfjsCore = context.parentURL !== undefined && context.parentURL.includes('/@tensorflow/tfjs-core/dist/');
  if (inTfjsCore && specifier.startsWith('.') && !specifier.endsWith('.js')) {
    try {
      return await next(specifier + '.js', context);
    } catch {
      return next(specifier + '/index.js', context);
    }
  }
  return next(specifier, context);
}`;

let registered: Promise<unknown> | undefined;

export function registerTfjsGradients(): Promise<unknown> {
  if (!registered) {
    register(`data:text/javascript,${encodeURIComponent(HOOK)}`);
    registered = import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  }
  return registered;
}
