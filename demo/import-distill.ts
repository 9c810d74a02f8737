/**
 * `npm run import:distill`: converts the Distill "Growing NCA" article's published models
 * (`nca import distill`), scores them with `nca eval`, scores the trained gallery models the same
 * way for comparison, and publishes the chosen reference models to the demo gallery.
 *
 *   --models DIR        the article's JSON files (default ../shared/distill-models)
 *   --only STEM[,STEM]  just these files (e.g. ex3_1f98e)
 *   --fresh             evaluate again even where runs/distill/ holds a result
 *   --no-publish        do not touch demo/ and docs/
 *
 * Targets. The article trained on the Noto Color Emoji of 2020, drawn differently from the
 * Noto sprites in demo/sprites (its lizard faces up-left on a diagonal; ours has red spots),
 * so a PSNR against our sprite measures the drawing, not the model. Each model is therefore
 * scored against its own grown image: its state after GROWN_STEPS steps with fire-mask seed
 * GROWN_SEED (eval uses seed 0), the 40x40 target box cut out (`nca render`, then a crop). Where
 * demo/sprites has the same emoji, the healing models are scored against the sprite too.
 *
 * Everything lands in runs/distill/ (ignored by git): the .nca files, the grown images, every
 * eval's JSON and results.json; published: demo/models/<reference>.nca, its fallback GIF,
 * the reference entries of demo/models/gallery.json, demo/models/comparison.json and
 * docs/gallery.md.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { writeGalleryDoc, type Comparison, type ComparisonRow } from './gallery-doc.js';

const GROWN_STEPS = 200;
const GROWN_SEED = 1;
const LONG_STEPS = 2000;
const OUT = join('runs', 'distill');
/** Emoji of the article's set that demo/sprites also has (see demo/sprites/NOTICE). */
const SPRITES: Readonly<Record<string, string>> = { '1f98e': 'lizard.png', '1f98b': 'butterfly.png' };

/**
 * Reference models shown in the gallery: the article's regenerating lizard (the one its figures
 * show), and the lady beetle, which passes every criterion of our eval. Their fallback GIF shows
 * the eval's first bite at step 100.
 */
const REFERENCES = [
  { stem: 'ex3_1f98e', file: 'distill-lizard.nca' },
  { stem: 'ex3_1f41e', file: 'distill-beetle.nca' },
] as const;

/** Our trained gallery models, scored with the same eval for docs/training.md's comparison. */
const TRAINED = [
  { file: 'lizard-heal.nca', sprite: 'lizard.png' },
  { file: 'mushroom-distill.nca', sprite: 'mushroom.png' },
  { file: 'dragon-persist.nca', sprite: 'dragon.png' },
  { file: 'chick-grow.nca', sprite: 'chick.png' },
] as const;

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
};
const modelsDir = flag('--models') ?? join('..', 'shared', 'distill-models');
const only = flag('--only')?.split(',');
const fresh = argv.includes('--fresh');
const publish = !argv.includes('--no-publish');

function nca(args: readonly string[]): { status: number; stdout: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'trainer/cli/main.ts', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status ?? 1, stdout: result.stdout ?? '' };
}

