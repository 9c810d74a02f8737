/**
 * `nca train --target sprite.png --task growth|persistence|healing --out sprite.nca [options]`.
 * Flags are documented in `--help` and docs/training.md. Exit codes: 0 done, 2 bad input (before
 * training starts), 3 diverged (nothing overwritten), 130 interrupted (checkpoint written),
 * 1 anything else.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadCheckpoint } from '../io/checkpoint.js';
import { baseName, DISTILL_POOL_SIZE, resolveOptions, resumedBudgetDecayShare, type TrainOptions, type TrainOptionsInput } from '../training/config.js';
import type { CurriculumOptions } from '../training/curriculum.js';
import { TrainerError } from '../errors.js';
import { createReporter } from './progress.js';
import { train, type TrainStatus } from '../training/train.js';

export const EXIT_CODES: Readonly<Record<TrainStatus | 'bad-input' | 'error', number>> = {
  completed: 0,
  error: 1,
  'bad-input': 2,
  diverged: 3,
  interrupted: 130,
};

const HELP = `usage: nca train --target <image> --task growth|persistence|healing [options]

input and output
  --target <file>          PNG with alpha, or JPEG/PNG without (near-white becomes transparent)
  --task <task>            growth (from a seed), persistence (stay stable), healing (repair bites)
  --out <file>             the .nca to write (default <name>.nca)
  --name <text>            model name in the file (default: the target's file name)
  --attribution <text>     credit stored in the file (e.g. the sprite's licence)
  --size <n>               fit the target into n x n cells, aspect kept (default 40)
  --grid <n | WxH>         grid the model runs on (default size + 32, i.e. 16 cells of margin)
  --precision <p>          f32 | f16 | int8 weights in the file (default int8)

model
  --rule <rule>            essay | distill (default: essay for persistence, distill for growth
                           and healing; essay with --preset essay or --init keep|identity)
  --channels <n>           state channels (default 16)
  --hidden <n>             hidden units (default 64 essay, 128 distill)
  --fire-rate <r>          update probability (default 0.8 essay rule, 0.5 distill)
  --alive-threshold <t>    alpha a cell needs to live (default 0.1)

training
  --preset <p>             default | essay: the reference essay's own recipe (its curriculum,
                           perturbations at step 0 only, no pool, random init, constant alive
                           gradient, growth from --crop 0.35); flags still win
  --iterations <n>         total iterations (default 2000)
  --crop <f>               growth from the target cropped to f x its radius (the essay's start,
                           embedded in the model; default 0.35); 0: from one seed cell
  --minutes <m>            training-time budget: stop at m minutes (or --iterations, the first)
                           and export the best weights so far (default: no budget)
  --batch <n>              rollouts per iteration (default 8)
  --pool                   Distill's sample pool of 1024 (same as --pool-size 1024)
  --pool-size <n>          sample pool size (default 1024 distill rule, 0 essay: no pool)
  --pool-damage <n>        pool: damage the best n samples of each batch (default 3 healing, 0 else)
  --lr <rate>              Adam learning rate (default 0.002; 0.0005 with --init identity)
  --lr-decay-at <i,j,..>   iterations where the rate is multiplied by --lr-decay (default: at
                           70% of --iterations, or of --minutes if that comes first)
  --lr-decay <f>           (default 0.1)
  --clip <norm>            clip gradients to this global norm instead of normalising each one
  --loss-steps <n>         average the loss over the last n states (default 8 persistence, 1 else)
  --background-weight <w>  weight of the alpha error where the target is transparent (default 1,
                           the plain loss); above 1 life outside the sprite costs more
  --alive-gradient <g>     ramp (default) | constant: how dead cells pass gradients (essay rule)
  --init <i>               keep (default) | identity | random: essay rule's first weights (keep =
                           persist, snapping values to 0.06 or 0.93; identity = keep every value)
  --init-from <file.nca>   start from this model's weights (same rule and channels; --hidden
                           the same or wider, the extra units starting silent): fine tuning,
                           e.g. healing from a model that persists
  --steps <min-max>        rollout length at the curriculum's last level (default per task:
                           growth 64-96, persistence 96-160, healing 64-96)
  --levels <n>             curriculum levels (default 5)
  --curriculum-threshold <f>  raise the level when the smoothed loss < f x empty-grid loss (0.1)
  --curriculum-patience <n>   ...after at least n iterations at the level (default 50)
  --diverge-factor <f>     a loss above f x the first loss is divergence (default 10)
  --check-every <n>        held-in check every n iterations: the eval's scoring with a shorter
                           long run (screened first on the fast fused kernel), shown on the
                           progress line (default 200; 0 = never)
  --check-long <n>         a passing check (persistence, healing) counts only once the undamaged
                           run holds to step n too (default 1000, nca eval's; 0 = no confirmation)
  --no-early-stop          train on after a check passes at the last curriculum level
                           (default: stop there and export)
  --max-recoveries <n>     a dead or diverged run restarts from its last healthy state with half
                           the learning rate, at most n times (default 3; 0 = stop/warn as is)
  --seed <n>               weights and every random draw (default 1)

running
  --backend <b>            auto (default) | cuda | native | wasm | cpu
  --engine <e>             auto (default) | fused | tfjs: fused = the WebAssembly SIMD kernel
                           (CPU; used by auto for the wasm and cpu backends), tfjs = the
                           TensorFlow.js step on --backend
  --threads <n>            fused engine threads, the batch split over them (default: CPU count)
  --memory <m>             auto (default) | save | recompute (tfjs engine's backward memory)
  --run-dir <dir>          checkpoints, previews, loss plot (default runs/<name>)
  --checkpoint-every <n>   (default 100)
  --preview-every <n>      preview strip and loss plot every n iterations, 0 = only at the end (200)
  --resume                 continue the run in --run-dir at its iteration, same random stream
  --json                   one JSON object per line on stdout instead of a progress bar
  -h, --help               this text
`;

export const FLAGS = {
  target: { type: 'string' },
  task: { type: 'string' },
  out: { type: 'string' },
  name: { type: 'string' },
  attribution: { type: 'string' },
  size: { type: 'string' },
  grid: { type: 'string' },
  precision: { type: 'string' },
  rule: { type: 'string' },
  channels: { type: 'string' },
  hidden: { type: 'string' },
  'fire-rate': { type: 'string' },
  'alive-threshold': { type: 'string' },
  preset: { type: 'string' },
  iterations: { type: 'string' },
  minutes: { type: 'string' },
  crop: { type: 'string' },
  batch: { type: 'string' },
  pool: { type: 'boolean' },
  'pool-size': { type: 'string' },
  'pool-damage': { type: 'string' },
  lr: { type: 'string' },
  'lr-decay-at': { type: 'string' },
  'lr-decay': { type: 'string' },
  clip: { type: 'string' },
  'loss-steps': { type: 'string' },
  'background-weight': { type: 'string' },
  'alive-gradient': { type: 'string' },
  init: { type: 'string' },
  'init-from': { type: 'string' },
  steps: { type: 'string' },
  levels: { type: 'string' },
  'curriculum-threshold': { type: 'string' },
  'curriculum-patience': { type: 'string' },
  'diverge-factor': { type: 'string' },
  'check-every': { type: 'string' },
  'check-long': { type: 'string' },
  'no-early-stop': { type: 'boolean' },
  'max-recoveries': { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  engine: { type: 'string' },
  threads: { type: 'string' },
  memory: { type: 'string' },
  'run-dir': { type: 'string' },
  'checkpoint-every': { type: 'string' },
  'preview-every': { type: 'string' },
  resume: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export type Values = ReturnType<typeof parseArgs<{ options: typeof FLAGS; strict: true; allowPositionals: false }>>['values'];

function badOption(message: string): TrainerError {
  return new TrainerError('bad-option', message);
}

function number(values: Values, flag: keyof Values): number | undefined {
  const raw = values[flag];
  if (raw === undefined || typeof raw === 'boolean') return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw badOption(`--${flag} expects a number, got ${JSON.stringify(raw)}`);
  return value;
}

function lastLevelSteps(raw: string | undefined): { min: number; max: number } | undefined {
  if (raw === undefined) return undefined;
  const match = /^(\d+)(?:-(\d+))?$/.exec(raw.trim());
  if (!match) throw badOption(`--steps expects MIN-MAX or N (e.g. 160-220), got ${JSON.stringify(raw)}`);
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : Number(match[2]);
  if (min < 1 || max < min) throw badOption(`--steps ${raw}: need 1 <= MIN <= MAX`);
  return { min, max };
}

function grid(raw: string | undefined): { gridWidth?: number; gridHeight?: number } {
  if (raw === undefined) return {};
  const match = /^(\d+)(?:x(\d+))?$/i.exec(raw.trim());
  if (!match) throw badOption(`--grid expects N or WxH (e.g. 72 or 80x64), got ${JSON.stringify(raw)}`);
  const w = Number(match[1]);
  return { gridWidth: w, gridHeight: match[2] === undefined ? w : Number(match[2]) };
}

/** Only the flags given on the command line (so a resume can tell them from the checkpoint's). */
export function explicitOptions(values: Values): Partial<TrainOptionsInput> {
  const curriculum: { -readonly [K in keyof CurriculumOptions]?: CurriculumOptions[K] } = {};
  const levels = number(values, 'levels');
  const threshold = number(values, 'curriculum-threshold');
  const patience = number(values, 'curriculum-patience');
  if (levels !== undefined) curriculum.levels = levels;
  if (threshold !== undefined) curriculum.threshold = threshold;
  if (patience !== undefined) curriculum.patience = patience;
  const decayAt = values['lr-decay-at'];
  const clip = number(values, 'clip');
  const poolSize = number(values, 'pool-size') ?? (values.pool ? DISTILL_POOL_SIZE : undefined);
  const entries: Partial<Record<keyof TrainOptionsInput, unknown>> = {
    target: values.target,
    task: values.task,
    out: values.out,
    name: values.name,
    attribution: values.attribution,
    size: number(values, 'size'),
    ...grid(values.grid),
    precision: values.precision,
    preset: values.preset as TrainOptionsInput['preset'],
    rule: values.rule,
    channels: number(values, 'channels'),
    hidden: number(values, 'hidden'),
    fireRate: number(values, 'fire-rate'),
    aliveThreshold: number(values, 'alive-threshold'),
    iterations: number(values, 'iterations'),
    minutes: number(values, 'minutes'),
    crop: number(values, 'crop'),
    batch: number(values, 'batch'),
    poolSize,
    poolDamage: number(values, 'pool-damage'),
    learningRate: number(values, 'lr'),
    decayAt: decayAt === undefined ? undefined : decayAt.split(',').filter((s) => s.trim() !== '').map((s) => {
      const at = Number(s);
      if (!Number.isInteger(at)) throw badOption(`--lr-decay-at expects iterations like 1000,3000, got ${JSON.stringify(decayAt)}`);
      return at;
    }),
    decayFactor: number(values, 'lr-decay'),
    gradients: clip === undefined ? undefined : { kind: 'clip', maxNorm: clip },
    lossSteps: number(values, 'loss-steps'),
    backgroundWeight: number(values, 'background-weight'),
    aliveGradient: values['alive-gradient'] as TrainOptionsInput['aliveGradient'],
    init: values.init as TrainOptionsInput['init'],
    initFrom: values['init-from'],
    curriculum: Object.keys(curriculum).length > 0 ? curriculum : undefined,
    lastLevelSteps: lastLevelSteps(values.steps),
    divergeFactor: number(values, 'diverge-factor'),
    checkEvery: number(values, 'check-every'),
    checkLong: number(values, 'check-long'),
    earlyStop: values['no-early-stop'] === true ? false : undefined,
    maxRecoveries: number(values, 'max-recoveries'),
    seed: number(values, 'seed'),
    backend: values.backend,
    engine: values.engine as TrainOptionsInput['engine'],
    threads: number(values, 'threads'),
    memory: values.memory,
    runDir: values['run-dir'],
    checkpointEvery: number(values, 'checkpoint-every'),
    previewEvery: number(values, 'preview-every'),
  };
  return Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined)) as Partial<TrainOptionsInput>;
}

