/**
 * The checkpoint window: a writer killed (SIGKILL, a real child process) at every step of a save
 * leaves a loadable checkpoint, also right after a resume that fell back past a damaged latest
 * file; the temporary files a killed writer leaves are removed once it is gone (and a run clears
 * them when it starts); summary.json is replaced atomically.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { link, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeStaleTemporaries } from '../../trainer/io/atomic.js';
import { CHECKPOINT_FILE, decodeCheckpoint, encodeCheckpoint, loadCheckpoint, PREVIOUS_CHECKPOINT_FILE, saveCheckpoint } from '../../trainer/io/checkpoint.js';
import { optionsFromArgs } from '../../trainer/cli/train.js';
import { selectBackend } from '../../trainer/model/backend.js';
import { train, type TrainEvent } from '../../trainer/training/train.js';
import { exportBytes, makeCheckpoint } from '../fixtures/checkpoints.js';
import { tinyOptions } from './trainer-helpers.js';

const WRITER = join(import.meta.dirname, '..', 'fixtures', 'checkpoint-writer.ts');
const TSX = import.meta.resolve('tsx');

let folder: string;
before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'nca-checkpoint-window-'));
});
after(async () => {
  await rm(folder, { recursive: true, force: true });
});

const bytesOf = (iteration: number): Buffer => Buffer.concat(encodeCheckpoint(makeCheckpoint(iteration)));

interface Writer {
  /** `<call> <file names>` of each step reached, in order. */
  readonly steps: string[];
  readonly killed: boolean;
}

/** Runs the writer fixture; with `stopAt` > 0 it is SIGKILLed when it pauses before that step. */
function runWriter(runDir: string, iteration: number, latest: string, stopAt = 0): Promise<Writer> {
  const child = spawn(process.execPath, ['--import', TSX, WRITER, runDir, String(iteration), latest, String(stopAt)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const steps: string[] = [];
  let stderr = '';
  let killed = false;
  let partial = '';
  child.stdout.on('data', (data: Buffer) => {
    partial += data.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith('step ')) steps.push(line.replace(/^step \d+ /, ''));
      if (line === 'paused') {
        killed = child.kill('SIGKILL');
      }
    }
  });
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => {
      if (stopAt > 0 && !killed) reject(new Error(`the writer never reached step ${stopAt} (exit ${code}): ${stderr}`));
      else if (stopAt === 0 && code !== 0) reject(new Error(`the writer failed (exit ${code ?? signal}): ${stderr}`));
      else resolve({ steps, killed });
    });
  });
}

interface Scenario {
  readonly name: string;
  /** The run folder's files before the save (absent: no such file). */
  readonly latest?: Buffer;
  readonly previous?: Buffer;
  /** What the writer is told of the latest file (`resume`: it loads the run first, as a resume does). */
  readonly mode: 'good' | 'unknown' | 'resume';
  /** The iterations a load may find at any instant of the save. */
  readonly allowed: readonly number[];
  /** The iterations of checkpoint.bin and checkpoint.prev.bin once the save is done. */
  readonly after: readonly [number, number];
}

const damagedBytes = (): Buffer => {
  const bytes = bytesOf(2);
  bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
  return bytes;
};

const SCENARIOS: Scenario[] = [
  { name: 'two good checkpoints', latest: bytesOf(2), previous: bytesOf(1), mode: 'good', allowed: [2, 3], after: [3, 2] },
  { name: 'a damaged latest after a resume that fell back to the previous one', latest: damagedBytes(), previous: bytesOf(1), mode: 'resume', allowed: [1, 3], after: [3, 1] },
  { name: 'a damaged latest the writer was not told about', latest: damagedBytes(), previous: bytesOf(1), mode: 'unknown', allowed: [1, 3], after: [3, 1] },
  { name: 'no latest, only a previous checkpoint', previous: bytesOf(1), mode: 'resume', allowed: [1, 3], after: [3, 1] },
];

