/**
 * Step timing shared by the Node benchmark (runtime.bench.ts) and the Chromium one
 * (runtime-browser.bench.ts, through the runtime test page). Browser-safe: no Node imports.
 *
 * What is timed: `await engine.step()` one step per call (so webasm/webgpu include their per-call
 * overhead, as an animation loop would pay it), on a dense random state (every cell alive: the
 * worst case, no cell can be skipped as dead). GL and WebGPU only queue work when a step returns,
 * so every batch of steps ends with `readState()` (a readback waits for the GPU), whose own cost,
 * timed alone, is subtracted; batches grow until one takes 150 ms. The figure is the median of
 * the per-step times of the batches within about `budgetMs`: medians resist the noise of a shared
 * machine better than means. The reference step is timed one step at a time.
 */
import { createEngine, isNcaEngineError, type BackendName, type EngineOptions, type NcaEngine } from '../../runtime/engine/index.js';
import { createArchitecture, createModel } from '../../runtime/format/index.js';
import type { NcaModel } from '../../runtime/format/types.js';
import { stepOnce, type CaState } from '../../runtime/reference/index.js';

export interface BenchCase {
  readonly rule: 'essay' | 'distill';
  readonly size: number;
  readonly hidden: number;
}

export interface BenchRow extends BenchCase {
  /** 'reference' or a backend, with a variant in parentheses (e.g. "webasm (1 thread)"). */
  readonly runner: string;
  /** Median milliseconds per step; undefined when the runner is unavailable. */
  readonly msPerStep?: number;
  readonly steps?: number;
  /** Why the runner did not run, or how it ran (gpu.js executor, renderer). */
  readonly note: string;
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A trained-looking model: random (Glorot) weights, Distill's residual layer scaled by 0.1. */
export function benchModel({ rule, size, hidden }: BenchCase): NcaModel {
  const arch = createArchitecture({ rule, hidden, init: 'random', random: seeded(7) });
  if (rule === 'distill') for (const layer of arch.layers.slice(-1)) layer.weights.forEach((w, i, all) => (all[i] = w * 0.1));
  return createModel(arch, { gridWidth: size, gridHeight: size });
}

/** Every cell alive (alpha in [0.2, 1)), other channels uniform in [-0.5, 0.5). */
export function denseState(model: NcaModel): CaState {
  const { gridWidth: width, gridHeight: height } = model.metadata;
  const { channels, alphaChannel } = model.architecture;
  const random = seeded(11);
  const data = new Float32Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = i % channels === alphaChannel ? 0.2 + 0.8 * random() : random() - 0.5;
  return { width, height, channels, data };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function timeSteps(step: () => unknown, budgetMs: number): Promise<{ ms: number; steps: number }> {
  await step();
  await step();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 3 || (performance.now() - start < budgetMs && times.length < 500)) {
    const t = performance.now();
    await step();
    times.push(performance.now() - t);
  }
  return { ms: median(times), steps: times.length };
}

/** Median per-step time of batches of `engine.step()` calls, each ended by a readback. */
async function timeEngine(engine: NcaEngine, budgetMs: number): Promise<{ ms: number; steps: number }> {
  await engine.step(2);
  await engine.readState();
  const reads: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await engine.readState();
    reads.push(performance.now() - t);
  }
  const readMs = median(reads);
  const perStep: number[] = [];
  let batch = 1;
  let steps = 0;
  const start = performance.now();
  while (perStep.length < 3 || (performance.now() - start < budgetMs && steps < 2000)) {
    const t = performance.now();
    for (let i = 0; i < batch; i++) await engine.step();
    await engine.readState();
    const elapsed = Math.max(0, performance.now() - t - readMs);
    perStep.push(elapsed / batch);
    steps += batch;
    if (elapsed < 150) batch *= 2;
  }
  return { ms: median(perStep), steps };
}

export async function measureEngine(
  bench: BenchCase,
  backend: BackendName,
  options: EngineOptions = {},
  variant = '',
  budgetMs = 1500,
): Promise<BenchRow> {
  const runner = variant ? `${backend} (${variant})` : backend;
  const model = benchModel(bench);
  let engine;
  try {
    engine = await createEngine(model, { ...options, backend });
  } catch (error) {
    const reason = isNcaEngineError(error) ? error.skipped.map((s) => s.reason).join('; ') : String(error);
    return { ...bench, runner, note: `unavailable: ${reason}` };
  }
  try {
    await engine.setState(denseState(model).data);
    const { ms, steps } = await timeEngine(engine, budgetMs);
    const executor = (engine as unknown as { driver?: { executor?: string } }).driver?.executor;
    const note = [executor, engine.selection.renderer].filter((s) => s).join(', ');
    return { ...bench, runner, msPerStep: ms, steps, note };
  } finally {
    engine.dispose();
  }
}

export async function measureReference(bench: BenchCase, budgetMs = 1500): Promise<BenchRow> {
  const model = benchModel(bench);
  let state = denseState(model);
  let n = 0;
  const { ms, steps } = await timeSteps(() => {
    state = stepOnce(model.architecture, state, { seed: 1, step: n++ });
  }, budgetMs);
  return { ...bench, runner: 'reference', msPerStep: ms, steps, note: 'runtime/reference stepOnce (doubles)' };
}

/** The rows as a Markdown table: one line per case and runner. */
export function formatTable(rows: readonly BenchRow[]): string {
  const lines = ['| rule | grid | hidden | runner | ms/step | steps/s | note |', '|---|---|---|---|---:|---:|---|'];
  for (const r of rows) {
    const ms = r.msPerStep === undefined ? '–' : r.msPerStep.toFixed(1);
    const rate = r.msPerStep === undefined ? '–' : (1000 / r.msPerStep).toFixed(1);
    lines.push(`| ${r.rule} | ${r.size}x${r.size} | ${r.hidden} | ${r.runner} | ${ms} | ${rate} | ${r.note} |`);
  }
  return lines.join('\n');
}

export const BENCH_CASES: readonly BenchCase[] = [
  { rule: 'distill', size: 64, hidden: 64 },
  { rule: 'distill', size: 64, hidden: 128 },
  { rule: 'distill', size: 96, hidden: 64 },
  { rule: 'distill', size: 96, hidden: 128 },
  { rule: 'essay', size: 64, hidden: 64 },
  { rule: 'essay', size: 64, hidden: 128 },
  { rule: 'essay', size: 96, hidden: 64 },
  { rule: 'essay', size: 96, hidden: 128 },
];
