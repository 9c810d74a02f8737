/** Assertions and run options shared by the trainer's tests. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { selectBackend } from '../../trainer/model/backend.js';
import { resolveOptions, type TrainOptions, type TrainOptionsInput } from '../../trainer/training/config.js';
import type { Difficulty } from '../../trainer/training/curriculum.js';
import { TrainerError, type TrainerErrorCode } from '../../trainer/errors.js';

/** For `assert.rejects` / `assert.throws`: a TrainerError with `code` whose message matches `pattern`. */
export function isTrainerError(code: TrainerErrorCode, pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof TrainerError, `expected a TrainerError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, pattern);
    return true;
  };
}

export const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'chick.png');

export function difficulty(minSteps: number, maxSteps: number, extra: Partial<Difficulty> = {}): Difficulty {
  return { minSteps, maxSteps, noise: 0, truncation: 0, bites: 0, biteRadius: 0, lateDamage: 0, ...extra };
}

/** A tiny, fast run (8 x 8 chick on a 12 x 12 grid, wasm) named `name` in `folder`. */
export function tinyOptions(folder: string, name: string, overrides: Partial<TrainOptionsInput> = {}): TrainOptions {
  return resolveOptions({
    target: FIXTURE,
    task: 'growth',
    rule: 'distill',
    // The Distill rule's default pool (1024) and growth's default crop would make every tiny
    // run a pool run from a crop; the tests of those ask for them.
    poolSize: 0,
    crop: 0,
    size: 8,
    gridWidth: 12,
    gridHeight: 12,
    batch: 2,
    iterations: 6,
    backend: 'wasm',
    previewEvery: 0,
    checkpointEvery: 2,
    precision: 'f32',
    runDir: join(folder, name),
    out: join(folder, `${name}.nca`),
    curriculum: { levels: 1, easy: difficulty(4, 6), hard: difficulty(4, 6) },
    ...overrides,
  });
}

/**
 * A scratch folder for the file's runs, made before its tests (with the wasm backend selected)
 * and removed after them; the returned function gives its path once the tests run.
 */
export function trainingFolder(prefix: string): () => string {
  let folder = '';
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), prefix));
    await selectBackend('wasm');
  });
  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });
  return () => folder;
}
