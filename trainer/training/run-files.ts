/**
 * The files a run writes while it trains: checkpoints (to resume from), previews (a film strip
 * of the current model and the loss plot, for the person watching) and every model that passed a
 * held-in check.
 */
import { join } from 'node:path';
import { encodeModel } from '../../runtime/format/index.js';
import type { NcaModel } from '../../runtime/format/types.js';
import { damageDisc, type CaState } from '../../runtime/reference/index.js';
import { writeFileAtomic } from '../io/atomic.js';
import { saveCheckpoint, type LatestCheckpoint } from '../io/checkpoint.js';
import { lossPlotSvg, writeFilmStrip } from '../io/preview.js';
import { hashRollout } from './hash-rollout.js';
import type { TrainOptions } from './config.js';
import type { Emit } from './events.js';
import type { OpenedRun } from './open-run.js';
import { snapshot, type Session } from './session.js';

/** Frames in a preview strip, evenly spaced from the start to the hardest rollout's length. */
const PREVIEW_FRAMES = 8;

export class RunFiles {
  // A latest file a resume fell back past must not become the previous one (see io/checkpoint.ts).
  private latest: LatestCheckpoint;

  constructor(
    private readonly run: OpenedRun,
    private readonly session: Session,
    private readonly options: TrainOptions,
    private readonly emit: Emit,
  ) {
    const loaded = run.loaded;
    this.latest = loaded ? (loaded.fallbackReason ? 'unusable' : 'good') : 'unknown';
  }

  async checkpoint(): Promise<void> {
    const path = await saveCheckpoint(this.options.runDir, snapshot(this.run, this.session, this.options), this.latest);
    this.latest = 'good';
    this.emit({ type: 'checkpoint', iteration: this.session.history.iteration, path });
  }

  /**
   * Writes a model that passed a held-in check (exactly as checked, at the run's precision) to
   * passed-<iteration>.nca in the run folder, so a pass outlives the run: an interrupted or
   * diverged run would otherwise lose it, since the budget keeps passing weights in memory only.
   */
  async passed(model: NcaModel, iteration: number): Promise<string> {
    const { precision } = this.options;
    const path = join(this.options.runDir, `passed-${String(iteration).padStart(6, '0')}.nca`);
    await writeFileAtomic(path, encodeModel(model, { precision, biasPrecision: precision }));
    return path;
  }

  async preview(): Promise<void> {
    const { options, session } = this;
    const { setting, arch } = this.run;
    const { iteration, losses, levels } = session.history;
    const steps = session.curriculum.hardest.maxSteps;
    const keep = Array.from({ length: PREVIEW_FRAMES }, (_, i) => Math.round((i * steps) / (PREVIEW_FRAMES - 1)));
    // Healing's preview is bitten halfway, to show the repair.
    const damage =
      options.task === 'healing'
        ? {
            step: Math.round(steps / 2),
            apply: (state: CaState) => damageDisc(state, (setting.box.x0 + setting.box.x1) / 2, (setting.box.y0 + setting.box.y1) / 2, 0.35 * setting.radius),
          }
        : undefined;
    const frames = hashRollout(session.step, setting.modelStart, steps, 0, keep, damage);
    const path = join(options.runDir, `preview-${String(iteration).padStart(6, '0')}.png`);
    await writeFilmStrip(path, frames, arch);
    const plot = join(options.runDir, 'loss.svg');
    await writeFileAtomic(plot, new TextEncoder().encode(lossPlotSvg(losses, levels, options.curriculum.levels - 1)));
    this.emit({ type: 'preview', iteration, path, plot });
  }
}
