/**
 * Runs under the strict CSP of csp.csp.html, from a file (page.evaluate would be exempt from the
 * policy): creates an engine in auto mode and one on cpu, and writes what happened into
 * #result as JSON for test/browser/runtime-csp.spec.ts.
 */
import { createArchitecture, createEngine, createModel, isNcaEngineError, runSteps, startState } from '../../../../runtime/index.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface CspResult {
  readonly chosen?: string;
  readonly skipped?: ReadonlyArray<{ backend: string; reason: string }>;
  readonly maxDiff?: number;
  readonly painted?: number;
  readonly cpuError?: { code: string; reasons: string[] };
  readonly error?: string;
}

async function run(): Promise<CspResult> {
  const model = createModel(createArchitecture({ rule: 'essay', hidden: 16, random: seeded(3) }), { gridWidth: 24, gridHeight: 20 });
  let cpuError: CspResult['cpuError'];
  try {
    (await createEngine(model, { backend: 'cpu' })).dispose();
  } catch (error) {
    if (isNcaEngineError(error)) cpuError = { code: error.code, reasons: error.skipped.map((s) => s.reason) };
  }
  const engine = await createEngine(model, { seed: 5 });
  await engine.step(10);
  const state = await engine.readState();
  const expected = runSteps(model.architecture, startState(model), { seed: 5, steps: 10 }).data;
  let maxDiff = 0;
  for (let i = 0; i < state.length; i++) maxDiff = Math.max(maxDiff, Math.abs(state[i]! - expected[i]!));
  const canvas = document.getElementById('view') as HTMLCanvasElement;
  engine.render(canvas);
  const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) painted++;
  const result: CspResult = { chosen: engine.backend, skipped: engine.selection.skipped, maxDiff, painted, cpuError };
  engine.dispose();
  return result;
}

const out = document.getElementById('result')!;
run().then(
  (result) => {
    out.textContent = JSON.stringify(result);
    out.dataset['done'] = 'true';
  },
  (error: unknown) => {
    out.textContent = JSON.stringify({ error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    out.dataset['done'] = 'true';
  },
);
