/**
 * GPU resources in Chromium: a disposed engine leaves no texture behind (counted by wrapping
 * createTexture/deleteTexture on the page) and steps allocate none; twenty engines share one
 * context and all run (RELIABILITY 14); a lost WebGL context pauses every engine on it and a
 * restored one rebuilds them (RELIABILITY 15).
 */
import { expect, test } from '@playwright/test';
import { openHarness } from './pages/runtime/helpers.js';

for (const backend of ['webgl2', 'webgl'] as const) {
  test(`${backend}: dispose frees every texture; steps allocate none`, async ({ page }) => {
    await openHarness(page);
    const result = await page.evaluate(async (name) => {
      const { nca } = window;
      const model = nca.randomModel('distill', 16, 9, 24, 20);
      let keeper;
      try {
        // Keeps the shared context alive, so what the second engine leaves behind shows.
        keeper = await nca.createEngine(model, { backend: name });
      } catch (error) {
        if (nca.isNcaEngineError(error)) return { skip: error.skipped.map((s) => s.reason).join('; ') };
        throw error;
      }
      const gl = nca.sharedContext(name);
      const baseline = nca.liveTextures(gl);
      const engine = await nca.createEngine(nca.randomModel('essay', 16, 10, 30, 18), { backend: name, seed: 1 });
      const created = nca.liveTextures(gl);
      // The state ping-pongs between two textures of the kernel that makes it: after the second
      // step nothing more is created.
      await engine.step(2);
      const afterTwo = nca.liveTextures(gl);
      await engine.step(20);
      const afterTwentyTwo = nca.liveTextures(gl);
      await engine.damage(5, 5, 3);
      await engine.plant(2, 2);
      engine.render(document.createElement('canvas'));
      await engine.readState();
      await engine.setStateFromImage(new Uint8Array(4 * 4 * 4).fill(200), 4, 4);
      await engine.reset();
      await engine.step(3);
      engine.dispose();
      const afterDispose = nca.liveTextures(gl);
      await keeper.step(2);
      keeper.dispose();
      return { baseline, created, afterTwo, afterTwentyTwo, afterDispose };
    }, backend);
    if ('skip' in result) {
      test.skip(true, `${backend} unavailable here: ${result.skip}`);
      return;
    }
    console.log(`[runtime-resources] ${backend} live textures: ${JSON.stringify(result)}`);
    expect(result.created).toBeGreaterThan(result.baseline);
    expect(result.afterTwentyTwo, 'no texture per step').toBe(result.afterTwo);
    expect(result.afterDispose, 'dispose deletes every texture it made').toBe(result.baseline);
  });
}

test('20 engines on one page share one GL context and all run', async ({ page }) => {
  await openHarness(page);
  const result = await page.evaluate(async () => {
    const { nca } = window;
    const engines = [];
    // Counted from the first engine on: gpu.js's own feature test makes one context of its own.
    let before = 0;
    try {
      for (let i = 0; i < 20; i++) {
        engines.push(await nca.createEngine(nca.randomModel(i % 2 ? 'essay' : 'distill', 16, 100 + i, 16 + (i % 3) * 4, 16), { backend: 'webgl2', seed: i }));
        if (i === 0) before = nca.contexts().length;
      }
    } catch (error) {
      for (const e of engines) e.dispose();
      if (nca.isNcaEngineError(error)) return { skip: error.skipped.map((s) => s.reason).join('; ') };
      throw error;
    }
    const newContexts = nca.contexts().length - before;
    const painted: number[] = [];
    const matches: number[] = [];
    for (let frame = 0; frame < 3; frame++) {
      for (const engine of engines) {
        await engine.step(2);
        const canvas = document.createElement('canvas');
        engine.render(canvas);
        if (frame === 2) {
          // Each engine's picture, though all draw through one shared canvas of another size.
          const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
          const state = { width: engine.width, height: engine.height, channels: 16, data: await engine.readState() };
          const wanted = nca.toRgba(state, engine.model.architecture);
          let n = 0;
          let wrong = 0;
          for (let i = 3; i < px.length; i += 4) {
            if (px[i]! > 0) n++;
            if (Math.abs(px[i]! - wanted[i]!) > 1) wrong++;
          }
          painted.push(wrong === 0 ? n : -wrong);
        }
      }
    }
    for (const engine of engines) {
      const expected = nca.runSteps(engine.model.architecture, nca.startState(engine.model), { seed: engines.indexOf(engine), steps: 6 });
      matches.push(nca.compare(await engine.readState(), expected.data, 1e-5).over);
    }
    const steps = engines.map((e) => e.stepCount);
    for (const engine of engines) engine.dispose();
    return { newContexts, painted, matches, steps };
  });
  if ('skip' in result) {
    test.skip(true, `webgl2 unavailable here: ${result.skip}`);
    return;
  }
  console.log(`[runtime-resources] 20 engines: ${result.newContexts} more GL context(s) after the first engine, painted cells ${result.painted.join(',')}`);
  expect(result.newContexts, 'engines 2..20 open no context').toBe(0);
  expect(result.steps).toEqual(Array(20).fill(6));
  expect(result.matches).toEqual(Array(20).fill(0));
  // Cells drawn per engine; a negative count is the number of pixels whose alpha is wrong.
  for (const n of result.painted) expect(n).toBeGreaterThan(0);
});

