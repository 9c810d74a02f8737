import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runSteps, type CaState } from '../../runtime/reference/index.js';
import { GOLDEN_DIR, loadGoldenCases } from '../fixtures/golden.js';

/** Exact comparison that reports the first differing value instead of dumping two arrays. */
function assertSameState(actual: CaState, expected: CaState, what: string): void {
  assert.deepEqual([actual.width, actual.height, actual.channels], [expected.width, expected.height, expected.channels], what);
  for (let i = 0; i < expected.data.length; i++) {
    if (!Object.is(actual.data[i], expected.data[i])) {
      const cell = Math.floor(i / expected.channels);
      assert.fail(
        `${what}: value ${i} (cell ${cell % expected.width},${Math.floor(cell / expected.width)} channel ${i % expected.channels}) ` +
          `is ${actual.data[i]}, expected ${expected.data[i]}`,
      );
    }
  }
}

describe('golden fixtures', () => {
  const cases = loadGoldenCases();

  it('exist and stay small', () => {
    assert.ok(cases.length >= 3, `only ${cases.length} golden cases in ${GOLDEN_DIR}`);
    const bytes = cases.reduce((sum, c) => sum + statSync(join(GOLDEN_DIR, `${c.name}.json`)).size, 0);
    assert.ok(bytes < 100_000, `golden fixtures take ${bytes} bytes`);
  });

  for (const golden of cases) {
    it(`${golden.name}: the reference reproduces every expected state exactly`, () => {
      for (const { steps, state } of golden.expected) {
        const actual = runSteps(golden.architecture, golden.input, { ...golden.run, steps });
        assertSameState(actual, state, `${golden.name} after ${steps} steps`);
      }
    });
  }
});
