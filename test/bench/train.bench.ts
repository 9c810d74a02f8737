/**
 * Training speed: milliseconds per training iteration (one rollout of B samples, its
 * back-propagation through time and an Adam update: the calls `train()` makes, through the same
 * `createRolloutEngine`) for both rule families, on the fused WebAssembly engine (1 thread and
 * every core) and the tfjs engine on every tfjs backend that loads, and the GFLOP/s that is.
 *
 *   npm run bench:train -- [--quick] [--json] [--rule essay|distill] [--grid N] [--threads N]
 *                          [--engine fused|tfjs] [--kernel simd|relaxed-simd|both] [--vs-torch]
 *
 * --kernel picks the fused kernel's build (trainer/fused/kernel-variant.ts; default: what
 * `nca train` picks, relaxed-simd where it runs); `both` times each, side by side. The backend
 * column says which: wasm-simd or wasm-relaxed-simd.
 * --json prints one JSON object per row ({engine, backend, rule, hidden, batch, grid, steps,
 * emptyBackground, msPerIteration, gflops, threads}) instead of the table. --vs-torch also times
 * the same workloads in PyTorch (test/bench/train_torch.py, Debian's python3-torch at
 * /usr/bin/python3, 2 threads) in the same run, after ours, and prints ours / torch per row;
 * PyTorch is only this anchor, never a dependency. No assertions: a benchmark, not a test.
 *
 * FLOPs are counted as in docs/performance.md: dense layers forward + input gradient + weight
 * gradient (3 x 2 x in x out per cell and step) plus the perception forward and its adjoint
 * (2 x 2 x 9 x K x C); a multiply-add is 2. The recomputed forward of `--memory recompute` is
 * overhead, not counted. The pure-JS cpu backend is timed on a smaller workload (it is ~100x
 * slower) and reported at that size.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { createArchitecture, type NcaRule } from '../../runtime/format/index.js';
import type { Architecture } from '../../runtime/format/types.js';
import { selectBackend, TRAIN_BACKENDS, type TrainBackend, type TrainBackendSelection } from '../../trainer/model/backend.js';
import { TrainableNetwork } from '../../trainer/model/network.js';
import { Adam } from '../../trainer/training/optimizer.js';
import { Rng } from '../../trainer/training/rng.js';
import { createRolloutEngine, fusedUnavailable } from '../../trainer/training/rollout-engine.js';
import { chosenKernelVariant, KERNEL_VARIANTS, type KernelVariant } from '../../trainer/fused/kernel-variant.js';
import { TfStep, type ActivationMemory } from '../../trainer/model/step.js';
import { chooseMemory } from '../../trainer/training/memory.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    rule: { type: 'string' },
    grid: { type: 'string' },
    threads: { type: 'string' },
    engine: { type: 'string' },
    kernel: { type: 'string' },
    'vs-torch': { type: 'boolean', default: false },
  },
});

interface Workload {
  readonly rule: NcaRule;
  readonly hidden: number;
  readonly grid: number;
  readonly batch: number;
  readonly steps: number;
  /**
   * Essay only: weights edited so that empty cells stay empty and living ones live (one hidden
   * unit reads the cell's own alpha, the alpha output reads only that unit, bias -3), as a model
   * does once it has learnt its background. Fresh essay weights (sigmoid(0) = 0.5 > 0.1) bring
   * every cell to life, the worst case for skipping rows.
   */
  readonly emptyBackground?: boolean;
}

interface Row {
  readonly engine: 'fused' | 'tfjs';
  readonly backend: string;
  readonly rule: NcaRule;
  readonly hidden: number;
  readonly batch: number;
  readonly grid: number;
  readonly steps: number;
  readonly emptyBackground: boolean;
  readonly memory: ActivationMemory;
  readonly aliveAtEnd: number;
  readonly msPerIteration: number;
  readonly gflops: number;
  readonly threads: number;
}

/** Share of the grid alive at the start of the timed rollouts. */
const ALIVE_SHARE = 0.31;
const TIMED = args.quick ? 1 : 3;
/**
 * Untimed iterations first: the first compiles, and V8 runs WebAssembly in its baseline tier
 * (Liftoff, ~3x slower here) until the hot functions tier up, which can take into the second.
 */
