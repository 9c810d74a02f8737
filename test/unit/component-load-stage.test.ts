/**
 * Which `nca-error` type a failed load stage reports (issue 12, items 1 and 2): a limit hit in any
 * stage is `too-large` or `timeout`, whatever the stage; anything else keeps the stage's type.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NcaTimeoutError, NcaTooLargeError } from '../../component/fetch-limits.js';
import { LoadFailure, stage } from '../../component/model-loader.js';
import { NcaEngineError } from '../../runtime/engine/index.js';

async function typeOf(type: 'load' | 'format' | 'backend', error: unknown): Promise<string> {
  try {
    await stage(type, () => Promise.reject(error));
  } catch (failure) {
    assert.ok(failure instanceof LoadFailure);
    assert.equal(failure.cause, error);
    return failure.type;
  }
  throw new Error('stage did not reject');
}

test('limits are typed by what they are, not by the stage they were hit in', async () => {
  assert.equal(await typeOf('load', new NcaTooLargeError('u', 'bytes', 10, 20)), 'too-large');
  assert.equal(await typeOf('format', new NcaTooLargeError('u', 'pixels', 10, 20)), 'too-large');
  assert.equal(await typeOf('backend', new NcaEngineError('too-large', 'grid too large')), 'too-large');
  assert.equal(await typeOf('load', new NcaTimeoutError('u', 5)), 'timeout');
  assert.equal(await typeOf('backend', new NcaEngineError('no-backend', 'none')), 'backend');
  assert.equal(await typeOf('load', new TypeError('Failed to fetch')), 'load');
});

test('an abort is passed through untagged (a superseded load reports nothing)', async () => {
  const abort = new DOMException('superseded', 'AbortError');
  await assert.rejects(stage('load', () => Promise.reject(abort)), (error) => error === abort);
});

test('NcaTooLargeError messages name the numbers', () => {
  assert.equal(new NcaTooLargeError('m.nca', 'bytes', 100, 2 ** 31, 'declares').message, 'm.nca declares 2147483648 bytes, over the limit of 100');
  assert.equal(new NcaTooLargeError('m.nca', 'bytes', 100, undefined, 'sends').message, 'm.nca sends more than the limit of 100 bytes');
});
