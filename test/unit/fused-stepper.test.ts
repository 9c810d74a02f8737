/**
 * The fused kernel as an inference engine (trainer/fused/stepper.ts), the held-in check's screen:
 * given its own fire masks, the reference step must compute what it computes (float32 against
 * doubles), bites, resets and step indices across chunks included; with NCA-Hash-4091 masks (what
 * `nca eval` draws) the reference flips other coins, and must still land where the screen lands.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeModel } from '../../runtime/format/index.js';
import type { NcaModel } from '../../runtime/format/types.js';
import { damageDisc, startState, stepOnce, type CaState } from '../../runtime/reference/index.js';
import { evaluateModel, targetFromState } from '../../trainer/eval/evaluate.js';
import { fireMaskValues } from '../../trainer/fused/fire-mask.js';
import { FusedStepper, fusedCanRun, fusedStepper } from '../../trainer/fused/stepper.js';
import { Rng } from '../../trainer/training/rng.js';
import { randomState } from '../fixtures/trainer-models.js';

const WIDTH = 13;
const HEIGHT = 10;

async function galleryModel(file: string): Promise<NcaModel> {
  return decodeModel(await readFile(join(import.meta.dirname, '..', '..', 'demo', 'models', file)));
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let most = 0;
  for (let i = 0; i < a.length; i++) most = Math.max(most, Math.abs(a[i]! - b[i]!));
  return most;
}

describe('the fused stepper', () => {
  // Trained weights: random ones of Distill's residual rule blow the state up to ~1e9 in 40 steps,
  // where float32 against doubles differs in the thousands.
  for (const file of ['essay-dragon-persist.nca', 'lizard-heal.nca']) {
    it(`runs the reference step with the trainer's fire masks (${file}): steps in chunks, a bite, a reset`, async () => {
      const model = await galleryModel(file);
      const arch = model.architecture;
      assert.ok(fusedCanRun(model));
      const start: CaState = { width: WIDTH, height: HEIGHT, channels: arch.channels, data: randomState(Rng.fromSeed(12), WIDTH * HEIGHT, arch.channels, WIDTH) };
      const seed = 5;
      // The reference step with the fused kernel's mask of step t injected (fire-mask.ts).
      const depth = arch.fireGranularity === 'cell' ? 1 : arch.channels;
      const reference = (state: CaState, from: number, steps: number): CaState => {
        let current = state;
        for (let t = from; t < from + steps; t++) {
          const mask = fireMaskValues(seed, t, 0, WIDTH * HEIGHT, depth, arch.fireRate);
          current = stepOnce(arch, current, { seed: 0, step: 0, fireMask: (x, y, c) => mask[(y * WIDTH + x) * depth + c] === 1 });
        }
        return current;
      };
      const stepper = new FusedStepper(model, start, seed);

      // 3 + 40 steps (past one chunk of the kernel's records: step indices must run on), a bite, 9 more.
      await stepper.step(3);
      await stepper.step(40);
      const expected = reference(start, 0, 43);
      assert.ok(maxDifference((await stepper.readState()).data, expected.data) < 1e-4, 'after 43 steps');
      await stepper.damage(6.2, 4.7, 2.5);
      damageDisc(expected, 6.2, 4.7, 2.5);
      await stepper.step(9);
      const after = await stepper.readState();
      assert.ok(maxDifference(after.data, reference(expected, 43, 9).data) < 1e-4, 'after the bite');
      assert.ok(after.data.some((v) => v !== 0), 'something is alive to compare');

      await stepper.reset();
      assert.deepEqual((await stepper.readState()).data, start.data, 'reset goes back to the start');
    });
  }

  it("lands where the reference lands at the model's own fire rate (the gallery's Distill lizard, 100 steps)", async () => {
    const model = await galleryModel('lizard-heal.nca');
    const target = targetFromState(startState(model), model);
    const options = { steps: 100, longSteps: 100, healSteps: 0 };
    const fused = await evaluateModel(model, target, { ...options, createStepper: fusedStepper });
    const reference = await evaluateModel(model, target, options);
    const [f, r] = [fused.growth.snapshot, reference.growth.snapshot];
    assert.equal(fused.verdict, reference.verdict);
    assert.ok(Math.abs(f.psnr - r.psnr) < 1, `fused ${f.psnr.toFixed(2)} dB, reference ${r.psnr.toFixed(2)} dB`);
    assert.ok(r.psnr > 25, 'a model that holds its sprite, so the comparison means something');
  });
});