async function prepare(runDir: string, scenario: Scenario): Promise<void> {
  await rm(runDir, { recursive: true, force: true });
  await mkdir(runDir, { recursive: true });
  if (scenario.latest) await writeFile(join(runDir, CHECKPOINT_FILE), scenario.latest);
  if (scenario.previous) await writeFile(join(runDir, PREVIOUS_CHECKPOINT_FILE), scenario.previous);
}

const iterationIn = async (runDir: string, file: string): Promise<number> => decodeCheckpoint(await readFile(join(runDir, file))).iteration;

describe('checkpoint window: SIGKILL at every step of a save', () => {
  for (const [index, scenario] of SCENARIOS.entries()) {
    it(`${scenario.name}: a loadable checkpoint at every instant`, async () => {
      const runDir = join(folder, `run-${index}`);
      await prepare(runDir, scenario);
      const whole = await runWriter(runDir, 3, scenario.mode);
      // Read now, judged last: the kills below are the more telling failure.
      const done = await Promise.all([CHECKPOINT_FILE, PREVIOUS_CHECKPOINT_FILE].map((file) => iterationIn(runDir, file).catch((error: Error) => error.message)));
      // Every step but the writes of the file's chunks, and the first and last of those.
      const writes = whole.steps.flatMap((step, i) => (step.startsWith('handle.write') ? [i] : []));
      const stops = whole.steps.map((_, i) => i).filter((i) => !writes.includes(i) || i === writes[0] || i === writes.at(-1));
      for (const i of stops) {
        await prepare(runDir, scenario);
        const stopped = await runWriter(runDir, 3, scenario.mode, i + 1);
        assert.ok(stopped.killed);
        const at = `killed before step ${i + 1} (${whole.steps[i]})`;
        let loaded;
        try {
          loaded = await loadCheckpoint(runDir);
        } catch (error) {
          assert.fail(`${at}: no loadable checkpoint: ${(error as Error).message}`);
        }
        assert.ok(scenario.allowed.includes(loaded.checkpoint.iteration), `${at}: loaded iteration ${loaded.checkpoint.iteration}`);
        if (scenario.mode === 'good') assert.equal(loaded.fallbackReason, undefined, `${at}: the latest file was missing or damaged`);
        // The killed writer's temporary files go once it is gone, and nothing else does.
        await removeStaleTemporaries(runDir);
        assert.deepEqual((await readdir(runDir)).filter((name) => name.includes('.tmp-')), [], at);
        assert.equal((await loadCheckpoint(runDir)).checkpoint.iteration, loaded.checkpoint.iteration, at);
      }
      assert.deepEqual(done, scenario.after, 'after the save: the new checkpoint, and the good one before it as the previous file');
    });
  }
});

describe('export window: SIGKILL at every step of replacing a model file', () => {
  it('the file is at every instant the whole old version or the whole new one', async () => {
    const runDir = join(folder, 'export');
    const model = join(runDir, 'model.nca');
    const prepareModel = async (): Promise<void> => {
      await rm(runDir, { recursive: true, force: true });
      await mkdir(runDir, { recursive: true });
      await writeFile(model, Buffer.concat(exportBytes(1)));
    };
    await prepareModel();
    const whole = await runWriter(runDir, 2, 'export');
    assert.deepEqual(await readFile(model), Buffer.concat(exportBytes(2)));
    for (let i = 0; i < whole.steps.length; i++) {
      await prepareModel();
      assert.ok((await runWriter(runDir, 2, 'export', i + 1)).killed);
      const bytes = await readFile(model);
      assert.ok(bytes.equals(Buffer.concat(exportBytes(1))) || bytes.equals(Buffer.concat(exportBytes(2))), `killed before step ${i + 1} (${whole.steps[i]}): ${bytes.length} bytes, neither version`);
    }
  });
});

