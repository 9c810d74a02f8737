/**
 * The first phase of a run: resume from its checkpoint or start fresh, build the architecture,
 * load the target, check that a resume continues the same run, pick the tfjs backend and make the
 * run folder ready. Every bad input throws `TrainerError` here, before any iteration.
 */
import { mkdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { crc32, createArchitecture } from '../../runtime/format/index.js';
import type { Architecture, NcaModel } from '../../runtime/format/types.js';
import { TrainerError } from '../errors.js';
import { removeStaleTemporaries } from '../io/atomic.js';
import { loadCheckpoint, type Checkpoint, type LoadedCheckpoint } from '../io/checkpoint.js';
import { loadTarget, type TargetImage } from '../io/target.js';
import { selectBackend, type TrainBackendSelection } from '../model/backend.js';
import { canIdentityInit, IDENTITY_UNITS, identityInit, keepInit } from '../model/init.js';
import { weightsFrom } from '../model/init-from.js';
import { readModel } from '../eval/inputs.js';
import { identityDifferences, type RunIdentity, type TrainOptions } from './config.js';
import type { Emit } from './events.js';
import { Rng } from './rng.js';
import { TaskSetting } from './samples.js';

/** The target a run trains on: loaded from --target, or a resumed run's own. */
export type RunTarget = TargetImage | Checkpoint['target'];

export interface OpenedRun {
  /** The checkpoint resumed from (--resume only). */
  readonly loaded?: LoadedCheckpoint;
  readonly rng: Rng;
  readonly arch: Architecture;
  readonly target: RunTarget;
  readonly identity: RunIdentity;
  readonly backend: TrainBackendSelection;
  readonly setting: TaskSetting;
}

function identityOf(options: TrainOptions, target: RunTarget, crc: number): RunIdentity {
  return {
    task: options.task,
    rule: options.rule,
    channels: options.channels,
    hidden: options.hidden,
    fireRate: options.fireRate,
    aliveThreshold: options.aliveThreshold,
    gridWidth: options.gridWidth,
    gridHeight: options.gridHeight,
    targetWidth: target.width,
    targetHeight: target.height,
    targetCrc: crc,
    batch: options.batch,
    poolSize: options.poolSize,
    seed: options.seed,
    ...(options.crop > 0 ? { crop: options.crop } : {}),
  };
}

async function readInitModel(path: string): Promise<NcaModel> {
  try {
    return await readModel(path);
  } catch (error) {
    throw new TrainerError('bad-option', `--init-from: ${(error as Error).message}`, { cause: error });
  }
}

/** Opens the run `options` describe, resuming it when they say so. */
export async function openRun(options: TrainOptions, emit: Emit): Promise<OpenedRun> {
  let loaded: LoadedCheckpoint | undefined;
  if (options.resume) {
    loaded = await loadCheckpoint(options.runDir);
    if (loaded.fallbackReason) emit({ type: 'warning', message: `${loaded.fallbackReason}; resuming from ${loaded.path} instead` });
  }
  const saved = loaded?.checkpoint;
  const rng = saved ? Rng.fromState(saved.rng) : Rng.fromSeed(options.seed);
  // Fresh weights come from the run's RNG (so the seed fixes them); a resume overwrites them.
  let arch: Architecture;
  try {
    arch = createArchitecture({
      rule: options.rule,
      channels: options.channels,
      hidden: options.hidden,
      fireRate: options.fireRate,
      aliveThreshold: options.aliveThreshold,
      random: saved ? () => 0.5 : () => rng.uniform(),
    });
  } catch (error) {
    throw new TrainerError('bad-option', `cannot build the ${options.rule} architecture: ${(error as Error).message}`, { cause: error });
  }
  // Fresh essay-rule weights start by keeping what is there (`keep` coarsely, `identity` closely:
  // see trainer/model/init.ts), or from a trained model's (--init-from).
  if (!saved && options.initFrom !== '') arch = weightsFrom(arch, await readInitModel(options.initFrom), options.initFrom);
  else if (!saved && options.init === 'keep') arch = keepInit(arch);
  else if (!saved && options.init === 'identity') {
    if (!canIdentityInit(arch)) {
      throw new TrainerError('bad-option', `--init identity needs the essay rule and at least ${IDENTITY_UNITS.length} hidden units per channel (${IDENTITY_UNITS.length * arch.channels} for ${arch.channels} channels), got the ${options.rule} rule with ${arch.layers[0]!.outputs}`);
    }
    arch = identityInit(arch);
  }
  let target: RunTarget;
  if (options.target !== '') {
    const loadedTarget = await loadTarget(options.target, options.size, arch);
    for (const message of loadedTarget.warnings) emit({ type: 'warning', message });
    target = loadedTarget;
  } else if (saved) target = saved.target;
  else throw new TrainerError('bad-option', 'no target image given (--target)');
  const identity = identityOf(options, target, crc32(target.rgba));
  if (loaded) {
    const differences = identityDifferences(loaded.checkpoint.identity, identity);
    if (differences.length > 0) {
      throw new TrainerError('resume-mismatch', `cannot resume ${loaded.path}: ${differences.join('; ')}. Start a new run (another --run-dir) or resume with the original settings.`);
    }
  }
  // NOTE: inputs first, backend second: a bad target is reported without loading TensorFlow.js.
  const backend = await selectBackend(options.backend);
  const setting = new TaskSetting(arch, options.task, target, options.gridWidth, options.gridHeight, options.crop, options.backgroundWeight);
  await mkdir(options.runDir, { recursive: true });
  // Temporary files of a writer killed mid-write (only of processes no longer running).
  const stale = [...(await removeStaleTemporaries(options.runDir)), ...(await removeStaleTemporaries(dirname(options.out) || '.', basename(options.out)))];
  if (stale.length > 0) emit({ type: 'warning', message: `removed ${stale.length} temporary file(s) left by a killed run: ${stale.join(', ')}` });
  return { ...(loaded ? { loaded } : {}), rng, arch, target, identity, backend, setting };
}
