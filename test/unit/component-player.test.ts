import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EnginePlayer, inspectState, MAX_STEPS_PER_FRAME, STATE_CHECK_INTERVAL } from '../../component/engine-player.js';
import type { NcaEngine } from '../../runtime/index.js';

/**
 * A fake engine that records calls; `health(step)` says what readState shows at a step count.
 * Like the real one on webgl/cpu, an operation has run when the call returns (the Promise is
 * already resolved); `async: true` makes steps finish a macrotask later, as on webgpu/webasm.
 */
class FakeEngine extends EventTarget {
  async = false;
  paused = false;
  stepCount = 0;
  readonly width = 8;
  readonly height = 8;
  readonly calls: string[] = [];
  readStates = 0;
  health: (stepCount: number) => 'alive' | 'dead' | 'nan' = () => 'alive';
  readonly model = {
    architecture: { channels: 4, alphaChannel: 3, aliveThreshold: 0.1 },
    metadata: { name: 'fake', start: { kind: 'seed' as 'seed' | 'image' } },
  };
  step(n = 1): Promise<void> {
    if (!this.async) {
      this.stepCount += n;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      setTimeout(() => {
        this.stepCount += n;
        resolve();
      }, 1),
    );
  }
  async reset(): Promise<void> {
    this.stepCount = 0;
    this.calls.push('reset');
  }
  async setStateFromImage(_rgba: Uint8Array, w: number, h: number): Promise<void> {
    this.stepCount = 0;
    this.calls.push(`image ${w}x${h}`);
  }
  async damage(x: number, y: number, r: number): Promise<void> {
    this.calls.push(`damage ${x},${y},${r.toFixed(1)}`);
  }
  async plant(x: number, y: number): Promise<void> {
    this.calls.push(`plant ${x},${y}`);
  }
  async readState(): Promise<Float32Array> {
    this.readStates++;
    const state = new Float32Array(this.width * this.height * 4);
    const health = this.health(this.stepCount);
    if (health === 'alive') state[3] = 1;
    if (health === 'nan') state[5] = Number.NaN;
    return state;
  }
}

function setup(health?: FakeEngine['health']) {
  const engine = new FakeEngine();
  if (health) engine.health = health;
  let draws = 0;
  const player = new EnginePlayer(engine as unknown as NcaEngine, () => draws++);
  return { engine, player, draws: () => draws };
}

/** Runs `seconds` of frames (each awaited, as a fast backend finishes within its frame) and returns the steps taken. */
async function runFrames(player: EnginePlayer, seconds: number, fps = 60, start = 1000): Promise<number> {
  let steps = 0;
  const frames = Math.round(seconds * fps);
  for (let i = 0; i <= frames; i++) steps += (await player.frame(start + (i * 1000) / fps)).steps;
  return steps;
}

test('speed 1 runs 60 steps per second; the first frame after resume runs none', async () => {
  const { player } = setup();
  await player.restart();
  // Frames at 0, 1/60, ..., 2 s: the first has no previous frame and runs nothing.
  assert.equal(await runFrames(player, 2), 120);
});

test('fractional speed accumulates: 0.1 runs a step every tenth frame, 6 per second', async () => {
  const { player, engine } = setup();
  player.settings = { ...player.settings, speed: 0.1 };
  await player.restart();
  const steps = await runFrames(player, 5);
  assert.ok(Math.abs(steps - 30) <= 1, `~30 steps in 5 s, got ${steps}`);
  assert.equal(engine.stepCount, steps);
});

test('speed is independent of the frame rate (30 Hz and 144 Hz)', async () => {
  for (const fps of [30, 144]) {
    const { player } = setup();
    player.settings = { ...player.settings, speed: 0.5 };
    await player.restart();
    const steps = await runFrames(player, 4, fps);
    assert.ok(Math.abs(steps - 120) <= 1, `${fps} Hz: ~120 steps, got ${steps}`);
  }
});

test('a long gap (hidden tab, debugger) is not caught up; high speed is capped per frame', async () => {
  const { player } = setup();
  player.settings = { ...player.settings, speed: 16 };
  await player.restart();
  await player.frame(0);
  assert.equal((await player.frame(10_000)).steps, MAX_STEPS_PER_FRAME);
  player.resume();
  assert.equal((await player.frame(20_000)).steps, 0);
});

test('freeze-frames hold the start for N frames before stepping', async () => {
  const { player } = setup();
  player.settings = { ...player.settings, freezeFrames: 10 };
  await player.restart();
  let frame = 0;
  const stepsAt = async () => (await player.frame(1000 + (frame++ * 1000) / 60)).steps;
  for (let i = 0; i < 10; i++) assert.equal(await stepsAt(), 0, `frame ${i} frozen`);
  let later = 0;
  for (let i = 0; i < 10; i++) later += await stepsAt();
  assert.ok(later >= 9, `steps after the freeze: ${later}`);
});

