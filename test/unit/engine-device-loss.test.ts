/**
 * WebGPU device loss (issue 12, item 3): `device.lost` maps to the WebGL context-loss path. Every
 * engine on the shared instance pauses (`context-lost`), rebuilds on a fresh device and resumes
 * from its start (`context-restored`); a rebuild that fails, or a device lost again and again,
 * ends in `error`. Node has no WebGPU, so the devices here are fakes whose `lost` we resolve; the
 * first test goes through gpu.js's own device acquisition with a fake `navigator.gpu`.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { MAX_DEVICE_RESTORES, type DeviceLostInfo, type LosableDevice } from '../../runtime/engine/device-loss.js';
import type { Driver } from '../../runtime/engine/driver.js';
import { GpuNcaEngine } from '../../runtime/engine/engine.js';
import { SharedGpu, type SharedClient } from '../../runtime/engine/shared.js';
import { createArchitecture, createModel } from '../../runtime/format/index.js';

interface FakeDevice extends LosableDevice {
  lose(info: DeviceLostInfo): void;
}

function fakeDevice(): FakeDevice {
  let lose!: (info: DeviceLostInfo) => void;
  const lost = new Promise<DeviceLostInfo>((resolve) => (lose = resolve));
  return { lost, lose };
}

/** Lets every pending promise callback run. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

function recordingClient(): SharedClient & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    contextLost: () => calls.push('lost'),
    contextRestored: () => calls.push('restored'),
    contextFailed: (error) => calls.push(`failed: ${error.message}`),
  };
}

const originalNavigator = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
afterEach(() => {
  if (originalNavigator) Object.defineProperty(globalThis, 'navigator', originalNavigator);
  else delete (globalThis as { navigator?: unknown }).navigator;
});

describe('WebGPU device loss', () => {
  it("an engine joining a webgpu instance watches gpu.js's device; its loss pauses, then restores on a fresh one", async () => {
    const devices: FakeDevice[] = [];
    const adapter = {
      limits: { maxStorageBufferBindingSize: 1 << 27, maxBufferSize: 1 << 28 },
      requestDevice: () => {
        const device = Object.assign(fakeDevice(), { queue: {}, onuncapturederror: null });
        devices.push(device);
        return Promise.resolve(device);
      },
    };
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: { requestAdapter: () => Promise.resolve(adapter) } }, configurable: true, writable: true });
    const shared = new SharedGpu('webgpu');
    const client = recordingClient();
    shared.join(client);
    await settle();
    assert.equal(devices.length, 1, 'the device was acquired through gpu.js');
    const first = shared.gpu;
    devices[0]!.lose({ reason: 'unknown', message: 'test: device hung' });
    await settle();
    assert.deepEqual(client.calls, ['lost', 'restored']);
    assert.notEqual(shared.gpu, first, 'a fresh GPU instance after the loss');
    assert.equal(shared.lost, false);
    assert.equal(devices.length, 2, 'a fresh device was acquired and is watched');
    devices[1]!.lose({ reason: 'unknown', message: 'again' });
    await settle();
    assert.deepEqual(client.calls, ['lost', 'restored', 'lost', 'restored']);
    shared.leave(client);
  });

  it(`a device lost more than ${MAX_DEVICE_RESTORES} times: the clients fail instead of rebuilding forever`, async () => {
    const shared = new SharedGpu('cpu');
    const client = recordingClient();
    shared.join(client);
    for (let i = 0; i <= MAX_DEVICE_RESTORES; i++) {
      const device = fakeDevice();
      shared.watchDevice(device);
      device.lose({ reason: 'unknown', message: `loss ${i}` });
      await settle();
    }
    const expected = [...Array.from({ length: MAX_DEVICE_RESTORES }, () => ['lost', 'restored']).flat(), 'lost'];
    assert.deepEqual(client.calls.slice(0, -1), expected);
    assert.match(client.calls.at(-1)!, /^failed: the WebGPU device was lost 4 times \(unknown: loss 3\); giving up/);
    shared.leave(client);
  });

  it('a device destroyed after the last engine left (our own teardown) is not a loss', async () => {
    const shared = new SharedGpu('cpu');
    const client = recordingClient();
    shared.join(client);
    const device = fakeDevice();
    shared.watchDevice(device);
    shared.leave(client);
    device.lose({ reason: 'destroyed', message: '' });
    await settle();
    assert.deepEqual(client.calls, []);
  });

  describe('an engine on the instance', () => {
    const model = createModel(createArchitecture({ rule: 'essay', hidden: 4 }), { gridWidth: 4, gridHeight: 4 });

    /**
     * A driver whose uploads settle later, as webgpu's do (once `hold` is false, or when `release`
     * is called); `failRebuild` makes the rebuild throw.
     */
    function asyncDriver(failRebuild = false): Driver & { loads: number; hold: boolean; release: () => void } {
      let pending: (() => void) | undefined;
      const driver = {
        backend: 'webgpu' as const,
        loads: 0,
        hold: false,
        release: () => pending?.(),
        init: () => Promise.resolve(),
        load: () => {
          driver.loads++;
          return driver.hold ? new Promise<void>((resolve) => (pending = resolve)) : Promise.resolve();
        },
        step: () => Promise.resolve(),
        damage: () => undefined,
        plant: () => undefined,
        read: () => Promise.resolve(new Float32Array(0)),
        render: () => undefined,
        rebuild: () => {
          if (failRebuild) throw new Error('test: no device to rebuild on');
        },
        dispose: () => undefined,
      };
      return driver;
    }

    function engineOn(shared: SharedGpu, driver: Driver): { engine: GpuNcaEngine; events: string[] } {
      const engine = new GpuNcaEngine({
        model,
        selection: { chosen: 'webgpu', skipped: [] },
        shared,
        driver,
        width: 4,
        height: 4,
        seed: 0,
        start: () => new Float32Array(4 * 4 * 16),
        fromImage: () => new Float32Array(4 * 4 * 16),
      });
      const events: string[] = [];
      for (const type of ['context-lost', 'context-restored', 'error']) engine.addEventListener(type, () => events.push(type));
      return { engine, events };
    }

    it('pauses on the loss (operations skipped), then resumes from its start once the upload on the new device settles', async () => {
      const shared = new SharedGpu('cpu');
      const driver = asyncDriver();
      const { engine, events } = engineOn(shared, driver);
      await engine.step(3);
      assert.equal(engine.stepCount, 3);
      const device = fakeDevice();
      shared.watchDevice(device);
      driver.hold = true;
      device.lose({ reason: 'unknown', message: 'test' });
      await settle();
      assert.deepEqual(events, ['context-lost']);
      assert.equal(engine.paused, true);
      await engine.step(5); // skipped while paused
      assert.equal(engine.stepCount, 3);
      driver.release();
      await settle();
      assert.deepEqual(events, ['context-lost', 'context-restored']);
      assert.equal(engine.paused, false);
      assert.equal(engine.stepCount, 0);
      assert.equal(driver.loads, 1, 'the start state was uploaded to the new device');
      engine.dispose();
    });

    it('a rebuild that fails: error, and the engine stays paused', async () => {
      const shared = new SharedGpu('cpu');
      const { engine, events } = engineOn(shared, asyncDriver(true));
      const device = fakeDevice();
      shared.watchDevice(device);
      device.lose({ reason: 'unknown', message: 'test' });
      await settle();
      assert.deepEqual(events, ['context-lost', 'error']);
      assert.equal(engine.paused, true);
      engine.dispose();
    });
  });
});
