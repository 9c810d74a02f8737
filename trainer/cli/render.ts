/**
 * `nca render <model.nca> --out anim.gif|strip.png`: runs a model with the reference step and
 * writes the run as an animated GIF or a PNG strip, optionally with bites so a README can show
 * growing and healing. Exit code 0 when written, 2 for a usage, input or output error.
 */
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { startState } from '../../runtime/reference/index.js';
import { MAX_SEED, ProgressLine, UsageError, parseInteger, parseModelCommand, printInputError } from '../eval/command-line.js';
import { defaultSteps, loadGridImage, readModel, referenceStepper } from '../eval/index.js';
import { encodeGif, encodePngStrip, parseBackground, renderFrames, WHITE, type Background, type Damage } from '../render/index.js';

const DEFAULT_SCALE = 4;
const DEFAULT_DELAY_MS = 50;
/** Without --every, frames are spaced so a run has at most about this many. */
const DEFAULT_MAX_FRAMES = 100;

const USAGE = `usage: nca render <model.nca> --out anim.gif|strip.png [--steps N] [--every K]
                  [--scale S] [--seed S] [--damage x,y,r@step ...] [--start-image img.png]
                  [--background COLOUR] [--delay MS] [--quiet]

Runs the model with the reference step from its start (a seed cell or its embedded image) and
writes a frame every K steps from step 0 to N: an animated GIF (looping; the last frame held
1 s) or, for .png, one strip of frames left to right.

options:
  --out PATH            output file; .gif or .png decides the format (required)
  --steps N             steps to run (default ${defaultSteps('growth')} for growth models, ${defaultSteps('persistence')} otherwise)
  --every K             a frame every K steps, plus step 0 and N (default: N/${DEFAULT_MAX_FRAMES} rounded up)
  --scale S             pixels per cell, nearest-neighbour, 1..64 (default ${DEFAULT_SCALE})
  --seed S              fire-mask seed, 0..${MAX_SEED} (default 0)
  --damage x,y,r@step   clear a disc (centre x,y and radius r in grid cells, as the
                        element's pointer does) after that many steps; repeatable
  --start-image PATH    start from this image instead (fitted into the model's target
                        size, centred in its grid, as nca eval's --target)
  --background COLOUR   #rgb, #rrggbb, white, black, or none to keep alpha (default white)
  --delay MS            GIF frame delay, 10..10000 ms (default ${DEFAULT_DELAY_MS})
  --quiet               no progress on stderr
  -h, --help            show this help

exit code: 0 written, 2 usage, input or output error`;

const NUMBER = String.raw`-?\d+(?:\.\d+)?`;
const DAMAGE = new RegExp(`^(${NUMBER}),(${NUMBER}),(${NUMBER})@(\\d+)$`);

/** `x,y,r@step`: decimal cell coordinates and radius, an integer step. */
export function parseDamage(text: string): Damage {
  const match = DAMAGE.exec(text.replace(/\s+/g, ''));
  if (!match) throw new UsageError(`--damage wants x,y,r@step (e.g. 36,20,8@150), got '${text}'`);
  const [x, y, radius, step] = match.slice(1, 5).map(Number) as [number, number, number, number];
  if (!(radius > 0)) throw new UsageError(`--damage radius must be > 0, got '${text}'`);
  if (!Number.isSafeInteger(step)) throw new UsageError(`--damage step is too large in '${text}'`);
  return { x, y, radius, step };
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseModelCommand('render', USAGE, argv, {
    out: { type: 'string', short: 'o' },
    steps: { type: 'string' },
    every: { type: 'string' },
    scale: { type: 'string' },
    seed: { type: 'string' },
    damage: { type: 'string', multiple: true },
    'start-image': { type: 'string' },
    background: { type: 'string' },
    delay: { type: 'string' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, path } = parsed;
  if (values.out === undefined) {
    console.error(`nca render: --out is required (anim.gif or strip.png)\n\n${USAGE}`);
    return 2;
  }
  const out = values.out;
  const progress = new ProgressLine('render', !values.quiet);
  try {
    const format = extname(out).toLowerCase();
    if (format !== '.gif' && format !== '.png') throw new UsageError(`--out must end in .gif or .png, got '${out}'`);
    const scale = values.scale === undefined ? DEFAULT_SCALE : parseInteger('--scale', values.scale, 1, 64);
    const seed = values.seed === undefined ? 0 : parseInteger('--seed', values.seed, 0, MAX_SEED);
    const delayMs = values.delay === undefined ? DEFAULT_DELAY_MS : parseInteger('--delay', values.delay, 10, 10_000);
    let background: Background = WHITE;
    if (values.background !== undefined) {
      const parsedBackground = parseBackground(values.background);
      if (parsedBackground === undefined) throw new UsageError(`--background wants #rgb, #rrggbb, white, black or none, got '${values.background}'`);
      background = parsedBackground;
    }
    const damage = (values.damage ?? []).map(parseDamage);

    const model = await readModel(path);
    const steps = values.steps === undefined ? defaultSteps(model.metadata.task) : parseInteger('--steps', values.steps, 0);
    const every = values.every === undefined ? Math.max(1, Math.ceil(steps / DEFAULT_MAX_FRAMES)) : parseInteger('--every', values.every, 1);
    for (const d of damage) {
      if (d.step > steps) throw new UsageError(`--damage at step ${d.step} is after the last step (${steps})`);
    }
    const start = values['start-image'] === undefined ? startState(model) : (await loadGridImage(values['start-image'], model)).state;

    const frames = await renderFrames(referenceStepper(model, start, seed), model.architecture, {
      steps,
      every,
      damage,
      onProgress: (done, total) => progress.update('run', done, total),
    });
    progress.finish();
    const bytes = format === '.gif' ? await encodeGif(frames, { scale, background, delayMs }) : await encodePngStrip(frames, { scale, background });
    try {
      await writeFile(out, bytes);
    } catch (error) {
      throw new UsageError(`cannot write '${out}': ${(error as Error).message}`);
    }
    const { width, height } = frames[0]!;
    if (!values.quiet) {
      console.error(`nca render: wrote ${out}: ${frames.length} frames of ${width * scale} x ${height * scale} (steps 0..${steps}, every ${every}), ${bytes.length.toLocaleString('en-US')} bytes`);
    }
  } catch (error) {
    progress.finish();
    if (error instanceof RangeError) {
      console.error(`nca render: ${error.message}`);
      return 2;
    }
    if (printInputError('render', error)) return 2;
    throw error;
  }
  return 0;
}
