/**
 * What `train()` reports while it runs and what it returns: the CLI prints the events as a
 * progress bar or JSON lines, `nca sweep` records them per job.
 */
import type { NcaRule } from '../../runtime/format/index.js';
import type { NcaModel, Task } from '../../runtime/format/types.js';
import type { CaState } from '../../runtime/reference/index.js';
import type { ExportReport } from '../io/export.js';
import type { TrainBackendSelection } from '../model/backend.js';
import type { ActivationMemory } from '../model/step.js';
import type { Difficulty } from './curriculum.js';
import type { CheckResult } from './held-in.js';
import type { RecoveryCause } from './recovery.js';

/** The latest held-in check, as the progress line and the summary show it. */
export type CheckSummary = Pick<CheckResult, 'iteration' | 'verdict' | 'score' | 'scoreText'>;

export type TrainStatus = 'completed' | 'interrupted' | 'diverged';

/** Everything the loop reports, in order; the CLI prints them as a progress bar or JSON lines. */
export type TrainEvent =
  | {
      readonly type: 'start';
      /** The task and rule trained (the rule's default depends on the task: config.ts `defaultRule`). */
      readonly task: Task;
      readonly rule: NcaRule;
      /** The sample pool's size (0: none). */
      readonly poolSize: number;
      readonly backend: TrainBackendSelection;
      /** What computes the rollouts (see rollout-engine.ts) and on how many threads. */
      readonly engine: 'fused' | 'tfjs';
      readonly threads: number;
      /** The tfjs engine's backward memory ('save' for the fused engine, which keeps everything). */
      readonly memory: ActivationMemory;
      readonly iteration: number;
      readonly iterations: number;
      readonly parameters: number;
      /** The loss of an empty grid (what the curriculum threshold is relative to). */
      readonly trivialLoss: number;
      readonly target: { readonly width: number; readonly height: number };
      readonly grid: { readonly width: number; readonly height: number };
      /** Set on --resume: the checkpoint file continued from. */
      readonly resumedFrom?: string;
    }
  | {
      readonly type: 'iteration';
      readonly iteration: number;
      readonly iterations: number;
      readonly loss: number;
      readonly smoothedLoss: number;
      readonly level: number;
      readonly levels: number;
      readonly steps: number;
      readonly learningRate: number;
      readonly gradientNorm: number;
      /** Share of the batch's cells that pass the rule's alive test after the rollout, 0..1 (0: every sample died). */
      readonly aliveShare: number;
      readonly iterationsPerSecond: number;
      readonly seconds: number;
      /** With --minutes: training seconds left in the budget. */
      readonly budgetLeft?: number;
      /** The latest held-in check, once there is one. */
      readonly check?: CheckSummary;
    }
  | ({
      readonly type: 'check';
      /** A pass's model file in the run folder (passed-<iteration>.nca). */
      readonly saved?: string;
    } & CheckResult)
  | {
      readonly type: 'recovered';
      /** Completed iterations when the run went back. */
      readonly iteration: number;
      readonly cause: RecoveryCause;
      /** The iteration whose healthy state was restored. */
      readonly restoredFrom: number;
      readonly learningRate: number;
      readonly recoveriesLeft: number;
      readonly message: string;
    }
  | { readonly type: 'level'; readonly iteration: number; readonly level: number; readonly difficulty: Difficulty }
  | { readonly type: 'checkpoint'; readonly iteration: number; readonly path: string }
  | { readonly type: 'preview'; readonly iteration: number; readonly path: string; readonly plot: string }
  | { readonly type: 'warning'; readonly message: string }
  | {
      readonly type: 'stopped';
      /** `passed`: the early stop, a held-in check passed at the curriculum's last level. */
      readonly reason: 'interrupted' | 'diverged' | 'budget' | 'passed';
      readonly iteration: number;
      readonly message: string;
    }
  | { readonly type: 'export'; readonly report: ExportReport }
  | {
      readonly type: 'summary';
      readonly status: TrainStatus;
      readonly iterations: number;
      readonly finalLoss: number | null;
      readonly level: number;
      readonly seconds: number;
      readonly runDir: string;
      readonly out: string | null;
      /** Times the run went back to a healthy state (dead or diverged). */
      readonly recoveries: number;
      readonly check: CheckSummary | null;
    };

export type Emit = (event: TrainEvent) => void;

export interface TrainHooks {
  readonly onEvent?: Emit;
  /** Aborting finishes the current iteration, writes a checkpoint and returns 'interrupted'. */
  readonly signal?: AbortSignal;
  /** Fault injection: when it returns true the iteration's start state is NaN. */
  readonly poison?: (iteration: number) => boolean;
  /** Replaces the held-in check's scoring (held-in.ts `runCheck`): for tests and embedders with their own eval. */
  readonly check?: (model: NcaModel, target: CaState, iteration: number) => Promise<CheckResult>;
}

export interface TrainResult {
  readonly status: TrainStatus;
  /** Completed iterations. */
  readonly iteration: number;
  readonly losses: readonly number[];
  readonly levels: readonly number[];
  readonly finalLoss: number | null;
  readonly backend: TrainBackendSelection;
  readonly recoveries: number;
  /** The latest held-in check, if one ran. */
  readonly check: CheckSummary | null;
  /** The trained model at float32 (completed runs only). */
  readonly model?: NcaModel;
  readonly export?: ExportReport;
}
