/**
 * How `nca train` shows a run: a one-line progress bar on a terminal (iteration, loss, level,
 * it/s, time left), plain lines when piped, or one JSON object per line with `--json`.
 */
import type { TrainBackendSelection } from '../model/backend.js';
import type { CheckSummary, TrainEvent } from '../training/train.js';

export interface ReporterOptions {
  readonly json: boolean;
  /** Where JSON lines go (stdout). */
  readonly out: NodeJS.WritableStream;
  /** Where human-readable progress goes (stderr). */
  readonly err: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function loss(value: number | null): string {
  return value === null ? '-' : value.toPrecision(4);
}

/** "eval 23.4 dB pass": the latest held-in check's headline score and verdict. */
function checkText(check: CheckSummary): string {
  return `eval ${check.score.toFixed(1)} dB ${check.verdict}`;
}

/** "wasm (cuda: not installed; native: ...; cpu: not tried)". */
export function describeBackend(selection: TrainBackendSelection): string {
  const skipped = selection.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
  return skipped ? `${selection.chosen} (skipped ${skipped})` : selection.chosen;
}

/** One line per event, for people. The iteration event is handled by the bar. */
export function describeEvent(event: TrainEvent): string | undefined {
  switch (event.type) {
    case 'start':
      return [
        `${event.resumedFrom ? `resuming from ${event.resumedFrom} at iteration ${event.iteration}` : 'training'}: ` +
          `target ${event.target.width}x${event.target.height} on a ${event.grid.width}x${event.grid.height} grid, ` +
          `${event.parameters.toLocaleString('en-US')} parameters, ${event.iterations} iterations`,
        `${event.task} with the ${event.rule} rule${event.poolSize > 0 ? `, a sample pool of ${event.poolSize}` : ', no sample pool'}`,
        event.engine === 'fused'
          ? `engine: fused WebAssembly SIMD kernel on ${event.threads} thread${event.threads === 1 ? '' : 's'} (Adam on ${describeBackend(event.backend)})`
          : `engine: tfjs step; backend: ${describeBackend(event.backend)}`,
        `backward pass: ${event.memory === 'save' ? 'saved activations' : 'recomputed activations (saves memory)'}; ` +
          `loss of an empty grid: ${loss(event.trivialLoss)}`,
      ].join('\n');
    case 'iteration':
      return `iteration ${event.iteration}/${event.iterations}  loss ${loss(event.loss)}  avg ${loss(event.smoothedLoss)}  ` +
        `level ${event.level}/${event.levels - 1}  steps ${event.steps}  alive ${(event.aliveShare * 100).toFixed(1)} %  ${event.iterationsPerSecond.toFixed(2)} it/s` +
        (event.budgetLeft !== undefined ? `  budget left ${duration(event.budgetLeft)}` : '') +
        (event.check ? `  ${checkText(event.check)}` : '');
    case 'level': {
      const d = event.difficulty;
      return `curriculum level ${event.level} at iteration ${event.iteration}: steps ${d.minSteps}-${d.maxSteps}, noise ${d.noise.toFixed(3)}, ` +
        `truncation ${d.truncation.toFixed(2)}, bites ${d.bites} x ${d.biteRadius.toFixed(2)}, late damage ${d.lateDamage.toFixed(2)}`;
    }
    case 'checkpoint':
      return `checkpoint ${event.path} (iteration ${event.iteration})`;
    case 'preview':
      return `preview ${event.path}, loss plot ${event.plot}`;
    case 'check':
      return `held-in check at iteration ${event.iteration}: ${event.verdict.toUpperCase()}${event.exact ? '' : ' (fused screen)'}, ${event.scoreText} (${duration(event.seconds)})` +
        (event.reasons.length > 0 ? `; ${event.reasons.join('; ')}` : '') +
        (event.saved ? `; kept as ${event.saved}` : '');
    case 'recovered':
      return `recovered: ${event.message}`;
    case 'warning':
      return `warning: ${event.message}`;
    case 'stopped':
      return event.message;
    case 'export': {
      const { report } = event;
      const q = report.quantization;
      return `wrote ${report.path} (${report.bytes.toLocaleString('en-US')} bytes, ${report.precision} weights); ` +
        `${report.precision} vs float32 over ${q.steps} reference steps: RGBA differs by ${q.meanAbsRgba.toPrecision(3)} on average, ` +
        `${q.maxAbsRgba.toPrecision(3)} at most (${q.maxAbsState.toPrecision(3)} in any channel; weights ${q.maxAbsWeight.toPrecision(3)})`;
    }
    case 'summary':
      return `${event.status}: ${event.iterations} iterations in ${duration(event.seconds)}, final loss ${loss(event.finalLoss)} ` +
        `(mean of the last 20), curriculum level ${event.level}` +
        (event.check ? `, last held-in check ${checkText(event.check)} at iteration ${event.check.iteration}` : '') +
        (event.recoveries > 0 ? `, ${event.recoveries} recover${event.recoveries === 1 ? 'y' : 'ies'}` : '') +
        `; run folder ${event.runDir}`;
  }
}

/** A bar like `[#######-------]  120/2000  loss 0.0123  level 2/4  1.3 it/s  ETA 24m`. */
function bar(event: Extract<TrainEvent, { type: 'iteration' }>, columns: number): string {
  const fraction = event.iterations > 0 ? event.iteration / event.iterations : 1;
  const toEnd = (event.iterations - event.iteration) / Math.max(event.iterationsPerSecond, 1e-9);
  // A --minutes budget that ends the run first is what the ETA counts down to.
  const budgetFirst = event.budgetLeft !== undefined && event.budgetLeft < toEnd;
  const remaining = budgetFirst ? event.budgetLeft! : toEnd;
  const text =
    ` ${event.iteration}/${event.iterations}  loss ${loss(event.loss)} (avg ${loss(event.smoothedLoss)})  ` +
    `level ${event.level}/${event.levels - 1}  ${event.iterationsPerSecond.toFixed(2)} it/s  ETA ${duration(remaining)}${budgetFirst ? ' (budget)' : ''}` +
    (event.check ? `  ${checkText(event.check)}` : '');
  const width = Math.max(10, Math.min(30, columns - text.length - 3));
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${text}`;
}

/** An event sink for `train()`. */
export function createReporter(options: ReporterOptions): (event: TrainEvent) => void {
  const { err } = options;
  if (options.json) return (event) => options.out.write(`${JSON.stringify(event)}\n`);
  let barShown = false;
  let lastLine = 0;
  return (event) => {
    if (event.type === 'iteration') {
      if (err.isTTY) {
        err.write(`\r${bar(event, err.columns ?? 100)}\x1b[K`);
        barShown = true;
      } else if (event.iteration === event.iterations || performance.now() - lastLine > 10_000) {
        // Piped output (a log file): a line at most every 10 seconds.
        lastLine = performance.now();
        err.write(`${describeEvent(event)}\n`);
      }
      return;
    }
    if (barShown) {
      err.write('\r\x1b[K');
      barShown = false;
    }
    const line = describeEvent(event);
    if (line) err.write(`${line}\n`);
  };
}
