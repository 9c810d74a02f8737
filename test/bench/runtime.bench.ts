/**
 * `npm run bench:runtime`: steps/s of the gpu.js engine in Node (webasm with and without its
 * worker pool, cpu) beside the reference step, at 64x64 and 96x96, hidden 64 and 128, both rule
 * families. Prints a Markdown table (docs/performance.md, "Runtime"); asserts nothing.
 *
 *   node --import tsx test/bench/runtime.bench.ts [--budget MS] [--only distill|essay] [--size 64|96]
 */
import { cpus, loadavg } from 'node:os';
import { BENCH_CASES, formatTable, measureEngine, measureReference, type BenchRow } from './runtime-measure.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const budget = Number(arg('budget') ?? 1500);
const only = arg('only');
const size = arg('size');
const cases = BENCH_CASES.filter((c) => (!only || c.rule === only) && (!size || c.size === Number(size)));

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
console.log(`Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}; load average before: ${load()}`);
const rows: BenchRow[] = [];
for (const c of cases) {
  rows.push(await measureReference(c, budget));
  rows.push(await measureEngine(c, 'webasm', { threads: true }, 'threads', budget));
  rows.push(await measureEngine(c, 'webasm', { threads: false }, '1 thread', budget));
  rows.push(await measureEngine(c, 'cpu', {}, '', budget));
  const last = rows.slice(-4);
  console.error(last.map((r) => `${r.rule} ${r.size} ${r.hidden} ${r.runner}: ${r.msPerStep?.toFixed(1) ?? '-'} ms`).join('\n'));
}
console.log(formatTable(rows));
console.log(`load average after: ${load()}`);