/** The id of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('a run folder after killed writers', () => {
  before(async () => {
    await selectBackend('wasm');
  });

  it('a run removes the temporary files of writers no longer running when it starts, and only those', async () => {
    const options = tinyOptions(folder, 'stale', { iterations: 2 });
    const dead = await deadPid();
    const alive = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      await mkdir(options.runDir, { recursive: true });
      const names = {
        dead: [join(options.runDir, `checkpoint.bin.tmp-${dead}`), join(options.runDir, `loss.svg.tmp-${dead}`), `${options.out}.tmp-${dead}`],
        kept: [join(options.runDir, `checkpoint.bin.tmp-${alive.pid}`), join(folder, `someone-else.nca.tmp-${dead}`)],
      };
      for (const path of [...names.dead, ...names.kept]) await writeFile(path, 'half-written');
      const events: TrainEvent[] = [];
      await train(options, { onEvent: (event) => events.push(event) });
      const exists = async (path: string): Promise<boolean> => readFile(path).then(() => true, () => false);
      for (const path of names.dead) assert.equal(await exists(path), false, `${path} was left`);
      for (const path of names.kept) assert.equal(await exists(path), true, `${path} was removed`);
      const warning = events.find((e) => e.type === 'warning' && /removed 3 temporary file\(s\) left by a killed run/.test(e.message));
      assert.ok(warning, JSON.stringify(events.filter((e) => e.type === 'warning')));
    } finally {
      alive.kill();
    }
  });

  it('a growth checkpoint from before --crop resumes from the seed it trained from, not from the crop growth now defaults to', async () => {
    const options = tinyOptions(folder, 'pre-crop', { iterations: 2 });
    await train(options);
    const { checkpoint } = await loadCheckpoint(options.runDir);
    const { crop, ...older } = checkpoint.options;
    assert.equal(crop, 0);
    await saveCheckpoint(options.runDir, { ...checkpoint, options: older as typeof checkpoint.options });
    const resumed = await optionsFromArgs({ resume: true, 'run-dir': options.runDir });
    assert.equal(resumed.crop, 0);
    assert.equal((await optionsFromArgs({ resume: true, 'run-dir': options.runDir, crop: '0.5' })).crop, 0.5, 'a flag given still wins (train() then refuses the change)');
  });

  it('after a resume that fell back past a damaged latest checkpoint, the next save keeps the good previous one', async () => {
    await train(tinyOptions(folder, 'fell-back', { iterations: 4 }));
    const options = tinyOptions(folder, 'fell-back', { iterations: 6, checkpointEvery: 100, resume: true });
    const latest = join(options.runDir, CHECKPOINT_FILE);
    const bytes = await readFile(latest);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
    await writeFile(latest, bytes);
    const events: TrainEvent[] = [];
    await train(options, { onEvent: (event) => events.push(event) });
    assert.equal(events.filter((e) => e.type === 'checkpoint').length, 1, 'one save, at the end');
    assert.equal(await iterationIn(options.runDir, CHECKPOINT_FILE), 6);
    assert.equal(await iterationIn(options.runDir, PREVIOUS_CHECKPOINT_FILE), 2, 'the damaged file did not replace the good previous one');
  });

  it('summary.json is replaced atomically (a new file renamed into place, not rewritten in place)', async () => {
    const options = tinyOptions(folder, 'summary', { iterations: 2 });
    await mkdir(options.runDir, { recursive: true });
    const summary = join(options.runDir, 'summary.json');
    await writeFile(summary, '{"old": true}\n');
    // A second name for the old file: an in-place rewrite would change what it reads too.
    await link(summary, join(folder, 'old-summary.json'));
    await train(options);
    assert.equal(await readFile(join(folder, 'old-summary.json'), 'utf8'), '{"old": true}\n');
    assert.equal((JSON.parse(await readFile(summary, 'utf8')) as { iterations: number }).iterations, 2);
    assert.deepEqual((await readdir(options.runDir)).filter((name) => name.includes('.tmp-')), []);
  });
});
