/**
 * Does a model that keeps or heals its sprite also grow it from a crop? Each model (persistence or
 * healing, so its embedded start image is the whole sprite) is given the trainer's growth crop of
 * that sprite (`nca train --crop F`: the `TaskSetting` disc) as its start and scored as a growth
 * model: `nca eval`'s growth criterion (PSNR at step 200, nothing outside), plus the PSNR at
 * step 1,000, against the whole sprite, beside the crop's own PSNR (step 0): what it grew. Run
 * on the fused kernel (fire-mask stream 0), which scores within a dB of eval's reference step
 * (test/unit/fused-stepper.test.ts) in seconds.
 *
 *   node --import tsx test/bench/crop-growth.bench.ts [--models a.nca,b.nca] [--crops 0.35,0.5,0.6,0.65]
 *
 * Prints a table; no assertions (a measurement, not a test).
 */
import { parseArgs } from 'node:util';
import type { NcaModel } from '../../runtime/format/types.js';
import { startState } from '../../runtime/reference/index.js';
import { readModel } from '../../trainer/eval/index.js';
import { evaluateModel, targetFromState } from '../../trainer/eval/evaluate.js';
import { premultipliedRgba, psnr } from '../../trainer/eval/metrics.js';
import { fusedStepper } from '../../trainer/fused/stepper.js';
import { TaskSetting } from '../../trainer/training/samples.js';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'demo/models/essay-hamster-heal.nca,demo/models/essay-chick-persist.nca' },
    crops: { type: 'string', default: '0.35,0.5,0.6,0.65' },
  },
});

/** The model as a growth model that starts from the crop `crop` of its own start image. */
function fromCrop(model: NcaModel, crop: number): NcaModel {
  const { metadata } = model;
  if (metadata.start.kind !== 'image') throw new Error(`${metadata.name}: needs an embedded start image (a persistence or healing model)`);
  const sprite = metadata.start;
  const setting = new TaskSetting(model.architecture, 'growth', sprite, metadata.gridWidth, metadata.gridHeight, crop);
  if (!setting.cropImage) throw new Error(`crop ${crop}: must be above 0`);
  return { ...model, metadata: { ...metadata, task: 'growth', start: { ...sprite, rgba: setting.cropImage } } };
}

console.log('| model | crop | the crop itself | PSNR at step 200 | at 1,000 | growth verdict |');
console.log('|---|---|---|---|---|---|');
for (const path of values.models.split(',')) {
  const model = await readModel(path);
  const target = targetFromState(startState(model), model);
  for (const crop of values.crops.split(',').map(Number)) {
    const grown = fromCrop(model, crop);
    const itself = psnr(premultipliedRgba(startState(grown), grown.architecture), target.rgba);
    const result = await evaluateModel(grown, target, { steps: 200, longSteps: 1000, healSteps: 0, createStepper: fusedStepper });
    const at = (step: number): string => result.persistence.checkpoints.find((c) => c.step === step)?.psnr.toFixed(1) ?? '-';
    console.log(`| ${path} | ${crop} | ${itself.toFixed(1)} dB | ${at(200)} dB | ${at(1000)} dB | ${result.growth.verdict} |`);
  }
}
