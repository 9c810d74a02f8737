/**
 * The last phase of a completed run: the trained network as a .nca model with its start state,
 * exported at the requested precision, and summary.json next to the checkpoints.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createModel, decodeModel, encodeModel } from '../../runtime/format/index.js';
import type { NcaModel, StartState } from '../../runtime/format/types.js';
import { writeFileAtomic } from '../io/atomic.js';
import { exportModel, type ExportReport } from '../io/export.js';
import type { TrainOptions } from './config.js';
import type { Emit } from './events.js';
import type { OpenedRun } from './open-run.js';
import { finalLossOf, type Session } from './session.js';

/** What a page starts the model from: the target itself (persistence, healing), its crop, or a seed. */
function startOf(run: OpenedRun, options: TrainOptions): StartState {
  const { target, setting } = run;
  if (options.task !== 'growth') return { kind: 'image', width: target.width, height: target.height, rgba: target.rgba };
  return setting.cropImage ? { kind: 'image', width: target.width, height: target.height, rgba: setting.cropImage } : { kind: 'seed' };
}

/** The network as it stands as a float32 model with its start state (exported, or held-in checked). */
export function modelOf(run: OpenedRun, session: Session, options: TrainOptions): NcaModel {
  const { iteration, losses } = session.history;
  const finalLoss = finalLossOf(losses) ?? 0;
  return createModel(session.network.toArchitecture(run.arch), {
    name: options.name,
    task: options.task,
    targetWidth: run.target.width,
    targetHeight: run.target.height,
    gridWidth: run.setting.width,
    gridHeight: run.setting.height,
    start: startOf(run, options),
    training: { iterations: iteration, finalLoss },
    attribution: options.attribution,
  });
}

/**
 * The model as a page will load it: encoded at the run's --precision and decoded back. The
 * held-in check scores this one, so its verdict is the exported file's (int8 rounding can cost
 * a replace-update rule several dB).
 */
export function exportedModelOf(run: OpenedRun, session: Session, options: TrainOptions): NcaModel {
  const model = modelOf(run, session, options);
  return decodeModel(encodeModel(model, { precision: options.precision, biasPrecision: options.precision }));
}

/** Writes the model to `options.out` and the run's summary.json. */
export async function exportRun(run: OpenedRun, session: Session, options: TrainOptions, emit: Emit): Promise<{ model: NcaModel; report: ExportReport }> {
  const { iteration, seconds, losses } = session.history;
  const finalLoss = finalLossOf(losses) ?? 0;
  const model = modelOf(run, session, options);
  await mkdir(dirname(options.out) || '.', { recursive: true });
  const { report } = await exportModel(model, options.out, options.precision, session.curriculum.hardest.maxSteps);
  emit({ type: 'export', report });
  await writeFileAtomic(join(options.runDir, 'summary.json'), new TextEncoder().encode(`${JSON.stringify({ iterations: iteration, finalLoss, seconds, export: report }, null, 2)}\n`));
  return { model, report };
}
