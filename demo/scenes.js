// Scenes: start images scaled to the model's training size, Replay buttons, a step readout.

/**
 * The element fits a start image into the grid, but a model is trained on a sprite of its target
 * size (smaller than the grid, which has a margin to grow into). A 64-pixel sprite on a model
 * trained at 40 would start far too big, so elements marked `data-fit-start` get their start image
 * scaled down to the model's target size once the model is known: its `nca-backend` event comes
 * before the start is applied, and the sprite is decoded ahead, so the swap happens before (or
 * at worst right after) the first frame.
 */
const bitmaps = new Map(); // href -> Promise<ImageBitmap | undefined>
const scaled = new Map(); // "href@WxH" -> Promise<blob URL | undefined>

function bitmap(href) {
  if (!bitmaps.has(href)) {
    bitmaps.set(
      href,
      fetch(new URL(href, document.baseURI))
        .then((response) => (response.ok ? response.blob().then((blob) => createImageBitmap(blob)) : undefined))
        .catch(() => undefined), // the element reports a bad start image itself
    );
  }
  return bitmaps.get(href);
}

function fittedStart(href, maxWidth, maxHeight) {
  const key = `${href}@${maxWidth}x${maxHeight}`;
  if (!scaled.has(key)) {
    scaled.set(
      key,
      bitmap(href)
        .then(async (image) => {
          if (image === undefined) return undefined;
          const scale = Math.min(1, maxWidth / image.width, maxHeight / image.height);
          if (scale === 1) return undefined;
          const width = Math.max(1, Math.round(image.width * scale));
          const height = Math.max(1, Math.round(image.height * scale));
          const canvas = new OffscreenCanvas(width, height);
          const context = canvas.getContext('2d');
          context.imageSmoothingQuality = 'high';
          context.drawImage(image, 0, 0, width, height);
          return URL.createObjectURL(await canvas.convertToBlob({ type: 'image/png' }));
        })
        .catch(() => undefined),
    );
  }
  return scaled.get(key);
}

for (const sprite of document.querySelectorAll('nca-canvas[data-fit-start][start]')) bitmap(sprite.getAttribute('start'));

document.addEventListener('nca-backend', async (event) => {
  const sprite = event.target;
  if (!sprite.hasAttribute('data-fit-start')) return;
  const href = sprite.getAttribute('start');
  const metadata = sprite.model?.metadata;
  if (!href || !metadata) return;
  const url = await fittedStart(href, metadata.targetWidth, metadata.targetHeight);
  // The property, not the attribute: the markup keeps saying which sprite this scene starts from.
  if (url !== undefined && sprite.start !== url) sprite.start = url;
});

/**
 * The share of the grid's cells that are alive (alpha above the model's threshold), read back
 * from the engine: what overgrowth looks like as a number. At most one read per element in flight.
 */
const reading = new WeakSet();
async function showAlive(sprite, readout) {
  const engine = sprite.engine;
  const arch = sprite.model?.architecture;
  if (!engine || !arch || reading.has(sprite)) return;
  reading.add(sprite);
  try {
    const state = await engine.readState();
    let alive = 0;
    for (let i = arch.alphaChannel; i < state.length; i += arch.channels) if (state[i] > arch.aliveThreshold) alive++;
    readout.textContent = `${Math.round((100 * alive * arch.channels) / state.length)}%`;
  } catch {
    // A lost or replaced engine: the next step event reads again.
  } finally {
    reading.delete(sprite);
  }
}

document.addEventListener('nca-step', (event) => {
  const figure = event.target.closest('figure');
  const readout = figure?.querySelector('[data-steps]');
  if (readout) readout.textContent = String(event.detail.stepCount);
  const alive = figure?.querySelector('[data-alive]');
  if (alive) showAlive(event.target, alive);
});

for (const button of document.querySelectorAll('[data-replay]')) {
  button.addEventListener('click', async () => {
    const sprite = document.getElementById(button.dataset.replay);
    await sprite.reset();
    sprite.play();
    const readout = sprite.closest('figure')?.querySelector('[data-steps]');
    if (readout) readout.textContent = String(sprite.stepCount);
  });
}
