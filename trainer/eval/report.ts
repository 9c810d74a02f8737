/** `nca eval`'s output: a table for people, one JSON object for scripts. */
import { PSNR_CAP_DB, type Box } from './metrics.js';
import { THRESHOLDS, type EvalResult, type Snapshot } from './evaluate.js';
import { escapeUnsafe, safeJson } from '../io/safe-text.js';

export interface EvalReport {
  readonly file: string;
  readonly name: string;
  readonly gridWidth: number;
  readonly gridHeight: number;
  readonly target: {
    /** Where the target came from: a --target image or the model's embedded start image. */
    readonly source: 'file' | 'start-image';
    readonly path?: string;
    /** Size of the target image on the grid (after fitting into the model's target size). */
    readonly width: number;
    readonly height: number;
  };
  readonly result: EvalResult;
}

/** PSNR for the table: two decimals, "exact" at the cap, "NaN" for a diverged state. */
export function formatPsnr(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value >= PSNR_CAP_DB) return 'exact';
  return value.toFixed(2);
}

/** A signed dB change; a change that rounds to zero reads +0.00, never -0.00. */
function formatChange(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  const shown = Math.abs(value) < 0.005 ? 0 : value;
  return `${shown >= 0 ? '+' : ''}${shown.toFixed(2)} dB`;
}

const percent = (share: number): string => `${(share * 100).toFixed(1)}%`;
const boxText = (b: Box): string => `x ${b.x}..${b.x + b.width - 1}, y ${b.y}..${b.y + b.height - 1}`;

function table(rows: string[][], rightAligned: readonly number[]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (rightAligned.includes(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** The human-readable report (no trailing newline). */
export function formatReport(report: EvalReport): string {
  const r = report.result;
  const indent = ' '.repeat(17);
  const field = (label: string, value: string): string => `  ${label.padEnd(15)}${value}`;
  const sub = (lines: string[]): string[] => lines.map((line) => `${indent}${line}`);
  const reasons = (list: string[]): string[] => sub(list.map((reason) => `- ${reason}`));
  const targetSource =
    report.target.source === 'file' ? escapeUnsafe(report.target.path ?? '') : 'the model\'s start image';
  const lines = [
    escapeUnsafe(report.name) || '(unnamed)',
    field('model', `${escapeUnsafe(report.file)}: ${r.task}, ${report.gridWidth} x ${report.gridHeight} grid, seed ${r.seed}, N = ${r.steps}`),
    field('target', `${targetSource} (${report.target.width} x ${report.target.height}), box ${boxText(r.box)}`),
    field('', `life counts as overgrowth outside ${boxText(r.dilatedBox)}`),
    '',
  ];

  const g = r.growth;
  lines.push(
    field('growth', `${g.verdict.padEnd(5)} PSNR ${formatPsnr(g.snapshot.psnr)} dB after ${g.snapshot.step} steps, ${percent(g.snapshot.aliveOutside)} alive outside, ${g.snapshot.health}`),
    ...reasons(g.reasons),
  );

  const h = r.healing;
  if (h.verdict === 'skipped') {
    lines.push(field('healing', `skipped (--heal-steps 0)`));
  } else {
    lines.push(field('healing', `${h.verdict.padEnd(5)} 3 bites one after another, ${h.healSteps} steps each`));
    lines.push(
      ...sub(
        table(
          [
            ['bite', 'step', 'x', 'y', 'r', 'before', 'bitten', `+${h.healSteps}`, 'change', ''],
            ...h.bites.map((b) => [
              b.bite.name,
              String(b.step),
              b.bite.x.toFixed(1),
              b.bite.y.toFixed(1),
              b.bite.radius.toFixed(1),
              formatPsnr(b.before),
              formatPsnr(b.bitten),
              formatPsnr(b.after.psnr),
              formatChange(b.recovery),
              b.verdict,
            ]),
          ],
          [1, 2, 3, 4, 5, 6, 7, 8],
        ),
      ),
      ...reasons(h.reasons),
    );
  }

  const p = r.persistence;
  if (p.verdict === 'skipped') {
    lines.push(field('persistence', 'skipped (--long 0)'));
  } else {
    lines.push(field('persistence', `${p.verdict.padEnd(5)} ${p.longSteps} steps undamaged, worst fall from best ${p.drift.toFixed(2)} dB`));
    lines.push(
      ...sub(
        table(
          [['step', 'PSNR', 'outside', 'state'], ...p.checkpoints.map((c: Snapshot) => [String(c.step), formatPsnr(c.psnr), percent(c.aliveOutside), c.health])],
          [0, 1, 2],
        ),
      ),
      ...reasons(p.reasons),
    );
  }

  lines.push('', field('verdict', `${r.verdict.toUpperCase()}  (a ${r.task} model must pass ${r.required.join(', ')})`));
  return lines.join('\n');
}

/** NaN (a diverged state) becomes null; everything else is a plain number. */
function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

const round = (value: number, digits = 4): number => Number(value.toFixed(digits));

function snapshotJson(s: Snapshot): object {
  const value = finiteOrNull(s.psnr);
  return { step: s.step, psnr: value === null ? null : round(value), aliveOutside: round(s.aliveOutside), health: s.health };
}

/** The report as a JSON-ready object: PSNR in dB (capped at `psnrCapDb` for an exact match, null for NaN). */
export function reportJson(report: EvalReport): object {
  const r = report.result;
  const psnrValue = (v: number): number | null => {
    const value = finiteOrNull(v);
    return value === null ? null : round(value);
  };
  return {
    file: report.file,
    name: report.name,
    task: r.task,
    grid: { width: report.gridWidth, height: report.gridHeight },
    target: { ...report.target, box: r.box, dilatedBox: r.dilatedBox },
    seed: r.seed,
    steps: r.steps,
    psnrCapDb: PSNR_CAP_DB,
    thresholds: THRESHOLDS,
    growth: { verdict: r.growth.verdict, ...snapshotJson(r.growth.snapshot), reasons: r.growth.reasons },
    healing: {
      verdict: r.healing.verdict,
      healSteps: r.healing.healSteps,
      bites: r.healing.bites.map((b) => ({
        name: b.bite.name,
        x: round(b.bite.x),
        y: round(b.bite.y),
        radius: round(b.bite.radius),
        step: b.step,
        before: psnrValue(b.before),
        bitten: psnrValue(b.bitten),
        after: psnrValue(b.after.psnr),
        recovery: psnrValue(b.recovery),
        health: b.after.health,
        verdict: b.verdict,
      })),
      reasons: r.healing.reasons,
    },
    persistence: {
      verdict: r.persistence.verdict,
      longSteps: r.persistence.longSteps,
      drift: round(r.persistence.drift),
      checkpoints: r.persistence.checkpoints.map(snapshotJson),
      reasons: r.persistence.reasons,
    },
    required: r.required,
    verdict: r.verdict,
  };
}

export function formatJson(report: EvalReport): string {
  return safeJson(reportJson(report));
}