const WARM_UP = 2;

/** FLOPs of one iteration, counted as the header says. */
export function flopsPerIteration(arch: Architecture, cells: number, steps: number): number {
  const dense = arch.layers.reduce((sum, layer) => sum + 2 * layer.inputs * layer.outputs, 0);
  const perception = 2 * 9 * arch.kernels.length * arch.channels;
  return cells * steps * (3 * dense + 2 * perception);
}

/** A grown-looking start: a centred disc over 31 % of the grid alive, random values, alpha in [0.2, 1). */
function startStates(arch: Architecture, workload: Workload, rng: Rng): Float32Array {
  const { batch, grid } = workload;
  const data = new Float32Array(batch * grid * grid * arch.channels);
  const radius = Math.sqrt((ALIVE_SHARE * grid * grid) / Math.PI);
  for (let b = 0; b < batch; b++) {
    for (let y = 0; y < grid; y++) {
      for (let x = 0; x < grid; x++) {
        if ((x + 0.5 - grid / 2) ** 2 + (y + 0.5 - grid / 2) ** 2 >= radius * radius) continue;
        const base = ((b * grid + y) * grid + x) * arch.channels;
        for (let c = 0; c < arch.channels; c++) data[base + c] = c === arch.alphaChannel ? rng.range(0.2, 1) : rng.uniform();
      }
    }
  }
  return data;
}

async function timeWorkload(
  workload: Workload,
  engineKind: 'fused' | 'tfjs',
  threads: number,
  memoryRequest: ActivationMemory | 'auto',
  backend: TrainBackendSelection,
): Promise<Row> {
  const rng = Rng.fromSeed(1);
  // Each rule's own initialisation (distill: last layer zero), as a training run starts.
  const initial = createArchitecture({ rule: workload.rule, hidden: workload.hidden, random: () => rng.uniform() });
  const arch = workload.emptyBackground ? keepsItsShape(initial) : initial;
  const network = TrainableNetwork.fromArchitecture(arch);
  const step = new TfStep(arch, network);
  const adam = new Adam({ learningRate: 2e-3, decayAt: [], decayFactor: 1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, gradients: { kind: 'normalize' } });
  const { batch, grid, steps } = workload;
  const cells = batch * grid * grid;
  const starts = startStates(arch, workload, rng);
  const target = tf.tidy(() => tf.slice(tf.tensor4d(starts, [batch, grid, grid, arch.channels]), [0, 0, 0, 0], [1, -1, -1, 4])) as tf.Tensor4D;
  const engine = createRolloutEngine(step, network, target, backend, {
    request: engineKind,
    threads,
    batch,
    cells,
    maxSteps: steps,
    lossSteps: 1,
    aliveGradient: 'constant',
    tfMemory: () => (memoryRequest === 'auto' ? chooseMemory(arch, cells, steps, backend.tfBackend) : memoryRequest),
  });
  let aliveAtEnd = 0;
  const iteration = async (i: number): Promise<void> => {
    const result = await engine.run({ starts, batch, height: grid, width: grid, steps, maskSeed: rng.nextUint32(), poison: false });
    const norms = Adam.norms(result.gradients);
    adam.apply(network.variables, result.gradients, norms, i);
    const alive = tf.tidy(() => tf.mean(step.aliveFlags(result.final)));
    aliveAtEnd = alive.dataSync()[0]!;
    alive.dispose();
    for (const t of [...result.gradients, result.final]) t.dispose();
  };
  for (let i = 0; i < WARM_UP; i++) await iteration(i);
  const began = performance.now();
  for (let i = WARM_UP; i < WARM_UP + TIMED; i++) await iteration(i);
  const ms = (performance.now() - began) / TIMED;
  await engine.close();
  target.dispose();
  step.dispose();
  adam.dispose();
  network.dispose();
  return {
    engine: engine.kind,
    backend: engine.kind === 'fused' ? `wasm-${chosenKernelVariant()}` : backend.chosen,
    rule: workload.rule,
    hidden: workload.hidden,
    batch,
    grid,
    steps,
    emptyBackground: workload.emptyBackground ?? false,
    memory: engine.memory ?? 'save',
    aliveAtEnd,
    msPerIteration: ms,
    gflops: flopsPerIteration(arch, cells, steps) / 1e9,
    threads: engine.threads,
  };
}

