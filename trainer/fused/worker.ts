/**
 * A worker thread of the fused trainer (parallel.ts): holds one FusedEngine and runs the groups
 * of samples the main thread sends, returning their losses, final states and gradients.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FusedEngine } from './engine.js';
import type { WorkerReply, WorkerRequest, WorkerSetup } from './parallel.js';

const setup = workerData as WorkerSetup;
const engine = new FusedEngine(setup.arch, { aliveGradient: setup.aliveGradient, kernel: setup.kernel });
const port = parentPort!;

port.on('message', (request: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    const result = engine.run(request.rollout, request.weights);
    reply = { ok: true, result };
    // Every array of the result is a fresh copy (slice), so its buffer can move.
    const buffers = [result.perSample, result.final, ...result.gradients].map((a) => a.buffer as ArrayBuffer);
    port.postMessage(reply, buffers);
  } catch (error) {
    reply = { ok: false, message: error instanceof Error ? error.message : String(error) };
    port.postMessage(reply);
  }
});