test('state checks are occasional: at 8, 16, 32, then every 64 steps', async () => {
  const { player, engine } = setup();
  await player.restart();
  await player.stepBy(STATE_CHECK_INTERVAL * 4);
  assert.equal(engine.readStates, 3 + 4);
  assert.equal(engine.stepCount, STATE_CHECK_INTERVAL * 4);
});

test('a dead state halts stepping and reports; plant revives it', async () => {
  const { player, engine } = setup((n) => (n >= 5 ? 'dead' : 'alive'));
  await player.restart();
  const report = await player.stepBy(20);
  assert.equal(report.problem, 'dead');
  assert.equal(engine.stepCount, 8, 'stopped at the first check');
  assert.equal(player.halted, 'dead');
  assert.equal(await runFrames(player, 1), 0, 'no steps while halted');
  await player.plant(2, 3);
  assert.equal(player.halted, undefined);
  assert.deepEqual(engine.calls.slice(-1), ['plant 2,3']);
});

test('a NaN state is reported as nan and halts', async () => {
  const { player } = setup((n) => (n >= 30 ? 'nan' : 'alive'));
  await player.restart();
  assert.equal((await player.stepBy(100)).problem, 'nan');
  assert.equal(player.halted, 'nan');
});

test('loop: a dead state restarts instead of halting', async () => {
  const { player, engine } = setup((n) => (n >= 1 ? 'dead' : 'alive'));
  player.settings = { ...player.settings, loop: { enabled: true, afterSteps: undefined } };
  await player.restart();
  const report = await player.stepBy(10);
  assert.equal(report.problem, 'dead');
  assert.equal(report.restarted, true);
  assert.equal(player.halted, undefined);
  assert.equal(engine.stepCount, 0);
  assert.equal(engine.calls.filter((c) => c === 'reset').length, 2);
});

test('loop N restarts exactly at N steps', async () => {
  const { player, engine } = setup();
  player.settings = { ...player.settings, loop: { enabled: true, afterSteps: 100 } };
  await player.restart();
  await player.stepBy(99);
  assert.equal(engine.stepCount, 99);
  const report = await player.stepBy(5);
  assert.equal(report.restarted, true);
  assert.equal(engine.stepCount, 0);
});

test('start kinds: model resets, rgba sets the image, seed on an image model clears and plants', async () => {
  const { player, engine } = setup();
  player.setStart({ kind: 'rgba', rgba: new Uint8Array(4 * 4 * 4), width: 4, height: 4 });
  await player.restart();
  assert.deepEqual(engine.calls, ['reset', 'image 4x4']);
  engine.calls.length = 0;
  engine.model.metadata.start.kind = 'image';
  player.setStart({ kind: 'seed' });
  await player.restart();
  assert.equal(engine.calls[0], 'reset');
  assert.match(engine.calls[1]!, /^damage 4,4,11\.3/);
  assert.equal(engine.calls[2], 'plant 4,4');
});

test('inspectState: alive, dead (alpha at or below threshold), NaN and Infinity', async () => {
  // Thresholds are float32 in a model (decoded from an f32 field), as are the state values.
  const threshold = Math.fround(0.1);
  const s = new Float32Array(8);
  assert.equal(inspectState(s, 4, 3, threshold), 'dead');
  s[7] = 0.1;
  assert.equal(inspectState(s, 4, 3, threshold), 'dead');
  s[7] = 0.5;
  assert.equal(inspectState(s, 4, 3, threshold), undefined);
  s[0] = Infinity;
  assert.equal(inspectState(s, 4, 3, threshold), 'nan');
});

test('a slow (asynchronous) backend: one batch in flight, time banked up to a frame cap, never a pile-up', async () => {
  const { player, engine } = setup();
  engine.async = true;
  await player.restart();
  // Frames arrive every 16.7 ms without waiting for the steps, as requestAnimationFrame does.
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i <= 30; i++) pending.push(player.frame(1000 + (i * 1000) / 60));
  assert.equal(player.busy, true);
  const reports = (await Promise.all(pending)) as { steps: number }[];
  const started = reports.filter((r) => r.steps > 0).length;
  assert.equal(started, 1, 'frames during a batch in flight start nothing');
  assert.equal(engine.stepCount, reports.reduce((sum, r) => sum + r.steps, 0));
  // The banked time runs in the next free frame, capped.
  const next = await player.frame(1000 + (31 * 1000) / 60);
  assert.equal(next.steps, MAX_STEPS_PER_FRAME);
});

test('stepBy waits for a batch in flight instead of interleaving with it', async () => {
  const { player, engine } = setup();
  engine.async = true;
  await player.restart();
  await player.frame(0);
  const frame = player.frame(50); // 3 steps in flight
  const manual = player.stepBy(10);
  const [a, b] = await Promise.all([frame, manual]);
  assert.equal(a.steps + b.steps, 13);
  assert.equal(engine.stepCount, 13);
});
