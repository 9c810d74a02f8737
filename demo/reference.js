// Runs a model with the reference step in the browser, using only the package's public bundles.
import { decodeModel } from '../dist/format.js';
import { startState, stepOnce, toRgba } from '../dist/reference.js';

const STEPS_PER_FRAME = 1;
const params = new URLSearchParams(location.search);
const modelUrl = params.get('model') ?? 'models/lizard.nca';
const seed = Number(params.get('seed') ?? 1);
const canvas = document.getElementById('view');
const status = document.getElementById('status');

async function main() {
  const response = await fetch(modelUrl);
  if (!response.ok) throw new Error(`${modelUrl}: HTTP ${response.status}`);
  const model = decodeModel(new Uint8Array(await response.arrayBuffer()));
  const arch = model.architecture;
  let state = startState(model);
  canvas.width = state.width;
  canvas.height = state.height;
  const context = canvas.getContext('2d');
  let step = 0;
  const draw = () => context.putImageData(new ImageData(toRgba(state, arch), state.width, state.height), 0, 0);
  const frame = () => {
    for (let i = 0; i < STEPS_PER_FRAME; i += 1) {
      state = stepOnce(arch, state, { seed, step });
      step += 1;
    }
    draw();
    status.textContent = `${model.metadata.name}: step ${step}`;
    canvas.dataset.step = String(step);
    requestAnimationFrame(frame);
  };
  draw();
  requestAnimationFrame(frame);
}

main().catch((error) => {
  status.textContent = `error: ${error instanceof Error ? error.message : String(error)}`;
  canvas.dataset.error = status.textContent;
});