/** See `Workload.emptyBackground`: hidden unit 0 = atan(4 x own alpha); alpha out = sigmoid(6 h0 - 3). */
function keepsItsShape(arch: Architecture): Architecture {
  const [first, second] = arch.layers;
  const kernels = arch.kernels.length;
  const ownAlpha = arch.alphaChannel * kernels; // channel-major, kernel 0 is the identity
  const w0 = first!.weights.slice();
  for (let i = 0; i < first!.inputs; i++) w0[i] = i === ownAlpha ? 4 : 0;
  const b0 = first!.bias.slice();
  b0[0] = 0;
  const w1 = second!.weights.slice();
  for (let j = 0; j < second!.inputs; j++) w1[arch.alphaChannel * second!.inputs + j] = j === 0 ? 6 : 0;
  const b1 = second!.bias.slice();
  b1[arch.alphaChannel] = -3;
  return { ...arch, layers: [{ ...first!, weights: w0, bias: b0 }, { ...second!, weights: w1, bias: b1 }] };
}

const ALL_WORKLOADS: readonly Workload[] = [
  { rule: 'distill', hidden: 128, grid: 40, batch: 8, steps: 48 },
  { rule: 'distill', hidden: 128, grid: 72, batch: 8, steps: 48 },
  { rule: 'essay', hidden: 64, grid: 40, batch: 8, steps: 48 },
  { rule: 'essay', hidden: 64, grid: 72, batch: 8, steps: 48 },
  { rule: 'essay', hidden: 64, grid: 40, batch: 8, steps: 48, emptyBackground: true },
  { rule: 'essay', hidden: 64, grid: 72, batch: 8, steps: 48, emptyBackground: true },
];
/** What the pure-JS backend is timed on instead. */
const CPU_WORKLOADS: readonly Workload[] = [
  { rule: 'distill', hidden: 128, grid: 40, batch: 1, steps: 4 },
  { rule: 'essay', hidden: 64, grid: 40, batch: 1, steps: 4 },
];

function selected(workloads: readonly Workload[]): Workload[] {
  const chosen = workloads.filter((w) => (!args.rule || w.rule === args.rule) && (!args.grid || w.grid === Number(args.grid)));
  return args.quick ? chosen.slice(0, 1) : chosen;
}

const kernels: KernelVariant[] =
  args.kernel === 'both' ? [...KERNEL_VARIANTS] : args.kernel === 'simd' || args.kernel === 'relaxed-simd' ? [args.kernel] : [chosenKernelVariant()];