test('20 engines in auto mode all run', async ({ page }) => {
  await openHarness(page);
  const result = await page.evaluate(async () => {
    const { nca } = window;
    const engines = await Promise.all(Array.from({ length: 20 }, (_, i) => nca.createEngine(nca.randomModel('essay', 16, 200 + i, 20, 20), { seed: i })));
    await Promise.all(engines.map((e) => e.step(3)));
    const over = await Promise.all(
      engines.map(async (e, i) => nca.compare(await e.readState(), nca.runSteps(e.model.architecture, nca.startState(e.model), { seed: i, steps: 3 }).data, 1e-5).over),
    );
    const backends = [...new Set(engines.map((e) => e.backend))];
    for (const e of engines) e.dispose();
    return { over, backends };
  });
  console.log(`[runtime-resources] 20 engines in auto mode ran on ${result.backends.join(', ')}`);
  expect(result.backends).toHaveLength(1);
  expect(result.over).toEqual(Array(20).fill(0));
});

test('webgl2 context loss pauses every engine on it; restore rebuilds them', async ({ page }) => {
  await openHarness(page);
  const ready = await page.evaluate(async () => {
    const { nca } = window;
    try {
      const a = await nca.createEngine(nca.randomModel('distill', 16, 1, 20, 20), { backend: 'webgl2', seed: 3 });
      const b = await nca.createEngine(nca.randomModel('essay', 16, 2, 16, 12), { backend: 'webgl2', seed: 4 });
      const events: string[] = [];
      for (const [name, engine] of [
        ['a', a],
        ['b', b],
      ] as const) {
        engine.addEventListener('context-lost', (e) => events.push(`${name}:${e.type}:${(e as CustomEvent<{ backend: string }>).detail.backend}`));
        engine.addEventListener('context-restored', (e) => events.push(`${name}:${e.type}`));
      }
      await a.step(4);
      await b.step(4);
      // Taken now: a lost context answers getExtension with null.
      const loser = nca.sharedContext('webgl2')!.getExtension('WEBGL_lose_context')!;
      Object.assign(window, { lossTest: { a, b, events, loser } });
      return { ok: true as const };
    } catch (error) {
      if (nca.isNcaEngineError(error)) return { skip: error.skipped.map((s) => s.reason).join('; ') };
      throw error;
    }
  });
  if ('skip' in ready) {
    test.skip(true, `webgl2 unavailable here: ${ready.skip}`);
    return;
  }
  type LossWindow = Window & {
    lossTest: { a: import('../../runtime/engine/types.js').NcaEngine; b: import('../../runtime/engine/types.js').NcaEngine; events: string[]; loser: WEBGL_lose_context };
  };
  await page.evaluate(() => {
    (window as unknown as LossWindow).lossTest.loser.loseContext();
  });
  await page.waitForFunction(() => (window as unknown as LossWindow).lossTest.events.filter((e) => e.includes('context-lost')).length === 2);
  const whileLost = await page.evaluate(async () => {
    const { a, b } = (window as unknown as LossWindow).lossTest;
    const stepsBefore = a.stepCount;
    await a.step(3);
    a.render(document.createElement('canvas'));
    const read = await a.readState().then(
      () => 'resolved',
      (error: { code?: string }) => error.code ?? 'rejected',
    );
    return { paused: [a.paused, b.paused], stepsBefore, stepsAfter: a.stepCount, read };
  });
  expect(whileLost.paused).toEqual([true, true]);
  expect(whileLost.stepsAfter, 'steps are skipped while paused').toBe(whileLost.stepsBefore);
  expect(whileLost.read).toBe('paused');

  await page.evaluate(() => {
    (window as unknown as LossWindow).lossTest.loser.restoreContext();
  });
  await page.waitForFunction(() => (window as unknown as LossWindow).lossTest.events.filter((e) => e.includes('context-restored')).length === 2);
  const restored = await page.evaluate(async () => {
    const { nca } = window;
    const { a, b, events } = (window as unknown as LossWindow).lossTest;
    const startMatches = nca.compare(await a.readState(), nca.startState(a.model).data, 0).over;
    await a.step(5);
    await b.step(5);
    const expected = nca.runSteps(a.model.architecture, nca.startState(a.model), { seed: 3, steps: 5 });
    const over = nca.compare(await a.readState(), expected.data, 1e-5).over;
    const canvas = document.createElement('canvas');
    b.render(canvas);
    const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < px.length; i += 4) if (px[i]! > 0) painted++;
    const result = { paused: [a.paused, b.paused], steps: [a.stepCount, b.stepCount], startMatches, over, painted, events };
    a.dispose();
    b.dispose();
    return result;
  });
  console.log(`[runtime-resources] context loss: ${JSON.stringify(restored)}`);
  expect(restored.paused).toEqual([false, false]);
  expect(restored.startMatches, 'the state restarts from reset').toBe(0);
  expect(restored.steps).toEqual([5, 5]);
  expect(restored.over).toBe(0);
  expect(restored.painted).toBeGreaterThan(0);
  expect(restored.events).toEqual(['a:context-lost:webgl2', 'b:context-lost:webgl2', 'a:context-restored', 'b:context-restored']);
});
