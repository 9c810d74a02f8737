/**
 * `nca eval <model.nca>`: scores a model without a browser (growth, healing, persistence) with
 * the reference step. Exit code 0 when the model passes what its task requires, 1 when it fails,
 * 2 for a usage or input error (bad flag, unreadable or corrupt model, bad target image).
 */
import {
  DEFAULT_HEAL_STEPS,
  DEFAULT_LONG_STEPS,
  InputError,
  THRESHOLDS,
  defaultSteps,
  evaluateModel,
  formatJson,
  formatReport,
  loadGridImage,
  readModel,
  startImageTarget,
  targetFromState,
  type EvalReport,
  type EvalTarget,
} from '../eval/index.js';
import { MAX_SEED, ProgressLine, UsageError, parseInteger, parseModelCommand, printInputError } from '../eval/command-line.js';

const USAGE = `usage: nca eval <model.nca> [--target sprite.png] [--steps N] [--seed S]
                [--heal-steps K] [--long L] [--json] [--quiet]

Runs the model with the reference step and scores it against a target image:
  growth       PSNR after N steps >= ${THRESHOLDS.minPsnrDb} dB, and the state alive, finite, not overgrown
  healing      3 standard bites one after another; K steps after each, PSNR >= its value
               before the bite minus ${THRESHOLDS.healToleranceDb} dB, with >= ${THRESHOLDS.minRecoveredShare * 100}% of the dB the bite cost won back
  persistence  an undamaged run of L steps: PSNR at L >= ${THRESHOLDS.minPsnrDb} dB, never more than
               ${THRESHOLDS.maxDriftDb} dB below its best after step N, never dead, NaN or overgrown
A growth model must pass growth; persistence adds persistence; healing adds healing.

options:
  --target PATH     image to score against (PNG with alpha, or JPEG: near-white is background);
                    default: the model's embedded start image (persistence, healing;
                    a growth model's image is its crop, so growth needs --target)
  --steps N         growth steps (default ${defaultSteps('growth')} for growth models, ${defaultSteps('persistence')} otherwise)
  --seed S          fire-mask seed, 0..${MAX_SEED} (default 0)
  --heal-steps K    steps after each bite, 0 skips healing (default ${DEFAULT_HEAL_STEPS})
  --long L          length of the undamaged run, >= N, 0 skips it (default ${DEFAULT_LONG_STEPS};
                    --long 2000 for the essay's bar; the reference step takes tens of ms per step)
  --json            print one JSON object instead of the table
  --quiet           no progress on stderr
  -h, --help        show this help

exit code: 0 pass, 1 fail, 2 usage or input error`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseModelCommand('eval', USAGE, argv, {
    target: { type: 'string' },
    steps: { type: 'string' },
    seed: { type: 'string' },
    'heal-steps': { type: 'string' },
    long: { type: 'string' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, path } = parsed;

  let report: EvalReport;
  const progress = new ProgressLine('eval', !values.quiet);
  try {
    const seed = values.seed === undefined ? 0 : parseInteger('--seed', values.seed, 0, MAX_SEED);
    const healSteps = values['heal-steps'] === undefined ? DEFAULT_HEAL_STEPS : parseInteger('--heal-steps', values['heal-steps'], 0);
    const model = await readModel(path);
    const steps = values.steps === undefined ? defaultSteps(model.metadata.task) : parseInteger('--steps', values.steps, 1);
    const longSteps = values.long === undefined ? Math.max(DEFAULT_LONG_STEPS, steps) : parseInteger('--long', values.long, 0);
    if (longSteps > 0 && longSteps < steps) throw new UsageError(`--long ${longSteps} is shorter than --steps ${steps} (use 0 to skip the long run)`);

    let target: EvalTarget;
    let targetInfo: EvalReport['target'];
    if (values.target !== undefined) {
      const image = await loadGridImage(values.target, model);
      target = targetFromState(image.state, model);
      targetInfo = { source: 'file', path: values.target, width: image.width, height: image.height };
    } else {
      const embedded = startImageTarget(model);
      const start = model.metadata.start;
      if (!embedded || start.kind !== 'image') {
        throw new InputError('no-target', `'${path}' starts from a seed and embeds no image: PSNR needs --target sprite.png`);
      }
      // A growth model's embedded image is the crop it grows from, not the sprite it grows into:
      // scored against it, a model that only kept its start would pass.
      if (model.metadata.task === 'growth') {
        throw new InputError('no-target', `'${path}' is a growth model: its embedded image is its start (a crop of the sprite), not what it grows into: PSNR needs --target sprite.png`);
      }
      target = embedded;
      targetInfo = { source: 'start-image', width: start.width, height: start.height };
    }

    const result = await evaluateModel(model, target, {
      steps,
      seed,
      healSteps,
      longSteps,
      onProgress: (p) => progress.update(p.phase, p.done, p.total),
    });
    progress.finish();
    const { metadata } = model;
    report = { file: path, name: metadata.name, gridWidth: metadata.gridWidth, gridHeight: metadata.gridHeight, target: targetInfo, result };
  } catch (error) {
    progress.finish();
    if (printInputError('eval', error)) return 2;
    throw error;
  }
  console.log(values.json ? formatJson(report) : formatReport(report));
  return report.result.verdict === 'pass' ? 0 : 1;
}
