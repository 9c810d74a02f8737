/** Assertions shared by the trainer's tests. */
import assert from 'node:assert/strict';
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
