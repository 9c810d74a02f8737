/**
 * Training speed: milliseconds per training iteration (one rollout of B samples, its
 * back-propagation through time and an Adam update, exactly the calls `train()` makes) for both
 * rule families on every tfjs backend that loads, and the GFLOP/s that represents.
 *
 *   node --import tsx test/bench/train.bench.ts [--quick]
 *
 * Prints a markdown table (no assertions). FLOPs are counted as in docs/performance.md: dense
 * layers forward + input gradient + weight gradient (3 x 2 x in x out per cell and step) plus the
 * perception forward and its adjoint (2 x 2 x 9 x K x C); a multiply-add is 2. The recomputed
 * forward of `--memory recompute` is overhead, not counted. The pure-JS cpu backend is timed on
 * a smaller workload (it is ~100x slower) and reported at that size.
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { createArchitecture, type NcaRule } from '../../runtime/format/index.js';
import type { Architecture } from '../../runtime/format/types.js';
import { selectBackend, TRAIN_BACKENDS, type TrainBackend } from '../../trainer/backend.js';
import { TrainableNetwork } from '../../trainer/network.js';
import { Adam } from '../../trainer/optimizer.js';
import { Rng } from '../../trainer/rng.js';
import { rolloutGradients } from '../../trainer/rollout.js';
import { TfStep, type ActivationMemory } from '../../trainer/step.js';
import { chooseMemory } from '../../trainer/train.js';

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

const quick = process.argv.includes('--quick');
/** Share of the grid alive at the start of the timed rollouts. */
const ALIVE_SHARE = 0.31;
const TIMED = quick ? 1 : 3;

/** FLOPs of one iteration, counted as the header says. */
export function flopsPerIteration(arch: Architecture, cells: number, steps: number): number {
  const dense = arch.layers.reduce((sum, layer) => sum + 2 * layer.inputs * layer.outputs, 0);
  const perception = 2 * 9 * arch.kernels.length * arch.channels;
  return cells * steps * (3 * dense + 2 * perception);
}

async function timeWorkload(
  workload: Workload,
  memoryRequest: ActivationMemory | 'auto',
  tfBackend: string,
): Promise<{ ms: number; memory: ActivationMemory; gflops: number; aliveAtEnd: number }> {
  const rng = Rng.fromSeed(1);
  // Each rule's own initialisation (distill: last layer zero), as a training run starts.
  const initial = createArchitecture({ rule: workload.rule, hidden: workload.hidden, random: () => rng.uniform() });
  const arch = workload.emptyBackground ? keepsItsShape(initial) : initial;
  const network = TrainableNetwork.fromArchitecture(arch);
  const step = new TfStep(arch, network);
  const adam = new Adam({ learningRate: 2e-3, decayAt: [], decayFactor: 1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, gradients: { kind: 'normalize' } });
  const { batch, grid, steps } = workload;
  const cells = batch * grid * grid;
  const memory = memoryRequest === 'auto' ? chooseMemory(arch, cells, steps, tfBackend) : memoryRequest;
  const depth = arch.fireGranularity === 'cell' ? 1 : arch.channels;
  // A grown-looking start: a centred disc over 31 % of the grid (a 40x40 sprite's share of a
  // 72x72 grid) alive, random values, alpha in [0.2, 1).
  const startData = new Float32Array(cells * arch.channels);
  const radius = Math.sqrt((ALIVE_SHARE * grid * grid) / Math.PI);
  for (let b = 0; b < batch; b++) {
    for (let y = 0; y < grid; y++) {
      for (let x = 0; x < grid; x++) {
        if ((x + 0.5 - grid / 2) ** 2 + (y + 0.5 - grid / 2) ** 2 >= radius * radius) continue;
        const base = ((b * grid + y) * grid + x) * arch.channels;
        for (let c = 0; c < arch.channels; c++) startData[base + c] = c === arch.alphaChannel ? rng.range(0.2, 1) : rng.uniform();
      }
    }
  }
  const start = tf.tensor4d(startData, [batch, grid, grid, arch.channels]);
  const target = tf.tidy(() => tf.slice(start, [0, 0, 0, 0], [1, -1, -1, 4]));
  let aliveAtEnd = 0;
  const iteration = (i: number): void => {
    const result = rolloutGradients(
      step,
      { start, steps, fireMask: () => tf.tensor4d(rng.bernoulli(new Float32Array(cells * depth), arch.fireRate), [batch, grid, grid, depth]) },
      { target, lossSteps: 1 },
      memory,
    );
    const norms = Adam.norms(result.gradients);
    adam.apply(network.variables, result.gradients, norms, i);
    const alive = tf.tidy(() => tf.mean(step.aliveFlags(result.final)));
    aliveAtEnd = alive.dataSync()[0]!;
    alive.dispose();
    for (const t of [...result.gradients, result.final]) t.dispose();
  };
  iteration(0);
  const began = performance.now();
  for (let i = 1; i <= TIMED; i++) iteration(i);
  const ms = (performance.now() - began) / TIMED;
  for (const t of [start, target]) t.dispose();
  step.dispose();
  adam.dispose();
  network.dispose();
  return { ms, memory, gflops: flopsPerIteration(arch, cells, steps) / 1e9, aliveAtEnd };
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

const WORKLOADS: readonly Workload[] = [
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

const rows: string[] = [];
const notes: string[] = [];
console.log(`# training benchmark: ${TIMED} timed iteration(s) after 1 warm-up, load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
for (const backend of TRAIN_BACKENDS) {
  let selection;
  try {
    selection = await selectBackend(backend as TrainBackend);
  } catch (error) {
    notes.push(`${backend}: skipped (${(error as Error).message.replace(/^no usable TensorFlow.js backend for --backend \w+ \((.*)\)$/, '$1')})`);
    continue;
  }
  const workloads = backend === 'cpu' ? CPU_WORKLOADS : WORKLOADS;
  for (const workload of quick ? workloads.slice(0, 1) : workloads) {
    const memories: (ActivationMemory | 'auto')[] = backend === 'wasm' && workload.grid === 72 && workload.rule === 'distill' ? ['save', 'recompute'] : ['auto'];
    for (const memory of memories) {
      const { ms, memory: used, gflops, aliveAtEnd } = await timeWorkload(workload, memory, selection.tfBackend);
      const row =
        `| ${backend} | ${workload.rule}${workload.emptyBackground ? ' (empty background)' : ''} | ${workload.hidden} | ${workload.batch} | ${workload.grid}x${workload.grid} | ${workload.steps} | ` +
        `${used} | ${Math.round(aliveAtEnd * 100)} % | ${gflops.toFixed(1)} | ${Math.round(ms).toLocaleString('en-US')} | ${(gflops / (ms / 1000)).toFixed(1)} |`;
      rows.push(row);
      console.log(row);
    }
  }
}
console.log('\n| backend | rule | hidden | batch | grid | steps | backward memory | alive at end | GFLOP / iteration | ms / iteration | GFLOP/s |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
for (const note of notes) console.log(`\n${note}`);