/**
 * The options of this invocation. A new run needs --target and --task; `--resume` starts from
 * the checkpoint's options and lays the given flags over them (train() refuses the ones that
 * would change the run's identity).
 */
export async function optionsFromArgs(values: Values): Promise<TrainOptions> {
  const explicit = explicitOptions(values);
  if (!values.resume) {
    if (explicit.target === undefined) throw badOption('--target is required (the sprite to train on)');
    if (explicit.task === undefined) throw badOption('--task is required: growth, persistence or healing');
    return resolveOptions({ ...explicit, target: explicit.target, task: explicit.task });
  }
  const name = explicit.name ?? (explicit.target !== undefined ? baseName(explicit.target) : undefined);
  const runDir = explicit.runDir ?? (name !== undefined ? `runs/${name}` : undefined);
  if (runDir === undefined) throw badOption('--resume needs --run-dir (or --target / --name to derive runs/<name>)');
  const { checkpoint } = await loadCheckpoint(runDir);
  const saved = checkpoint.options;
  // NOTE: without --target the checkpoint's embedded pixels are used (the file may have moved).
  return resolveOptions({
    ...saved,
    // Checkpoints from before --crop grew from the seed; today's default would be a crop.
    crop: (saved as Partial<TrainOptions>).crop ?? 0,
    target: '',
    ...explicit,
    runDir,
    curriculum: { ...saved.curriculum, ...explicit.curriculum },
    budgetDecayShare: resumedBudgetDecayShare(saved, explicit.decayAt),
    resume: true,
  } as TrainOptionsInput);
}

/** The `nca train` command: parses flags, trains, prints, returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  let values: Values;
  try {
    values = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    console.error(`nca train: ${(error as Error).message}\n\n${HELP}`);
    return EXIT_CODES['bad-input'];
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const report = createReporter({ json: values.json === true, out: process.stdout, err: process.stderr });
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(EXIT_CODES.interrupted);
    controller.abort();
    report({ type: 'warning', message: `${signal}: finishing this iteration, then writing a checkpoint (again to quit at once)` });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const options = await optionsFromArgs(values);
    const result = await train(options, { onEvent: report, signal: controller.signal });
    return EXIT_CODES[result.status];
  } catch (error) {
    if (error instanceof TrainerError) {
      if (values.json) process.stdout.write(`${JSON.stringify({ type: 'error', code: error.code, message: error.message })}\n`);
      else console.error(`nca train: ${error.message}`);
      return EXIT_CODES['bad-input'];
    }
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
