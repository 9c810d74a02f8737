/**
 * docs/gallery.md, written from demo/models/gallery.json (the trained models, by
 * `npm run train:gallery`, and the article's reference models, by `npm run import:distill`) and
 * demo/models/comparison.json (the 2,000-step comparison, by `npm run import:distill`). Both
 * scripts call `writeGalleryDoc`, so neither drops what the other wrote.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One scored model in the comparison (see demo/import-distill.ts). */
export interface ComparisonRow {
  readonly model: string;
  readonly name: string;
  readonly target: string;
  readonly growthSteps: number;
  readonly growthPsnr: number | null;
  readonly growthHealth: string;
  /** Mean over the 3 bites of PSNR before the bite minus PSNR 200 steps after it (dB). */
  readonly lostPerBite: number | null;
  readonly firstBiteLost: number | null;
  /** Mean over the bites of (after - bitten) / (before - bitten). */
  readonly regained: number | null;
  readonly healing: string;
  readonly longSteps: number | null;
  readonly longPsnr: number | null;
  /** Worst fall from the best PSNR so far, from step N to the end of the long run (dB). */
  readonly drift: number | null;
  readonly persistence: string;
  readonly verdict: string;
  readonly command: string;
}

export interface Comparison {
  readonly longSteps: number;
  readonly grownSteps: number;
  readonly grownSeed: number;
  readonly distill: readonly ComparisonRow[];
  readonly trained: readonly ComparisonRow[];
}

const cell = (value: number | null | undefined): string => (value === null || value === undefined ? '-' : String(value));
const percent = (value: number | null): string => (value === null ? '-' : `${Math.round(value * 100)} %`);

/** A markdown table of comparison rows (model, target, growth, healing, drift). */
export function comparisonTable(rows: readonly ComparisonRow[]): string[] {
  const lines = [
    '| model | scored against | growth PSNR (dB, step) | dB lost per bite (mean of 3) | regained | PSNR / drift at 2,000 steps (dB) | verdict |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const healing = r.lostPerBite === null ? 'skipped' : `${cell(r.lostPerBite)} (${r.healing})`;
    const long = r.drift === null ? 'skipped' : `${cell(r.longPsnr)} / ${cell(r.drift)} (${r.persistence})`;
    lines.push(`| ${r.name} (\`${r.model}\`) | ${r.target} | ${cell(r.growthPsnr)} (${r.growthSteps}, ${r.growthHealth}) | ${healing} | ${percent(r.regained)} | ${long} | ${r.verdict} |`);
  }
  return lines;
}

export function galleryMarkdown(items: ReadonlyArray<Record<string, unknown>>, comparison: Comparison | undefined): string {
  const lines = [
    '# Gallery',
    '',
    'The pretrained models in `demo/models/`, written by `npm run train:gallery` and',
    '`npm run import:distill` (which also wrote this page). Scores come from',
    '`nca eval <model> --target <image>` (thresholds in [cli.md](cli.md)); training ran on 2 shared',
    'CPU cores (WebAssembly backend).',
    '',
  ];
  for (const item of items) {
    const scores = (item['scores'] ?? {}) as Record<string, unknown>;
    const reference = item['reference'] as Record<string, unknown> | undefined;
    lines.push(`## ${String(item['name'])}`, '');
    lines.push(`- file: \`demo/models/${String(item['file'])}\`, task **${String(item['task'])}**, rule **${String(item['rule'])}**${item['sprite'] ? `, sprite \`${String(item['sprite'])}\`` : ''}`);
    if (reference) {
      lines.push(`- source: ${String(reference['source'])}`);
      lines.push(`- credit: ${String(reference['credit'])}`);
      lines.push(`- ${String(reference['note'])}`, '');
    } else {
      lines.push(`- training time: ${String(item['trainingMinutes'])} min`);
      if (item['note']) lines.push(`- note: ${String(item['note'])}`);
      lines.push('');
    }
    lines.push('| score | value |', '|---|---|');
    for (const [key, value] of Object.entries(scores)) lines.push(`| ${key} | ${String(value)} |`);
    lines.push('', '```sh', String(item['command']), '```', '');
  }
  if (comparison) {
    lines.push(
      `## Compared with the article (${comparison.longSteps.toLocaleString('en-US')} steps)`,
      '',
      "The same `nca eval` on our trained models and on the article's published models",
      `(\`--long ${comparison.longSteps}\`: growth after N steps, three standard bites 200 steps apart, an undamaged run of`,
      `${comparison.longSteps.toLocaleString('en-US')} steps). "dB lost per bite" is the PSNR before a bite minus the PSNR 200 steps after it`,
      '(0 = fully healed); "regained" the share of the PSNR a bite cost that came back; drift the worst',
      'fall from the best PSNR after step N. The article trained on the 2020 Noto emoji, drawn',
      `differently from our sprites, so its models are scored against their own grown image (step`,
      `${comparison.grownSteps}, fire-mask seed ${comparison.grownSeed}; eval uses seed 0) and, where we have the same emoji, against our sprite`,
      'too (growth PSNR there measures the drawing, not the model). Our models are 24x24 sprites',
      "on a 36x36 grid; the article's 40x40 on 72x72. Written by `npm run import:distill`.",
      '',
      '### Our trained models',
      '',
      ...comparisonTable(comparison.trained),
      '',
      "### The article's regenerating models (ex3)",
      '',
      ...comparisonTable(comparison.distill.filter((r) => r.model.startsWith('ex3_'))),
      '',
      "### The article's growing (ex1) and persistent (ex2) models, growth only",
      '',
      ...comparisonTable(comparison.distill.filter((r) => !r.model.startsWith('ex3_'))),
      '',
    );
  }
  return lines.join('\n');
}

/** Rewrites docs/gallery.md from demo/models/gallery.json and (if present) demo/models/comparison.json. */
export function writeGalleryDoc(root = '.'): void {
  const items = JSON.parse(readFileSync(join(root, 'demo', 'models', 'gallery.json'), 'utf8')) as Array<Record<string, unknown>>;
  const comparisonPath = join(root, 'demo', 'models', 'comparison.json');
  const comparison = existsSync(comparisonPath) ? (JSON.parse(readFileSync(comparisonPath, 'utf8')) as Comparison) : undefined;
  writeFileSync(join(root, 'docs', 'gallery.md'), galleryMarkdown(items, comparison));
}