if (args.kernel !== undefined && args.kernel !== 'both' && !(KERNEL_VARIANTS as readonly string[]).includes(args.kernel)) throw new RangeError(`--kernel ${args.kernel}: expected simd, relaxed-simd or both`);
const cores = availableParallelism();
const fusedThreads = args.threads ? [Number(args.threads)] : [...new Set([1, cores])];
const rows: Row[] = [];
const notes: string[] = [];
const report = (row: Row): void => {
  rows.push(row);
  if (args.json) console.log(JSON.stringify({ ...row, msPerIteration: Math.round(row.msPerIteration) }));
  else console.error(`  ${row.engine} ${row.backend} ${row.rule}${row.emptyBackground ? ' (empty background)' : ''} ${row.grid}x${row.grid} threads ${row.threads}: ${Math.round(row.msPerIteration)} ms`);
};
if (!args.json) console.log(`# training benchmark: ${TIMED} timed iteration(s) after ${WARM_UP} warm-up, ${cores} cores, load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);

// The fused engine needs a tfjs backend only for Adam; wasm is what `nca train` picks here.
if (!args.engine || args.engine === 'fused') {
  const backend = await selectBackend('wasm');
  for (const workload of selected(ALL_WORKLOADS)) {
    const arch = createArchitecture({ rule: workload.rule, hidden: workload.hidden });
    for (const threads of fusedThreads) {
      const why = fusedUnavailable(arch, workload.batch * workload.grid ** 2, workload.steps, threads);
      if (why) {
        notes.push(`fused ${workload.rule} ${workload.grid}: skipped (${why})`);
        continue;
      }
      for (const kernel of kernels) {
        // The engine reads its build from NCA_KERNEL, as `nca train` does.
        process.env['NCA_KERNEL'] = kernel;
        report(await timeWorkload(workload, 'fused', threads, 'auto', backend));
      }
    }
  }
}
if (!args.engine || args.engine === 'tfjs') {
  for (const name of TRAIN_BACKENDS) {
    let backend: TrainBackendSelection;
    try {
      backend = await selectBackend(name as TrainBackend);
    } catch (error) {
      notes.push(`tfjs ${name}: skipped (${(error as Error).message.replace(/^no usable TensorFlow.js backend for --backend \w+ \((.*)\)$/, '$1')})`);
      continue;
    }
    for (const workload of selected(name === 'cpu' ? CPU_WORKLOADS : ALL_WORKLOADS)) {
      const memories: (ActivationMemory | 'auto')[] = name === 'wasm' && workload.grid === 72 && workload.rule === 'distill' ? ['save', 'recompute'] : ['auto'];
      for (const memory of memories) report(await timeWorkload(workload, 'tfjs', 1, memory, backend));
    }
  }
}

interface TorchRow {
  readonly rule: NcaRule;
  readonly grid: number;
  readonly msPerIteration: number;
  readonly memoryFormat: string;
}
const torch = new Map<string, TorchRow>();
const torchKey = (rule: string, grid: number): string => `${rule}/${grid}`;
if (args['vs-torch']) {
  const python = process.env['NCA_TORCH_PYTHON'] ?? '/usr/bin/python3';
  const probe = existsSync(python) ? spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }) : undefined;
  if (!probe || probe.status !== 0) {
    notes.push(`PyTorch: skipped (${python} cannot import torch; on Debian: apt-get install python3-torch)`);
  } else {
    const workloads = [...new Map(rows.filter((r) => r.batch > 1).map((r) => [torchKey(r.rule, r.grid), { rule: r.rule, hidden: r.hidden, grid: r.grid, batch: r.batch, steps: r.steps, threads: cores }])).values()];
    const run = spawnSync(python, [new URL('./train_torch.py', import.meta.url).pathname], { input: JSON.stringify(workloads), encoding: 'utf8', maxBuffer: 1 << 20 });
    if (run.status !== 0) notes.push(`PyTorch: failed (${run.stderr.trim().split('\n').pop()})`);
    for (const line of run.stdout.split('\n').filter((l) => l.trim() !== '')) {
      const row = JSON.parse(line) as TorchRow;
      torch.set(torchKey(row.rule, row.grid), row);
      if (args.json) console.log(JSON.stringify({ engine: 'pytorch', ...row, msPerIteration: Math.round(row.msPerIteration) }));
    }
  }
}

if (!args.json) {
  const withTorch = torch.size > 0;
  console.log(
    `\n| engine | backend | threads | rule | hidden | batch | grid | steps | backward memory | alive at end | GFLOP / iteration | ms / iteration | GFLOP/s |${withTorch ? ' PyTorch ms | ours / PyTorch |' : ''}`,
  );
  console.log(`|---|---|---|---|---|---|---|---|---|---|---|---|---|${withTorch ? '---|---|' : ''}`);
  for (const row of rows) {
    const anchor = row.batch > 1 ? torch.get(torchKey(row.rule, row.grid)) : undefined;
    console.log(
      `| ${row.engine} | ${row.backend} | ${row.threads} | ${row.rule}${row.emptyBackground ? ' (empty background)' : ''} | ${row.hidden} | ${row.batch} | ${row.grid}x${row.grid} | ${row.steps} | ` +
        `${row.memory} | ${Math.round(row.aliveAtEnd * 100)} % | ${row.gflops.toFixed(1)} | ${Math.round(row.msPerIteration).toLocaleString('en-US')} | ${(row.gflops / (row.msPerIteration / 1000)).toFixed(1)} |` +
        (withTorch ? (anchor ? ` ${Math.round(anchor.msPerIteration).toLocaleString('en-US')} | ${(row.msPerIteration / anchor.msPerIteration).toFixed(2)}x |` : ' | |') : ''),
    );
  }
  for (const note of notes) console.log(`\n${note}`);
} else {
  for (const note of notes) console.error(note);
}
