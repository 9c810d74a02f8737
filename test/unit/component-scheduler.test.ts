import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameScheduler, type FrameClock } from '../../component/frame-scheduler.js';

/** A manual clock: `flush(t)` runs the pending frame callback, as the browser would. */
function manualClock() {
  let pending: ((now: number) => void) | undefined;
  let requests = 0;
  const clock: FrameClock = {
    request(callback) {
      pending = callback;
      return ++requests;
    },
    cancel() {
      pending = undefined;
    },
  };
  return {
    clock,
    requests: () => requests,
    flush(now: number) {
      const run = pending;
      pending = undefined;
      run?.(now);
    },
    get pending() {
      return pending !== undefined;
    },
  };
}

test('one frame request serves every subscriber; the loop stops when none are left', () => {
  const m = manualClock();
  const scheduler = new FrameScheduler(m.clock);
  const seen: string[] = [];
  const callbacks = Array.from({ length: 20 }, (_, i) => (now: number) => seen.push(`${i}@${now}`));
  for (const cb of callbacks) scheduler.add(cb);
  assert.equal(m.requests(), 1);
  m.flush(16);
  assert.equal(seen.length, 20);
  assert.equal(m.requests(), 2, 'one request per frame, not per element');
  for (const cb of callbacks) scheduler.remove(cb);
  assert.equal(m.pending, false);
  assert.equal(scheduler.running, false);
});

test('a subscriber that throws does not stop the others; removal during a frame is safe', () => {
  const m = manualClock();
  const scheduler = new FrameScheduler(m.clock);
  const errors: unknown[] = [];
  const original = globalThis.reportError;
  globalThis.reportError = (e: unknown) => errors.push(e);
  try {
    let b = 0;
    const second = () => b++;
    scheduler.add(() => {
      scheduler.remove(second);
      throw new Error('boom');
    });
    scheduler.add(second);
    let c = 0;
    scheduler.add(() => c++);
    m.flush(1);
    assert.equal(errors.length, 1);
    assert.equal(b, 0, 'removed before its turn');
    assert.equal(c, 1);
    assert.equal(scheduler.size, 2);
    assert.equal(m.pending, true);
  } finally {
    globalThis.reportError = original;
  }
});