const shellQuote = (arg: string): string => (/^[\w./,=@-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`);
const command = (args: readonly string[]): string => `npm run nca -- ${args.map(shellQuote).join(' ')}`;

interface EvalJson {
  readonly verdict: string;
  readonly steps: number;
  readonly growth: { verdict: string; psnr: number | null; health: string };
  readonly healing: { verdict: string; bites: ReadonlyArray<{ x: number; y: number; radius: number; before: number | null; bitten: number | null; after: number | null }> };
  readonly persistence: { verdict: string; drift: number | null; checkpoints: ReadonlyArray<{ step: number; psnr: number | null; health: string }> };
}

/** Runs `nca eval` (or reuses its saved JSON) and returns the report and the command. */
function evaluate(model: string, target: string, extra: readonly string[], saveAs: string): { report: EvalJson; command: string } {
  const args = ['eval', model, '--target', target, ...extra, '--json', '--quiet'];
  if (fresh || !existsSync(saveAs)) {
    console.error(`distill: ${command(args)}`);
    const result = nca(args);
    if (result.status > 1) throw new Error(`nca eval ${model} could not run`);
    writeFileSync(saveAs, result.stdout);
  }
  return { report: JSON.parse(readFileSync(saveAs, 'utf8')) as EvalJson, command: command(args) };
}

/** The model's own grown image: its state after GROWN_STEPS steps (seed GROWN_SEED), the 40x40 target box. */
async function grownImage(model: string, stem: string): Promise<string> {
  const target = join(OUT, `${stem}.grown.png`);
  if (!fresh && existsSync(target)) return target;
  const strip = join(OUT, `${stem}.grown-strip.png`);
  const args = ['render', model, '--steps', String(GROWN_STEPS), '--every', String(GROWN_STEPS), '--scale', '1', '--seed', String(GROWN_SEED), '--background', 'none', '--out', strip, '--quiet'];
  if (nca(args).status !== 0) throw new Error(`nca render ${model} failed`);
  // The strip holds step 0 and step GROWN_STEPS side by side, 72 x 72 each; the target box is (16, 16, 40, 40).
  await sharp(strip).extract({ left: 72 + 16, top: 16, width: 40, height: 40 }).png().toFile(target);
  return target;
}

const round2 = (v: number | null | undefined): number | null => (v === null || v === undefined || !Number.isFinite(v) ? null : Math.round(v * 100) / 100);
const mean = (values: ReadonlyArray<number | null>): number | null => {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return finite.length === values.length && finite.length > 0 ? finite.reduce((a, b) => a + b, 0) / finite.length : null;
};

/** One row of the tables from an eval report. */
function row(model: string, name: string, target: string, report: EvalJson, evalCommand: string): ComparisonRow {
  const bites = report.healing.bites;
  const lost = bites.map((b) => (b.before === null || b.after === null ? null : b.before - b.after));
  const regained = bites.map((b) => (b.before === null || b.after === null || b.bitten === null || b.before === b.bitten ? null : (b.after - b.bitten) / (b.before - b.bitten)));
  const last = report.persistence.checkpoints.at(-1);
  return {
    model,
    name,
    target,
    growthSteps: report.steps,
    growthPsnr: round2(report.growth.psnr),
    growthHealth: report.growth.health,
    lostPerBite: bites.length === 0 ? null : round2(mean(lost)),
    firstBiteLost: round2(lost[0]),
    regained: bites.length === 0 ? null : round2(mean(regained)),
    healing: report.healing.verdict,
    longSteps: last?.step ?? null,
    longPsnr: round2(last?.psnr),
    drift: report.persistence.checkpoints.length === 0 ? null : round2(report.persistence.drift),
    persistence: report.persistence.verdict,
    verdict: report.verdict,
    command: evalCommand,
  };
}

mkdirSync(OUT, { recursive: true });
const files = readdirSync(modelsDir)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .filter((file) => !only || only.includes(file.replace(/\.json$/, '')));

const rows: ComparisonRow[] = [];
/** Each file's eval against its own grown image. */
const selfReports = new Map<string, EvalJson>();
for (const file of files) {
  const stem = file.replace(/\.json$/, '');
  const model = join(OUT, `${stem}.nca`);
  const importArgs = ['import', 'distill', join(modelsDir, file), '--out', model, '--quiet'];
  if (nca(importArgs).status !== 0) throw new Error(`nca import distill ${file} failed`);
  const name = (JSON.parse(nca(['inspect', model, '--json']).stdout) as { name: string }).name;
  const experiment = Number(/^ex(\d)_/.exec(stem)?.[1]);
  // Healing models: the full eval with the 2,000-step run; the others: growth only (cheap).
  const extra = experiment === 3 ? ['--long', String(LONG_STEPS)] : ['--heal-steps', '0', '--long', '0'];
  const grown = await grownImage(model, stem);
  const self = evaluate(model, grown, extra, join(OUT, `${stem}.grown.eval.json`));
  selfReports.set(stem, self.report);
  rows.push(row(`${stem}.json`, name, `own grown image (step ${GROWN_STEPS}, seed ${GROWN_SEED})`, self.report, self.command));
  const sprite = SPRITES[stem.replace(/^ex\d_/, '')];
  if (sprite && experiment === 3) {
    const bySprite = evaluate(model, join('demo', 'sprites', sprite), extra, join(OUT, `${stem}.sprite.eval.json`));
    rows.push(row(`${stem}.json`, name, `demo/sprites/${sprite}`, bySprite.report, bySprite.command));
  }
}

const trainedRows: ComparisonRow[] = [];
if (!only) {
  for (const { file, sprite } of TRAINED) {
    const model = join('demo', 'models', file);
    const name = (JSON.parse(nca(['inspect', model, '--json']).stdout) as { name: string }).name;
    const result = evaluate(model, join('demo', 'sprites', sprite), ['--long', String(LONG_STEPS)], join(OUT, `trained-${file}.eval.json`));
    trainedRows.push(row(file, name, `demo/sprites/${sprite}`, result.report, result.command));
  }
}

writeFileSync(join(OUT, 'results.json'), `${JSON.stringify({ distill: rows, trained: trainedRows }, null, 2)}\n`);
console.error(`distill: wrote ${join(OUT, 'results.json')}`);

if (publish && !only) {
  const galleryPath = join('demo', 'models', 'gallery.json');
  const gallery = JSON.parse(readFileSync(galleryPath, 'utf8')) as Array<Record<string, unknown>>;
  const kept = gallery.filter((entry) => entry['reference'] === undefined);
  const references: Array<Record<string, unknown>> = [];
  for (const reference of REFERENCES) {
    const from = join(OUT, `${reference.stem}.nca`);
    const to = join('demo', 'models', reference.file);
    const importCommand = command(['import', 'distill', `${reference.stem}.json`, '--out', reference.file]);
    copyFileSync(from, to);
    const slug = reference.file.replace(/\.nca$/, '');
    const bite = selfReports.get(reference.stem)?.healing.bites[0];
    if (!bite) throw new Error(`${reference.stem} has no healing eval`);
    const damage = `${bite.x},${bite.y},${bite.radius}@100`;
    const render = nca(['render', to, '--out', join('demo', 'fallbacks', `${slug}.gif`), '--steps', '250', '--every', '5', '--scale', '3', '--damage', damage, '--quiet']);
    if (render.status !== 0) throw new Error(`nca render ${reference.file} failed`);
    const scored = rows.find((r) => r.model === `${reference.stem}.json` && r.target.startsWith('own'));
    if (!scored) throw new Error(`${reference.stem} was not scored`);
    const inspect = JSON.parse(nca(['inspect', to, '--json']).stdout) as { name: string; task: string; attribution: string };
    references.push({
      file: reference.file,
      name: `${inspect.name}: reference model from the article`,
      task: inspect.task,
      rule: 'distill',
      fallback: `${slug}.gif`,
      reference: {
        source: `${reference.stem}.json (public/webgl_models8/ of distillpub/post--growing-ca)`,
        credit: inspect.attribution,
        note: 'Trained by the article\'s authors, not by nca train; scored against its own grown image (the article\'s 2020 Noto emoji differs from our sprite).',
      },
      command: importCommand,
      scores: {
        verdict: scored.verdict,
        [`PSNR after ${scored.growthSteps} steps (dB)`]: scored.growthPsnr,
        'healing: dB lost per bite (mean of 3)': scored.lostPerBite,
        'healing: share of the bite regained': scored.regained,
        healing: scored.healing,
        [`PSNR at step ${scored.longSteps} (dB)`]: scored.longPsnr,
        'drift from best (dB)': scored.drift,
        'long-run stability': scored.persistence,
        target: scored.target,
      },
    });
  }
  writeFileSync(galleryPath, `${JSON.stringify([...kept, ...references], null, 2)}\n`);
  const comparison: Comparison = { longSteps: LONG_STEPS, grownSteps: GROWN_STEPS, grownSeed: GROWN_SEED, distill: rows, trained: trainedRows };
  writeFileSync(join('demo', 'models', 'comparison.json'), `${JSON.stringify(comparison, null, 2)}\n`);
  writeGalleryDoc();
  console.error('distill: published the reference models, gallery.json, comparison.json and docs/gallery.md');
}
